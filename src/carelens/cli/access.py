"""`carelens users ...`, `carelens keys ...`, `carelens audit ...`: access control from the command line.

The command line reaches the store directly, so whoever runs it already holds the data; what it
does is recorded in the audit log under the operating-system user (``cli:<user>``), like a load.
The dashboard's Admin page does the same through the same functions (``carelens.access``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from carelens.cli import options as opt

users_app = opt.typer_app()
keys_app = opt.typer_app()
audit_app = opt.typer_app()

ROLES_HELP = "admin, feedback_lead, viewer (needs --location), caller, planner, or none"


def _role_option(required: bool = True):
    return typer.Option(... if required else None, "--role", help=f"The role: {ROLES_HELP}.")


def _locations_option():
    return typer.Option(None, "--location", help="A place a viewer may see (repeatable): a name at any location level "
                        "(`Ward 7`) or LEVEL=NAME (`3=Ward 7`, `Division=Surgery`).")


def record(db: str | None, action: str, target: str, detail: dict | None = None, outcome: str = "ok") -> None:
    """Record a command's change to the store in the audit log, as the operating-system user."""
    from carelens.access import audit, cli_principal

    audit.record(_engine(db), cli_principal(), action, target, detail, outcome)


def _engine(db: str | None):
    from carelens.db import get_engine

    return get_engine(db)


def _levels() -> tuple[str, ...]:
    from carelens.config import load_settings

    return load_settings().location_levels


def _scope(locations: list[str] | None):
    from carelens.access.roles import Scope, parse_place

    levels = _levels()
    return Scope(places=frozenset(parse_place(p, levels) for p in locations or ()))


def _check_viewer_scope(role, scope) -> None:
    from carelens.access.roles import Role

    if role is Role.VIEWER and not scope.places:
        opt.warn("a viewer with no --location sees no feedback until one is given (`carelens users set NAME --location ...`)")


def _new_password(password_stdin: bool, generate: bool, username: str) -> tuple[str, bool]:
    """(password, whether to print it): read from stdin, generated, or typed twice at a terminal."""
    from carelens.access.passwords import MIN_LENGTH, check_strength, generate_password
    from carelens.errors import AccessError

    if password_stdin and generate:
        raise AccessError("give --password-stdin or --generate-password, not both", field="--password-stdin")
    if generate:
        return generate_password(), True
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = typer.prompt(f"Password for {username} (at least {MIN_LENGTH} characters)", hide_input=True,
                                confirmation_prompt=True)
    else:
        raise AccessError("no password: type one at a terminal, or give --password-stdin or --generate-password "
                          "(or --sso for a single sign-on user)", field="--password-stdin")
    check_strength(password, username=username)
    return password, False


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="The username (lower case; an email address or UPN for single sign-on)."),
    role: str = _role_option(),
    location: list[str] = _locations_option(),
    display_name: str | None = typer.Option(None, "--display-name", help="The name shown on pages (default: the username)."),
    sso: bool = typer.Option(False, "--sso", help="No local password: the user signs in by single sign-on or through "
                             "the trusted proxy only."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin."),
    generate_password: bool = typer.Option(False, "--generate-password", help="Make a strong password and print it once."),
    db: str | None = opt.store(),
) -> None:
    """Add a member of staff with a role (and, for a viewer, the places they may see).

    Without --sso the user gets a local password: typed twice at a terminal, read with
    --password-stdin, or made with --generate-password (printed once, then never again).

    Example:

    ```
    carelens users add jsmith --role viewer --location "Ward 7" --location "3=Ward 9" --generate-password
    ```
    """
    from carelens.access import cli_principal, users
    from carelens.access.roles import parse_role

    parsed = parse_role(role, field="--role")
    scope = _scope(location)
    _check_viewer_scope(parsed, scope)
    username = users.normalise_username(name)
    password, show = (None, False) if sso else _new_password(password_stdin, generate_password, username)
    users.add_user(_engine(db), username, role=parsed, scope=scope, password=password, display_name=display_name,
                   actor=cli_principal())
    typer.echo(f"added {username}: role {parsed.value if parsed else 'none'}"
               + (f", locations {scope.describe(_levels())}" if scope.places else ""))
    if show:
        typer.echo(f"password (shown once): {password}")


