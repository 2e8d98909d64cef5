"""`carelens demo`: the main job end to end on synthetic data that carelens generates itself."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def demo() -> None:
        """Generate demo data, classify it with the packaged model, and load the store."""
        raise typer.Exit("the demo is not built yet")
