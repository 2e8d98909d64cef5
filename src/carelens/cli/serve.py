"""`carelens serve`: the dashboard and REST API in one process."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
        port: int = typer.Option(8000, help="Port to listen on."),
        db: str = typer.Option(None, "--db", help="SQLAlchemy URL or DuckDB file (default: settings)."),
    ) -> None:
        """Start the dashboard (/) and REST API (/api) in one process."""
        raise typer.Exit("the web app is not built yet")
