"""`carelens config show`: the settings in force, where each came from, and where the store is.

Why: a trust's administrator needs to see which file and which environment variables the server
will read before starting it; settings are validated on the way, so a bad value is reported here
in one line instead of at the first request.
"""

from __future__ import annotations

import typer

from carelens.cli import options as opt

app = opt.typer_app()


@app.command()
def show() -> None:
    """Print the settings file's location, the store, and every setting with its source.

    Example:

    ```
    CARELENS_SUPPRESS_BELOW=20 carelens config show
    ```
    """
    from carelens.config import config_file_path, load_settings, settings_sources

    settings = load_settings()
    path = config_file_path()
    sources = settings_sources(settings)
    typer.echo(f"settings file: {path} ({'found' if path.exists() else 'not found: defaults and environment only'})")
    typer.echo(f"store: {_safe_url(settings.database_url)}")
    for name in type(settings).model_fields:
        if name == "api_keys":
            continue  # plain keys are hashed on load and never shown
        value = getattr(settings, name)
        if name == "api_key_hashes":
            value = f"{len(value)} key(s)"
        elif name == "database_url":
            value = _safe_url(value)
        elif isinstance(value, tuple):
            value = ", ".join(value)
        typer.echo(f"  {name} = {value}  [{sources[name]}]")


def _safe_url(url: str) -> str:
    import sqlalchemy as sa

    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url
