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
FEATURE_OPT = typer.Option(
    None, "--feature", metavar="COLUMN",
    help="Also use this column of the table as a model input, numeric or categorical (repeatable), e.g. "
         "--feature sms_received. Kept on the model card and needed at scoring. Ethnic group is never an input.",
)
STATUS_MAP_OPT = typer.Option(
    None, "--status-map", metavar="VALUE=MEANING",
    help="What outcome values mean when they are not NHS codes or common words (DNA, Attended, Did not attend, "
         "Cancelled): e.g. --status-map \"Yes=DNA,No=attended\" (repeatable). Meanings: attended, DNA, cancelled, "
         "cancelled by provider, future. Default: the model's, for evaluate and score.",
)
CONTACT_OPT = typer.Option(
    None, "--contact-column", metavar="COLUMN",
    help="Pass this column (a phone number, ...) through to the call list for the staff who make the calls "
         "(repeatable). Never a model input, never on the model card or in the scores file.",
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
    table: Path | None, db: str | None, db_table: str | None, columns: dict[str, str], strict: bool, card: dict | None = None,
    *, features: list[str] | dict[str, str] | None = None, contacts: list[str] | None = None,
    status_map: list[str] | dict[str, str] | None = None,
):
    from carelens.appointments.io import read_appointments_source
    from carelens.appointments.schema import Columns, normalise

    raw, label = read_appointments_source(table, db_url=db, table=db_table)
    frame = normalise(raw, Columns.from_mapping(columns), file=label, allow_booking_after=not strict,
                      features=features, contacts=contacts, status_map=status_map,
                      missing_features="warn" if card is not None else "error")
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


def _status_map(given: list[str] | None, card: dict | None = None) -> list[str] | dict[str, str] | None:
    """The status map given now, else the one the model was trained with."""
    return given or (card or {}).get("status_map") or None


THREADS_OPT = typer.Option(1, "--threads", help="CPU threads for the booster (1 is polite on a shared server).")


@app.command()
def train(
    table: Path | None = TABLE_ARG,
    output: Path = typer.Option(..., "-o", "--output", help="Folder to write the model into."),
    db: str | None = DB_OPT,
    db_table: str | None = DBTABLE_OPT,
    column: list[str] | None = COLUMN_OPT,
    gap_days: float = typer.Option(3.0, help="Only outcomes known this many days before an appointment count."),
    valid: str | None = typer.Option(
        None, "--valid", metavar="LENGTH",
        help="Validate on the last LENGTH of the history with outcomes: 14d, 6w, 6m or 1y "
             "(default: the last fifth of the history, at most 6m)."),
    valid_months: int | None = typer.Option(None, help="Older spelling of --valid Nm."),
    feature: list[str] | None = FEATURE_OPT,
    status_map: list[str] | None = STATUS_MAP_OPT,
    seed: int = typer.Option(0, "--seed", help="Random seed of the booster (the same seed gives the same model)."),
    estimator: str = typer.Option("hgb", help="hgb (gradient boosting) or logistic (baseline)."),
    calibration: str = typer.Option("platt", help="platt (default), isotonic or none."),
    refit: bool = typer.Option(True, help="Refit on all data after validation (the figures describe the procedure)."),
    threads: int = THREADS_OPT,
    strict_dates: bool = STRICT_OPT,
) -> None:
    """Train, validate on a later window with unseen patients, and save model + model card."""
    from rich.console import Console

    from carelens.appointments.training import train_and_validate

    if valid is not None and valid_months is not None:
        raise ConfigError("give --valid only, not also --valid-months", field="--valid")
    columns = _columns(column)
    frame, label = _load(table, db, db_table, columns, strict_dates, features=feature, status_map=status_map)
    console = Console(stderr=True)
    with console.status("training and validating…"):
        model, card = train_and_validate(
            frame, gap_days=gap_days, valid=valid, valid_months=valid_months, refit=refit, columns=columns,
            estimator=estimator, calibration=calibration, n_threads=threads, random_state=seed,
        )
    card["source"] = label
    card["absent_columns"] = frame.attrs.get("absent", [])
    if status_map:
        card["status_map"] = status_map
    version = model.save(output, card)
    v = card["validation"]
    for dropped in card.get("dropped_features", []):
        typer.secho(f"warning: {label}: input {dropped['feature'].removeprefix('feature:')} not used: {dropped['why']}",
                    err=True, fg=typer.colors.YELLOW)
    typer.echo(
        f"model {version} saved to {output} (validated on the last {card['validation_window']}): validation AUROC {v['auroc']:.3f} "
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
    allow_in_sample: bool = typer.Option(
        False, "--allow-in-sample",
        help="Evaluate even on appointments from the model's own training period (refused by default: the figures "
             "would flatter it); the report then says so."),
    status_map: list[str] | None = STATUS_MAP_OPT,
    threads: int = THREADS_OPT,
    strict_dates: bool = STRICT_OPT,
) -> None:
    """Metrics, calibration, net benefit and fairness of a saved model on a table with outcomes.

    Evaluate on appointments after the model's training period (the model card says until when).
    """
    from rich.console import Console
    from rich.table import Table

    from carelens.appointments.evaluation import CostModel
    from carelens.appointments.persistence import load_model
    from carelens.appointments.report import evaluate_model, to_html, to_json

    cost = CostModel(call_cost, slot_value, reminder_effect)  # impossible costs refused before any work
    loaded = load_model(model)
    loaded.model.n_threads = max(1, threads)
    frame, label = _load(table, db, db_table, _columns(column, loaded.card.get("columns")), strict_dates, loaded.card,
                         features=loaded.trust_features, status_map=_status_map(status_map, loaded.card))
    result = evaluate_model(frame, loaded, since=since, cost=cost, file=label, allow_in_sample=allow_in_sample)
    if result.get("in_sample_note"):
        typer.secho(f"warning: {label}: {result['in_sample_note']}", err=True, fg=typer.colors.YELLOW)
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
    contact_column: list[str] | None = CONTACT_OPT,
    status_map: list[str] | None = STATUS_MAP_OPT,
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
    if contact_column and not publish:
        raise ConfigError("--contact-column passes contact details to the call list only: add --publish "
                          "(they are never written to the scores file or table)", field="--contact-column")
    loaded = load_model(model)
    loaded.model.n_threads = max(1, threads)
    frame, label = _load(table, db, db_table, _columns(column, loaded.card.get("columns")), strict_dates, loaded.card,
                         features=loaded.trust_features, contacts=contact_column,
                         status_map=_status_map(status_map, loaded.card))
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


