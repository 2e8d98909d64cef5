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
    output: Path | None = opt.output("Output folder (summary.csv, capacity.csv, trajectories.csv, runs.parquet, ...).",
                                     required=False),
    runs: int | None = typer.Option(None, "--runs", help="Monte Carlo runs (default: the params' model_runs)."),
    seed: int | None = opt.seed("Override the params' seed (the same seed gives the same projection)."),
    workers: int = opt.workers("Worker processes.", 2, min=1),
    capacity: Path | None = typer.Option(None, "--capacity", metavar="FILE", help="Capacity assumptions JSON (overrides)."),
    dataset: str | None = typer.Option(None, "--dataset", help="NHP dataset name (default: the params', else the only one)."),
    db: str | None = opt.store("to keep the scenario in (tables demand_*)"),
    name: str | None = typer.Option(None, "--name", metavar="NAME",
                                    help="Keep the projection as a scenario of this name in the store (--db), with "
                                         "its params and data, to open, compare and export later."),
    replace: bool = typer.Option(False, "--replace", help="Replace a kept scenario of the same --name."),
    years: int = typer.Option(1, "--years", metavar="N",
                              help="Projection years from the baseline to the horizon, for the year-by-year "
                                   "trajectories (1: the horizon only; each year costs as much as the horizon)."),
    out: Path | None = OLD_OUT,
) -> None:
    """Project activity to the horizon year, with capacity, and write OUTPUT/summary.csv and friends.

    With --name the projection is kept in the store as a scenario (its params, the data it ran
    on, who ran it and when); `carelens demand scenarios` lists them, `compare` compares them and
    `export` writes one as a workbook or report.

    Example:

    ```
    carelens demand run trust/params.json -d trust -o projection \\
        --runs 256 --years 4 --name "Baseline 2035" --db store.duckdb
    ```
    """
    import time
    import warnings

    from carelens.demand import load_params
    from carelens.demand.data import load_data_for
    from carelens.demand.outputs import output_folder, write_outputs
    from carelens.demand.scenario import check_name, run_scenario
    from carelens.demand.store import check_name_free, default_name, save_scenario
    from carelens.errors import ConfigError, ParamsError

    output = opt.renamed(output, out, new="-o/--output", old="--out")
    if output is None:
        raise ConfigError("say where to write the results: -o/--output FOLDER", field="--output")
    p = load_params(params, capacity=capacity)
    if runs is not None and runs < 0:
        raise ParamsError("must be 0 or more", field="--runs")
    if not 1 <= years <= 30:
        raise ParamsError("must be from 1 (the horizon only) to 30", field="--years")
    if seed is not None and seed < 0:
        raise ParamsError("must be 0 or more", field="--seed")
    if name is not None:
        name = check_name(name)
        if not replace:
            check_name_free(db, name)
    output_folder(output)  # a bad folder or a name already taken is refused before minutes of work
    d = load_data_for(data, p, dataset=dataset)
    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scenario = run_scenario(p, d, name=name or "unsaved", runs=runs, workers=workers, seed=seed, points=years,
                                progress=True)
    for w in caught:
        opt.warn(str(w.message))
    write_outputs(scenario, output)
    if name or db:
        scenario.name = name or default_name(db, scenario)
        run_id = save_scenario(scenario, db, d, replace=replace)
        from carelens.cli.access import record

        record(db, "run_projection", scenario.name, {"run_id": run_id, "runs": scenario.runs, "replace": replace})
        typer.echo(f"stored as scenario {scenario.name!r} (run_id {run_id})")
    per_year = f" for each of {len(scenario.years) - 1} projection years" if len(scenario.years) > 2 else ""
    typer.echo(f"{scenario.runs} runs{per_year} in {time.perf_counter() - started:.1f} s; wrote {output}/summary.csv")


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


DOWNLOADS = (".xlsx", ".html", ".pdf")


def _check_download(output: Path) -> None:
    """A download's name is checked before any work (a wrong extension found after a minute is a minute lost)."""
    from carelens.errors import ConfigError

    if output.suffix.lower() not in DOWNLOADS:
        raise ConfigError(f"write {', '.join(DOWNLOADS)}; not {output.suffix or 'a name without an extension'}",
                          file=str(output), field="--output")
    if output.is_dir():
        raise ConfigError("is a folder: give a file name", file=str(output), field="--output")


def _download(content_for: dict, output: Path) -> Path:
    """Write ``output`` in the format its extension names (``content_for[ext]()`` makes the bytes)."""
    from carelens.demand.workbook import write_file

    return write_file(content_for[output.suffix.lower()](), output)


def _kept_in(db: str | None) -> str | None:
    """A store to read scenarios from must be there: a mistyped ``--db`` path would otherwise
    become a new, empty store, and "no scenario named ..." would blame the name."""
    from carelens.db import database_url
    from carelens.db.engine import duckdb_path
    from carelens.errors import StoreError

    if db is not None:
        path = duckdb_path(database_url(db))
        if path is not None and not path.exists():
            raise StoreError("no carelens store here (scenarios are kept where `carelens demand run --name NAME "
                             "--db STORE` put them)", file=str(db), field="--db")
    return db