@users_app.command("list")
def users_list(db: str | None = opt.store()) -> None:
    """List every user with their role, locations, how they sign in, and whether they are disabled or locked.

    Example:

    ```
    carelens users list --db store.duckdb
    ```
    """
    from carelens.access import users

    frame = users.list_users(_engine(db), _levels())
    typer.echo("no users yet: `carelens users add NAME --role ROLE`" if frame.empty else frame.to_string(index=False))


@users_app.command("set")
def users_set(
    name: str = typer.Argument(..., help="The username."),
    role: str | None = _role_option(required=False),
    location: list[str] = _locations_option(),
    no_locations: bool = typer.Option(False, "--no-locations", help="Remove every location (a viewer then sees nothing)."),
    display_name: str | None = typer.Option(None, "--display-name", help="The name shown on pages."),
    db: str | None = opt.store(),
) -> None:
    """Change a user's role, locations or display name; takes effect at their next click.

    --location replaces the user's locations with the ones given.

    Example:

    ```
    carelens users set jsmith --role viewer --location "Division=Surgery"
    ```
    """
    from carelens.access import cli_principal, users
    from carelens.access.roles import Role, Scope, parse_role
    from carelens.errors import AccessError

    changes: dict = {}
    if role is not None:
        changes["role"] = parse_role(role, field="--role")
    if location and no_locations:
        raise AccessError("give --location or --no-locations, not both", field="--location")
    if location or no_locations:
        changes["scope"] = _scope(location) if location else Scope()
    if display_name is not None:
        changes["display_name"] = display_name
    if not changes:
        raise AccessError("nothing to change: give --role, --location, --no-locations or --display-name", field="--role")
    row = users.change_user(_engine(db), name, actor=cli_principal(), **changes)
    final_role = Role(row["role"]) if row["role"] else None
    _check_viewer_scope(final_role, Scope.from_json(row["scope"]))
    typer.echo(f"changed {row['username']}: role {row['role'] or 'none'}"
               + (f", locations {Scope.from_json(row['scope']).describe(_levels())}" if row["scope"] else ""))


@users_app.command("disable")
def users_disable(name: str = typer.Argument(..., help="The username."), db: str | None = opt.store()) -> None:
    """Disable a user: signed out everywhere at once, and refused from then on (their record stays).

    Example:

    ```
    carelens users disable jsmith
    ```
    """
    from carelens.access import cli_principal, users

    row = users.change_user(_engine(db), name, disabled=True, actor=cli_principal())
    typer.echo(f"disabled {row['username']}")


@users_app.command("enable")
def users_enable(name: str = typer.Argument(..., help="The username."), db: str | None = opt.store()) -> None:
    """Enable a disabled user again.

    Example:

    ```
    carelens users enable jsmith
    ```
    """
    from carelens.access import cli_principal, users

    row = users.change_user(_engine(db), name, disabled=False, actor=cli_principal())
    typer.echo(f"enabled {row['username']}")