@app.command("call-list")
def call_list(
    output: Path = typer.Option(..., "-o", "--output", help="The list as a file: .csv or .xlsx (or .parquet)."),
    db: str | None = typer.Option(None, "--db", metavar="STORE",
                                  help="The carelens store the scores were published to (default: the settings' store)."),
    day: str | None = typer.Option(None, "--date", metavar="YYYY-MM-DD",
                                   help="First day of the list (default: today, from now on)."),
    days: int = typer.Option(1, "--days", min=1, max=30, help="Working days covered, that day included."),
    band: list[str] | None = typer.Option(None, "--band", help="Risk bands on the list: high, medium, low (repeatable; default high)."),
    quota_by: str | None = typer.Option(
        None, "--quota-by", metavar="GROUP",
        help="Give every group at least its share of the list, in proportion to its expected missed appointments: "
             "'age band' or 'IMD quintile'."),
    contacts: bool = typer.Option(True, "--contacts/--no-contacts",
                                  help="Include the contact columns published with the scores (for callers only)."),
) -> None:
    """Write the call list of the chosen working days (one row per patient, riskiest first) to a file
    a clinic office can print or share with its callers.

    Example: carelens appointments call-list -o calls.xlsx --days 3 --quota-by "age band"
    """
    from datetime import date

    import pandas as pd

    from carelens.appointments import calllist, store
    from carelens.db import get_engine
    from carelens.errors import ConfigError as _ConfigError
    from carelens.tables import write_table

    bands = tuple(band or ("high",))
    unknown = [b for b in bands if b not in ("high", "medium", "low")]
    if unknown:
        raise _ConfigError(f"unknown risk band {unknown[0]!r}; use high, medium or low", field="--band")
    try:
        first = date.fromisoformat(day) if day else date.today()
    except ValueError:
        raise _ConfigError(f"--date takes a date as YYYY-MM-DD (e.g. 2024-04-01), not {day!r}", field="--date") from None
    calllist.normalise_quota(quota_by)
    engine = get_engine(db)
    listing = store.call_list(engine, today=first, days=days, bands=bands, quota_by=quota_by)
    details = store.contact_details(engine, listing["patient_id"].astype(str).tolist()) if contacts and len(listing) else None
    frame = calllist.export_frame(listing if len(listing) else pd.DataFrame(), details)
    write_table(frame, output)
    added = int((listing.get("quota", pd.Series(dtype=str)) != "").sum()) if len(listing) else 0
    typer.echo(f"{len(frame):,} patients to call written to {output}" + (f" ({added:,} added by the quota)" if added else ""))
