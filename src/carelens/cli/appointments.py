"""`carelens appointments ...` commands: train, evaluate and score the missed-appointment model.

Only parsing and presenting live here; the work is in ``carelens.appointments``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from carelens.errors import ConfigError

app = typer.Typer(no_args_is_help=True)

TABLE_ARG = typer.Argument(None, help="Appointments file (CSV, XLSX, parquet). Or use --db and --table.")
DB_OPT = typer.Option(None, "--db", help="SQLAlchemy URL of the database holding the table (e.g. duckdb:///store.duckdb).")
DBTABLE_OPT = typer.Option(None, "--table", help="Table name in --db (optionally schema.table).")
COLUMN_OPT = typer.Option(
    None, "--column", help="Rename a column role: ROLE=NAME, e.g. attendance_status=AttendCode (repeatable)."
)
STRICT_OPT = typer.Option(
    False, "--strict-dates", help="Stop on appointments booked after they take place (default: keep them, lead time 0, warn)."
)


def _columns(pairs: list[str] | None, default: dict | None = None) -> dict[str, str]:
    mapping = dict(default or {})
    for pair in pairs or []:
        role, sep, name = pair.partition("=")
        if not sep or not role.strip() or not name.strip():
            raise ConfigError(f"--column expects ROLE=NAME, got {pair!r}", field="--column")
        mapping[role.strip()] = name.strip()
    return mapping


def _load(
    table: Path | None, db: str | None, db_table: str | None, columns: dict[str, str], strict: bool, card: dict | None = None
):
    from carelens.appointments.io import read_appointments_source
    from carelens.appointments.schema import Columns, normalise

    raw, label = read_appointments_source(table, db_url=db, table=db_table)
    frame = normalise(raw, Columns.from_mapping(columns), file=label, allow_booking_after=not strict)
    warnings = list(frame.attrs.get("warnings", []))
    if card is not None:  # a column the model learnt from is missing now: scores lose that information
        lost = sorted(set(frame.attrs.get("absent", [])) - set(card.get("absent_columns", [])))
        if lost:
            warnings.append(
                "column(s) the model was trained with are missing and treated as unknown: " + ", ".join(lost)
                + " (see --column to rename)"
            )
    for warning in warnings:
        typer.secho(f"warning: {label}: {warning}", err=True, fg=typer.colors.YELLOW)
    return frame, label


THREADS_OPT = typer.Option(1, "--threads", help="CPU threads for the booster (1 is polite on a shared server).")


@app.command()
def train(
    table: Path | None = TABLE_ARG,
    output: Path = typer.Option(..., "-o", "--output", help="Folder to write the model into."),
    db: str | None = DB_OPT,
    db_table: str | None = DBTABLE_OPT,
    column: list[str] | None = COLUMN_OPT,
    gap_days: float = typer.Option(3.0, help="Only outcomes known this many days before an appointment count."),
    valid_months: int = typer.Option(6, help="Validate on the last N months with outcomes."),
    estimator: str = typer.Option("hgb", help="hgb (gradient boosting) or logistic (baseline)."),
    calibration: str = typer.Option("platt", help="platt (default), isotonic or none."),
    refit: bool = typer.Option(True, help="Refit on all data after validation (the figures describe the procedure)."),
    threads: int = THREADS_OPT,
    strict_dates: bool = STRICT_OPT,
) -> None:
    """Train, validate on a later window with unseen patients, and save model + model card."""
    from rich.console import Console

    from carelens.appointments.training import train_and_validate

    columns = _columns(column)
    frame, label = _load(table, db, db_table, columns, strict_dates)
    console = Console(stderr=True)
    with console.status("training and validating…"):
        model, card = train_and_validate(
            frame, gap_days=gap_days, valid_months=valid_months, refit=refit, columns=columns,
            estimator=estimator, calibration=calibration, n_threads=threads,
        )
    card["source"] = label
    card["absent_columns"] = frame.attrs.get("absent", [])
    version = model.save(output, card)
    v = card["validation"]
    typer.echo(
        f"model {version} saved to {output}: validation AUROC {v['auroc']:.3f} "
        f"(95% CI {v['auroc_ci95'][0]:.3f}-{v['auroc_ci95'][1]:.3f}), ECE {v['ece']:.4f}, "
        f"top-decile share of DNAs {v['top_decile_share_of_dnas']:.1%} ({v['n']:,} appointments)"
    )


@app.command()
def evaluate(
    table: Path | None = TABLE_ARG,
    model: Path = typer.Option(..., "--model", help="Model folder from `train`."),
    db: str | None = DB_OPT,
    db_table: str | None = DBTABLE_OPT,
    column: list[str] | None = COLUMN_OPT,
    since: str | None = typer.Option(None, help="Evaluate only appointments on or after this date."),
    json_out: Path | None = typer.Option(None, "--json", help="Write all figures as JSON here."),
    html_out: Path | None = typer.Option(None, "--html", help="Write an HTML report with charts here."),
    call_cost: float = typer.Option(4.0, help="Cost of one reminder call (£)."),
    slot_value: float = typer.Option(120.0, help="Value of an outpatient slot that is used (£)."),
    reminder_effect: float = typer.Option(0.3, help="Share of would-be DNAs a reminder prevents."),
    threads: int = THREADS_OPT,
    strict_dates: bool = STRICT_OPT,
) -> None:
    """Metrics, calibration, net benefit and fairness of a saved model on a table with outcomes."""
    from rich.console import Console
    from rich.table import Table

    from carelens.appointments.evaluation import CostModel
    from carelens.appointments.persistence import load_model
    from carelens.appointments.report import evaluate_model, to_html, to_json

    loaded = load_model(model)
    loaded.model.n_threads = max(1, threads)
    frame, label = _load(table, db, db_table, _columns(column, loaded.card.get("columns")), strict_dates, loaded.card)
    result = evaluate_model(frame, loaded, since=since, cost=CostModel(call_cost, slot_value, reminder_effect), file=label)
    console = Console()
    summary = Table(title=f"DNA model {loaded.version} on {label} ({result['period']})")
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    for key in ("n", "dna_rate", "mean_predicted", "auroc", "average_precision", "brier", "ece", "top_decile_share_of_dnas"):
        value = result[key]
        summary.add_row(key, f"{value:,}" if isinstance(value, int) else f"{value:.4f}")
    for key, value in result["net_benefit_per_1000"].items():
        summary.add_row(f"net benefit {key}" if key.startswith("remind") else key, f"{value:,.2f}")
    console.print(summary)
    fair = Table(title="Fairness (top decile = call list)")
    for name in ("attribute", "group", "n", "dna_rate", "mean_predicted", "auroc", "share_of_dnas", "share_selected"):
        fair.add_column(name, justify="left" if name in ("attribute", "group") else "right")
    for r in result["fairness"]:
        fair.add_row(
            r["attribute"], r["group"], f"{r['n']:,}",
            *(f"{r[k]:.3f}" for k in ("dna_rate", "mean_predicted", "auroc", "share_of_dnas", "share_selected")),
        )
    console.print(fair)
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(to_json(result))
    if html_out:
        html_out.parent.mkdir(parents=True, exist_ok=True)
        html_out.write_text(to_html(result), encoding="utf-8")


@app.command()
def score(
    table: Path | None = TABLE_ARG,
    model: Path = typer.Option(..., "--model", help="Model folder from `train`."),
    output: Path | None = typer.Option(None, "-o", "--output", help="Scores file (CSV, XLSX, parquet)."),
    db: str | None = DB_OPT,
    db_table: str | None = DBTABLE_OPT,
    out_db: str | None = typer.Option(None, "--out-db", help="Write scores to this database (default: --db)."),
    out_table: str | None = typer.Option(None, "--out-table", help="Scores table; re-runs replace rows of the same model version."),
    column: list[str] | None = COLUMN_OPT,
    explain: str = typer.Option("banded", help="Reasons for: banded (medium/high risk), all, none."),
    publish: bool = typer.Option(False, "--publish", help="Also put the scores on the dashboard's call list in the carelens store."),
    store: str | None = typer.Option(None, "--store", help="Store for --publish: URL or .duckdb path (default: settings)."),
    threads: int = THREADS_OPT,
    strict_dates: bool = STRICT_OPT,
) -> None:
    """Score every appointment with a blank status: appointment_id, dna_probability, risk_band, reasons."""
    from carelens.appointments.io import write_scores_db, write_scores_file
    from carelens.appointments.persistence import load_model
    from carelens.appointments.scoring import SCORE_COLUMNS, score_upcoming, with_version

    if explain not in ("banded", "all", "none"):
        raise ConfigError("--explain must be banded, all or none", field="--explain")
    if output is None and out_table is None and not publish:
        raise ConfigError("say where scores go: -o FILE, --out-table NAME and/or --publish", field="--output")
    loaded = load_model(model)
    loaded.model.n_threads = max(1, threads)
    frame, label = _load(table, db, db_table, _columns(column, loaded.card.get("columns")), strict_dates, loaded.card)
    scores = score_upcoming(frame, loaded, explain=explain, file=label)
    if output is not None:
        write_scores_file(scores[SCORE_COLUMNS], output)
    written = ""
    if out_table is not None:
        from carelens.db import database_url

        url = out_db or db or database_url()  # default: the settings' store (its folder is made on open)
        n = write_scores_db(with_version(scores, loaded.version), url, out_table)
        written = f"; {n:,} rows written to {out_table}"
    if publish:
        from carelens.appointments.store import publish_scores
        from carelens.db import get_engine

        n = publish_scores(get_engine(store), frame, scores, loaded.card)
        written += f"; {n:,} published to the call list"
    bands = scores["risk_band"].value_counts()
    typer.echo(
        f"scored {len(scores):,} upcoming appointments with model {loaded.version}: "
        f"{bands.get('high', 0):,} high, {bands.get('medium', 0):,} medium, {bands.get('low', 0):,} low risk{written}"
    )
