"""`carelens demand ...` commands: run a scenario, make a synthetic trust, validate params.

Only parsing and presenting live here; the work is in ``carelens.demand``. Options as in
docs/cli.md.
"""

from __future__ import annotations

from pathlib import Path

import typer

from carelens.cli import options as opt

app = opt.typer_app()

DATA = typer.Option(..., "--data", "-d", metavar="DIR", help="Trust data folder (NHP parquet layout or simple layout).")
OLD_OUT = opt.old("--out", "-o/--output")


@app.command("run")
def run_command(
    params: Path = typer.Argument(..., metavar="PARAMS", help="Scenario params JSON (NHP format)."),
    data: Path = DATA,
    output: Path | None = opt.output("Output folder (summary.csv, capacity.csv, runs.parquet, ...).", required=False),
    runs: int | None = typer.Option(None, "--runs", help="Monte Carlo runs (default: the params' model_runs)."),
    seed: int | None = opt.seed("Override the params' seed (the same seed gives the same projection)."),
    workers: int = opt.workers("Worker processes.", 2),
    capacity: Path | None = typer.Option(None, "--capacity", metavar="FILE", help="Capacity assumptions JSON (overrides)."),
    dataset: str | None = typer.Option(None, "--dataset", help="NHP dataset name (default: the params', else the only one)."),
    db: str | None = opt.store("to also write the results to (tables demand_*)"),
    out: Path | None = OLD_OUT,
) -> None:
    """Project activity to the horizon year, with capacity, and write OUTPUT/summary.csv and friends.

    Example:

    ```
    carelens demand run trust/params.json -d trust -o projection \\
        --runs 256 --db store.duckdb
    ```
    """
    import time
    import warnings

    from carelens.demand import load_params, run_model
    from carelens.demand.data import load_data_for
    from carelens.demand.outputs import result_tables, write_outputs
    from carelens.demand.store import write_to_store
    from carelens.errors import ConfigError, ParamsError

    output = opt.renamed(output, out, new="-o/--output", old="--out")
    if output is None:
        raise ConfigError("say where to write the results: -o/--output FOLDER", field="--output")
    p = load_params(params, capacity=capacity)
    if runs is not None and runs < 0:
        raise ParamsError("must be 0 or more", field="--runs")
    d = load_data_for(data, p, dataset=dataset)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_model(p, d, runs=runs, workers=workers, seed=seed, progress=True)
    for w in caught:
        opt.warn(str(w.message))
    tables = result_tables(result)
    write_outputs(result, output, tables)
    if db:
        run_id = write_to_store(result, db, tables)
        from carelens.cli.access import record

        record(db, "run_projection", str(run_id), {"runs": int((result.model_runs > 0).sum())})
        typer.echo(f"stored as run_id {run_id}")
    n = int((result.model_runs > 0).sum())
    typer.echo(f"{n} runs in {time.perf_counter() - started:.1f} s; wrote {output}/summary.csv")


@app.command("synth")
def synth_command(
    output: Path | None = opt.output("Folder to write the trust into (NHP layout).", required=False),
    spells: int = typer.Option(100_000, "--spells", help="Inpatient spells."),
    seed: int = opt.seed(default=1),
    start_year: int = typer.Option(2023, "--start-year", help="Baseline financial year (2023 = 2023/24)."),
    params: bool = typer.Option(True, "--params/--no-params", help="Also write a matching params.json."),
    out: Path | None = OLD_OUT,
) -> None:
    """Write a synthetic trust (all NHP tables, populations to 2047) of any size.

    Example:

    ```
    carelens demand synth -o trust --spells 20000 --seed 1
    ```
    """
    from carelens.demand.synth import synthesise
    from carelens.errors import ConfigError

    output = opt.renamed(output, out, new="-o/--output", old="--out")
    if output is None:
        raise ConfigError("say where to write the trust: -o/--output FOLDER", field="--output")
    path = synthesise(output, spells=spells, seed=seed, start_year=start_year, write_params=params)
    typer.echo(f"wrote a synthetic trust with {spells} spells to {path}")


@app.command("validate")
def validate_command(
    params: Path = typer.Argument(..., metavar="PARAMS", help="Scenario params JSON."),
    data: Path | None = typer.Option(None, "--data", "-d", metavar="DIR", help="Also check against this trust's data."),
) -> None:
    """Check a params file against the published schema (and optionally the data).

    Example:

    ```
    carelens demand validate trust/params.json -d trust
    ```
    """
    from carelens.demand import load_params

    p = load_params(params)
    if data is not None:
        from carelens.demand import Engine, load_data

        engine = Engine(p, load_data(data))
        for message in engine.warnings:
            opt.warn(message)
    typer.echo(f"{params}: valid")