@users_app.command("reset-password")
def users_reset_password(
    name: str = typer.Argument(..., help="The username."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin."),
    generate_password: bool = typer.Option(False, "--generate-password", help="Make a strong password and print it once."),
    db: str | None = opt.store(),
) -> None:
    """Set a new local password (unlocks the account and signs the user out everywhere).

    Example:

    ```
    carelens users reset-password jsmith --generate-password
    ```
    """
    from carelens.access import cli_principal, users

    username = users.normalise_username(name)
    password, show = _new_password(password_stdin, generate_password, username)
    users.set_password(_engine(db), username, password, actor=cli_principal())
    typer.echo(f"password of {username} reset")
    if show:
        typer.echo(f"password (shown once): {password}")


@keys_app.command("create")
def keys_create(
    name: str = typer.Argument(..., help="A name for the key (what it is for, e.g. etl-feed)."),
    role: str = _role_option(),
    location: list[str] = _locations_option(),
    db: str | None = opt.store(),
) -> None:
    """Create an API key with a role (and, for a viewer, locations). The key is printed once.

    Send it as `X-API-Key: KEY` or `Authorization: Bearer KEY`. Only its hash is stored: a lost
    key cannot be shown again; revoke it and create another.

    Example:

    ```
    carelens keys create etl-feed --role admin
    ```
    """
    from carelens.access import cli_principal, keys
    from carelens.access.roles import parse_role

    parsed = parse_role(role, field="--role")
    scope = _scope(location)
    _check_viewer_scope(parsed, scope)
    key = keys.create_key(_engine(db), name, role=parsed, scope=scope, actor=cli_principal())
    typer.echo(f"key {name} (role {parsed.value if parsed else 'none'}), shown once:", err=True)
    typer.echo(key)


@keys_app.command("list")
def keys_list(db: str | None = opt.store()) -> None:
    """List API keys (names, roles, who made and revoked them; never the keys themselves).

    Example:

    ```
    carelens keys list
    ```
    """
    from carelens.access import keys

    frame = keys.list_keys(_engine(db), _levels())
    typer.echo("no keys yet: `carelens keys create NAME --role ROLE`" if frame.empty else frame.to_string(index=False))


@keys_app.command("revoke")
def keys_revoke(name: str = typer.Argument(..., help="The key's name."), db: str | None = opt.store()) -> None:
    """Revoke an API key: refused from its next request on, with no restart.

    Example:

    ```
    carelens keys revoke etl-feed
    ```
    """
    from carelens.access import cli_principal, keys

    keys.revoke_key(_engine(db), name, actor=cli_principal())
    typer.echo(f"revoked {name}")


@audit_app.command("list")
def audit_list(
    since: str | None = typer.Option(None, "--since", help="First day (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Last day (YYYY-MM-DD), included."),
    user: str | None = typer.Option(None, "--user", help="Only this actor (`alice`, `key:etl-feed`, `cli:jsmith`)."),
    action: str | None = typer.Option(None, "--action", help="Only this action (view, export, upload, correct, flag, "
                                      "record_call, run_projection, sign_in, sign_in_failed, user_add, key_create, ...)."),
    outcome: str | None = typer.Option(None, "--outcome", help="ok, refused or failed."),
    limit: int = typer.Option(200, "--limit", min=1, help="Most events shown (newest first); -o writes every match."),
    output: Path | None = opt.output("Write the events to a file (.csv, .xlsx, .parquet) instead of the screen.",
                                     required=False),
    db: str | None = opt.store(),
) -> None:
    """Read the audit log: who viewed, exported, uploaded, changed what, when, and the outcome.

    Example:

    ```
    carelens audit list --since 2025-04-01 --user jsmith -o audit.xlsx
    ```
    """
    from datetime import date

    from carelens.access import audit, cli_principal
    from carelens.errors import ConfigError

    if outcome and outcome not in audit.OUTCOMES:
        raise ConfigError(f"unknown outcome {outcome!r}: use {', '.join(audit.OUTCOMES)}", field="--outcome")
    since_d = date.fromisoformat(opt.parse_date(since, "--since")[:10]) if since else None
    until_d = date.fromisoformat(opt.parse_date(until, "--until")[:10]) if until else None
    if output is not None:
        from carelens.tables import write_table

        target = opt.table_output(output)
    engine = _engine(db)
    frame = audit.events(engine, since=since_d, until=until_d, actor=user, action=action, outcome=outcome,
                         limit=None if output is not None else limit)
    if output is not None:
        write_table(frame, target, for_spreadsheet=True)
        audit.record(engine, cli_principal(), "audit_export", target.name,
                     {"events": len(frame), "since": since, "until": until, "user": user, "action": action})
        typer.echo(f"{len(frame):,} events written to {target}")
        return
    typer.echo("no events match" if frame.empty else frame.to_string(index=False, max_colwidth=80))


@audit_app.command("prune")
def audit_prune(
    older_than: str | None = typer.Option(None, "--older-than", help="Remove events older than this length "
                                          "(`90d`, `12m`, `2y`; default: the audit_retention_days setting)."),
    db: str | None = opt.store(),
) -> None:
    """Remove audit events older than the retention (the pruning itself is recorded).

    Example:

    ```
    carelens audit prune --older-than 2y
    ```
    """
    from carelens.access import audit, cli_principal
    from carelens.config import load_settings

    days = load_settings().audit_retention_days
    if older_than:
        import pandas as pd

        today = pd.Timestamp.today().normalize()
        days = max(1, int((today - (today - opt.parse_length(older_than, "--older-than").offset())).days))
    gone = audit.prune(_engine(db), days, cli_principal())
    typer.echo(f"removed {gone:,} audit events older than {days:,} days")
