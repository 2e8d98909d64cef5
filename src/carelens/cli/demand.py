"""`carelens demand ...` commands: run a scenario, make a synthetic trust, validate params."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("run")
def run_command(
    params: Path = typer.Argument(..., help="Scenario params JSON (NHP format)."),
    data: Path = typer.Option(..., "--data", "-d", help="Trust data folder (NHP parquet layout or simple layout)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output folder."),
    runs: int | None = typer.Option(None, "--runs", help="Monte Carlo runs (default: the params' model_runs)."),
    workers: int = typer.Option(2, "--workers", help="Worker processes."),
    seed: int | None = typer.Option(None, "--seed", help="Override the params seed."),
    capacity: Path | None = typer.Option(None, "--capacity", help="Capacity assumptions JSON (overrides)."),
    dataset: str | None = typer.Option(None, "--dataset", help="NHP dataset name (default: the only one)."),
    db: str | None = typer.Option(None, "--db", help="Also write results to this database URL (or .duckdb path)."),
) -> None:
    """Project activity to the horizon year, with capacity, and write OUT/summary.csv and friends."""
    import time
    import warnings

    from carelens.demand import load_data, load_params, run_model
    from carelens.demand.outputs import result_tables, write_outputs
    from carelens.demand.store import write_to_store
    from carelens.errors import ParamsError

    p = load_params(params, capacity=capacity)
    if runs is not None and runs < 0:
        raise ParamsError("must be 0 or more", field="--runs")
    if dataset is None and _has_dataset(data, p.raw.get("dataset")):
        dataset = str(p.raw["dataset"])
    d = load_data(data, dataset=dataset, fyear=p.start_year if _has_year(data, p.start_year) else None)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_model(p, d, runs=runs, workers=workers, seed=seed, progress=True)
    for w in caught:
        typer.secho(f"warning: {w.message}", err=True, fg=typer.colors.YELLOW)
    tables = result_tables(result)
    write_outputs(result, out, tables)
    if db:
        run_id = write_to_store(result, db, tables)
        typer.echo(f"stored as run_id {run_id}")
    n = int((result.model_runs > 0).sum())
    typer.echo(f"{n} runs in {time.perf_counter() - started:.1f} s; wrote {out}/summary.csv")


def _has_dataset(root: Path, name: object) -> bool:
    return bool(name) and any(root.glob(f"*/fyear=*/dataset={name}"))


def _has_year(root: Path, year: int) -> bool:
    return any(root.glob(f"*/fyear={year}"))


@app.command("synth")
def synth_command(
    out: Path = typer.Option(..., "--out", "-o", help="Folder to write the trust into (NHP layout)."),
    spells: int = typer.Option(100_000, "--spells", help="Inpatient spells."),
    seed: int = typer.Option(1, "--seed", help="Random seed."),
    start_year: int = typer.Option(2023, "--start-year", help="Baseline financial year."),
    params: bool = typer.Option(True, "--params/--no-params", help="Also write a matching params.json."),
) -> None:
    """Write a synthetic trust (all NHP tables, populations to 2047) of any size."""
    from carelens.demand.synth import synthesise

    path = synthesise(out, spells=spells, seed=seed, start_year=start_year, write_params=params)
    typer.echo(f"wrote a synthetic trust with {spells} spells to {path}")


@app.command("validate")
def validate_command(
    params: Path = typer.Argument(..., help="Scenario params JSON."),
    data: Path | None = typer.Option(None, "--data", "-d", help="Also check against this trust's data."),
) -> None:
    """Check a params file against the published schema (and optionally the data)."""
    from carelens.demand import load_params

    p = load_params(params)
    if data is not None:
        from carelens.demand import Engine, load_data

        engine = Engine(p, load_data(data))
        for message in engine.warnings:
            typer.secho(f"warning: {message}", err=True, fg=typer.colors.YELLOW)
    typer.echo(f"{params}: valid")
