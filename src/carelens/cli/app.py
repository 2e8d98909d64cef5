"""The root ``carelens`` command.

Sub-commands live one module per capability and import their capability lazily inside each
command, so ``carelens --help`` starts fast and one capability's heavy imports never slow another.
"""

from __future__ import annotations

import sys

import typer

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


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line on stderr and exit code 2, never a traceback."""
    try:
        app(args=argv, standalone_mode=True)
    except CarelensError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        return 2
    except KeyboardInterrupt:
        typer.secho("interrupted", err=True)
        return 130
    except SystemExit as exc:  # typer/click exit codes pass through
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


def run() -> None:  # pragma: no cover - console script shim
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
