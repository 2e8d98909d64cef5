"""`carelens serve`: the dashboard and REST API in one process."""

from __future__ import annotations

import typer


from carelens.cli import options as opt


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 to share on a network)."),
        port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on (1-65535)."),
        db: str | None = opt.store("to serve"),
        root_path: str = typer.Option(
            "", "--root-path",
            help="Path prefix a reverse proxy serves carelens under, e.g. /carelens (the proxy strips it; "
                 "docs/deploy.md)."),
    ) -> None:
        """Start the dashboard (/) and REST API (/api) in one process. Other carelens commands can use
        a DuckDB store while it runs (they take turns on the file).

        Example:

        ```
        carelens serve --db store.duckdb --port 8080
        carelens serve --port 8000 --root-path /carelens    # behind nginx at https://server/carelens/
        ```
        """
        import uvicorn

        from carelens.config import load_settings
        from carelens.db import database_url, get_engine
        from carelens.db.engine import linger
        from carelens.web.app import create_app

        settings = load_settings()
        if db:
            settings = settings.with_database(database_url(db))
        engine = get_engine(settings.database_url)  # create / migrate now: a bad URL fails here, in one line
        linger(engine, settings.store_linger_seconds)  # a page view's queries open a DuckDB store once
        prefix = "/" + root_path.strip("/") if root_path.strip("/") else ""
        typer.echo(f"carelens: dashboard http://{host}:{port}/  API http://{host}:{port}/api/docs"
                   + (f"  (behind a proxy at {prefix}/)" if prefix else ""), err=True)
        uvicorn.run(create_app(settings), host=host, port=port, root_path=prefix, log_level="warning")