@app.command("scenarios")
def scenarios_command(
    db: str | None = opt.store("the scenarios are kept in"),
) -> None:
    """List the scenarios kept in the store, newest first.

    Example:

    ```
    carelens demand scenarios --db store.duckdb
    ```
    """
    from carelens.demand.store import list_scenarios

    listed = list_scenarios(_kept_in(db))
    if listed.empty:
        typer.echo("no scenarios stored yet: carelens demand run PARAMS -d DATA -o OUT --name NAME")
        return
    shown = listed.assign(
        run=listed["created"].astype(str).str[:16].str.replace("T", " "),
        years=listed["start_year"].astype("Int64").astype(str) + "-" + listed["end_year"].astype("Int64").astype(str),
        data=listed["data_fingerprint"].fillna("").str[:12],
        note=listed["can_open"].map({True: "", False: "stored before scenarios were kept: cannot be opened"}))
    shown = shown[["name", "run", "created_by", "runs", "years", "data", "note"]].fillna("")
    shown.columns = ["scenario", "run at (UTC)", "by", "runs", "years", "data", ""]
    typer.echo(shown.to_string(index=False))


@app.command("compare")
def compare_command(
    names: list[str] = typer.Argument(..., metavar="NAME...", help="Two or more stored scenarios."),
    output: Path | None = opt.output("Also write the comparison: .xlsx (a tab per table), .html or .pdf.",
                                     required=False),
    db: str | None = opt.store("the scenarios are kept in"),
) -> None:
    """Compare stored scenarios: what differs in their assumptions first, then beds, theatres and
    clinic rooms (principal, P10-P90); with -o, every table (activity by point of delivery,
    waterfalls, year by year) in a workbook or report.

    Example:

    ```
    carelens demand compare "Baseline 2035" "Occupancy 85%" -o compare.xlsx
    ```
    """
    from carelens.demand.compare import compare, in_words
    from carelens.demand.labels import parameter_name
    from carelens.demand.store import load_scenario

    if output is not None:
        _check_download(output)
    _kept_in(db)
    comparison = compare([load_scenario(db, n) for n in names])
    differences = comparison.differences()
    typer.echo(f"{len(differences)} of {len(comparison.parameters)} parameters differ:")
    for row in differences.itertuples(index=False):
        words = parameter_name(row[0])
        typer.echo(f"  {row[0]}: " + " | ".join(f"{n} {v}" for n, v in zip(comparison.names, row[1:]))
                   + (f"  ({words})" if words != row[0] else ""))
    capacity = in_words(comparison.capacity, ["resource", "ward_type"])
    typer.echo("\n" + capacity.to_string(index=False, na_rep="-"))
    if output is not None:
        from carelens.demand.report import comparison_report, report_pdf
        from carelens.demand.workbook import comparison_workbook

        written = _download({".xlsx": lambda: comparison_workbook(comparison),
                             ".html": lambda: comparison_report(comparison).encode("utf-8"),
                             ".pdf": lambda: report_pdf(comparison_report(comparison))}, output)
        from carelens.cli.access import record

        record(db, "export", "demand comparison", {"scenarios": list(comparison.names), "file": Path(written).name})
        typer.echo(f"wrote {written}")


@app.command("export")
def export_command(
    name: str = typer.Argument(..., metavar="NAME", help="A stored scenario."),
    output: Path = opt.output("The file to write: .xlsx (a cover sheet and a tab per table), .html or .pdf "
                              "(the parameters-and-results report)."),
    db: str | None = opt.store("the scenarios are kept in"),
) -> None:
    """Write a stored scenario as a workbook or a report to take away.

    Example:

    ```
    carelens demand export "Baseline 2035" -o baseline.pdf
    ```
    """
    from carelens.demand.report import report_pdf, scenario_report
    from carelens.demand.store import load_scenario
    from carelens.demand.workbook import scenario_workbook

    _check_download(output)
    scenario = load_scenario(_kept_in(db), name)
    written = _download({".xlsx": lambda: scenario_workbook(scenario),
                         ".html": lambda: scenario_report(scenario).encode("utf-8"),
                         ".pdf": lambda: report_pdf(scenario_report(scenario))}, output)
    from carelens.cli.access import record

    record(db, "export", f"demand scenario {name}", {"file": Path(written).name})
    typer.echo(f"wrote {written}")


@app.command("delete")
def delete_command(
    name: str = typer.Argument(..., metavar="NAME", help="A stored scenario."),
    db: str | None = opt.store("the scenario is kept in"),
    yes: bool = typer.Option(False, "--yes", help="Delete without asking."),
) -> None:
    """Remove a kept scenario and its results (the trust data it ran on stays: other scenarios
    may use it). Asks first on a terminal; elsewhere it needs --yes.

    Example:

    ```
    carelens demand delete "Occupancy 80% (wrong file)" --db store.duckdb --yes
    ```
    """
    import sys

    from carelens.demand.store import delete_scenario, list_scenarios, load_scenario
    from carelens.errors import StoreError

    listed = list_scenarios(_kept_in(db))
    found = listed[listed["name"] == name]
    if found.empty:
        load_scenario(db, name)  # says "no scenario named ..." and which are stored
    row = found.iloc[0]
    if not yes:
        asked = sys.stdin.isatty() and typer.confirm(
            f"Delete scenario {name!r} (run {str(row['created'])[:16].replace('T', ' ')} by "
            f"{row['created_by'] or 'unknown'}) and its results?", default=False)
        if not asked:
            raise StoreError(f"not deleted: {name!r} is kept; add --yes to delete it", field="--yes")
    delete_scenario(db, name)
    from carelens.cli.access import record

    record(db, "delete", f"demand scenario {name}", {"run_id": str(row.get("run_id", ""))})
    typer.echo(f"deleted scenario {name!r}")
