"""The root ``carelens`` command.

Sub-commands live one module per capability and import their capability lazily inside each
command, so ``carelens --help`` starts fast and one capability's heavy imports never slow another.
"""

from __future__ import annotations

import errno
import sys

import typer

try:  # typer >= 0.26 carries its own copy of click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - older typer on click
    from click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from carelens import __version__
from carelens.cli import access as access_cli
from carelens.cli import appointments as appointments_cli
from carelens.cli import config as config_cli
from carelens.cli import db as db_cli
from carelens.cli import demand as demand_cli
from carelens.cli import demo as demo_cli
from carelens.cli import feedback as feedback_cli
from carelens.cli import serve as serve_cli
from carelens.errors import CarelensError

app = typer.Typer(
    name="carelens",
    help="Decision tools for NHS trusts: patient feedback, missed appointments, demand and capacity. "
    "Options mean the same in every command (docs/cli.md): -o where to write, --db the carelens store, "
    "--column ROLE=NAME which column is which.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(feedback_cli.app, name="feedback", help="Classify, train on, evaluate and load patient feedback.")
app.add_typer(
    appointments_cli.app, name="appointments", help="Predict missed outpatient appointments (DNAs)."
)
app.add_typer(demand_cli.app, name="demand", help="Project hospital activity and the capacity it needs.")
app.add_typer(config_cli.app, name="config", help="Show the settings in force and where they come from.")
app.add_typer(db_cli.app, name="db", help="The store's database schema (Alembic migrations).")
app.add_typer(access_cli.users_app, name="users", help="Staff who sign in: add, list, set role and locations, disable.")
app.add_typer(access_cli.keys_app, name="keys", help="API keys: create (shown once), list, revoke.")
app.add_typer(access_cli.audit_app, name="audit", help="The audit log: who viewed, exported or changed what; prune.")
serve_cli.register(app)
demo_cli.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"carelens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """carelens: turn a trust's own data into decisions."""


# OS errors that are the user's environment, not a bug: a file or folder missing, in the way, not
# allowed, a disk full. Said in one line with the path; any other OSError keeps its traceback.
USER_ERRNOS = frozenset({errno.ENOENT, errno.EEXIST, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.ENOTDIR,
                         errno.EISDIR, errno.EROFS, errno.ENAMETOOLONG, errno.EDQUOT, errno.EFBIG})


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line on stderr and exit code 2, never a traceback.

    Three kinds are user errors: a :class:`CarelensError` (bad input, said where), a usage error
    (an unknown option, a value out of range: the option and the command's --help named, not
    typer's framed box), and an OS error of the user's environment (:data:`USER_ERRNOS`, with the
    path). Everything else is a bug and keeps its traceback.
    """
    try:
        result = app(args=argv, prog_name="carelens", standalone_mode=False)
    except CarelensError as exc:
        if exc.field:
            exc.field = option_named(sys.argv[1:] if argv is None else argv, exc.field)
        return _error(str(exc))
    except NoArgsIsHelpError as exc:  # `carelens feedback` alone: typer printed the group's help making it
        return exc.exit_code
    except UsageError as exc:
        command = exc.ctx.command_path if exc.ctx is not None else "carelens"
        return _error(f"{command}: {exc.format_message()} (see {command} --help)", exc.exit_code)
    except ClickException as exc:
        return _error(exc.format_message(), exc.exit_code)
    except typer.Abort:
        typer.secho("aborted", err=True)
        return 1
    except KeyboardInterrupt:
        typer.secho("interrupted", err=True)
        return 130
    except SystemExit as exc:  # typer/click exit codes pass through
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except OSError as exc:
        if exc.errno == errno.EPIPE:  # stdout piped into `head`, which has gone: nothing to say
            return 1
        if exc.errno not in USER_ERRNOS:
            raise
        where = exc.filename if exc.filename is not None else "carelens"
        return _error(f"{where}: {exc.strerror or exc}")
    return result if isinstance(result, int) else 0


def option_named(argv: list[str], field: str) -> str:
    """The command line's own name for ``field`` when it is one of the command's parameters.

    Why: the library names a bad value by its parameter (``seed``, ``status_map``), which is right
    for code calling it, but a person at the command line typed ``--seed`` and ``--status-map``;
    the error names what they typed. A field that is no parameter (a column, a file's key) is
    left as it is."""
    command = typer.main.get_command(app)
    words = [a for a in argv if not a.startswith("-")]
    while words and getattr(command, "commands", None) and words[0] in command.commands:
        command = command.commands[words.pop(0)]
    for param in getattr(command, "params", ()):
        if param.name == field and param.param_type_name == "option":
            return max(param.opts, key=len)
    return field


def _error(message: str, code: int = 2) -> int:
    """The one line every user error prints (line breaks inside a message joined, so it stays one)."""
    typer.secho(f"error: {' '.join(str(message).split())}", err=True, fg=typer.colors.RED)
    return code


def run() -> None:  # pragma: no cover - console script shim
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
