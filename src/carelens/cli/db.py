"""`carelens db ...`: the store's schema (migrations run automatically on first use too)."""

from __future__ import annotations

from carelens.cli import options as opt

app = opt.typer_app()


@app.command()
def upgrade(db: str | None = opt.store("to upgrade")) -> None:
    """Bring the store's schema up to the latest Alembic revision.

    Example:

    ```
    carelens db upgrade --db postgresql+psycopg://carelens@dbhost/carelens
    ```
    """
    import typer

    from carelens.db import current_revision, database_url, get_engine

    engine = get_engine(db)
    typer.echo(f"{database_url(db).split('@')[-1]}: schema at revision {current_revision(engine)}")


@app.command()
def current(db: str | None = opt.store()) -> None:
    """Show the store's schema revision without changing anything.

    Example:

    ```
    carelens db current --db store.duckdb
    ```
    """
    import typer

    from carelens.db import current_revision, get_engine

    typer.echo(current_revision(get_engine(db, migrate=False)) or "empty (no schema yet)")
