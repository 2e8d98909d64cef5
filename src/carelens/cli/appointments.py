"""`carelens appointments ...` commands: train, evaluate and score the missed-appointment model.

Only parsing and presenting live here; the work is in ``carelens.appointments``. Options as in
docs/cli.md: the table is a FILE or ``--source-db URL --table NAME`` (a warehouse), ``--db`` is
the carelens store (``score --publish``), scores go back to a warehouse with ``--target-db`` /
``--target-table``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from carelens.cli import options as opt
from carelens.errors import ConfigError

app = opt.typer_app()

# carelens.appointments.schema.Columns (kept here so that --help does not import the capability;
# tests/e2e/test_cli_dialect.py checks the two agree)
ROLES = ("appointment_id", "patient_id", "appointment_datetime", "booked_datetime", "attendance_status", "specialty",
         "site", "consultation_medium", "first_attendance", "age", "sex", "ethnic_group", "imd_decile", "distance_km")

TABLE_ARG = typer.Argument(None, metavar="FILE", help="Appointments file (CSV, XLSX, parquet); or --source-db and --table.")
SOURCE_DB = opt.source_db()
SOURCE_TABLE = opt.source_table()
COLUMN = opt.columns(ROLES)
WORKERS = opt.workers("CPU threads for the booster (default 1, polite on a shared server).", None, show_default=False,
                      min=1)
STRICT = opt.strict("Stop on appointments booked after they take place (default: keep them, lead time 0, warn).")
FEATURE = typer.Option(
    None, "--feature", metavar="COLUMN",
    help="Also use this column of the table as a model input, numeric or categorical (repeatable), e.g. "
         "--feature sms_received. Kept on the model card and needed at scoring. Ethnic group is never an input.")
STATUS_MAP = typer.Option(
    None, "--status-map", metavar="VALUE=MEANING",
    help="What outcome values mean when they are not NHS codes or common words (DNA, Attended, Did not attend, "
         "Cancelled), repeatable or comma-separated: e.g. --status-map \"Yes=DNA,No=attended\". Meanings: attended, "
         "DNA, cancelled, cancelled by provider, future. evaluate and score use the model's by default.")
OLD_DB = opt.old("--db", "--source-db")
OLD_THREADS = opt.old("--threads", "--workers")
OLD_STRICT = opt.old("--strict-dates", "--strict", flag=True)


def _source(source_db: str | None, old_db: str | None) -> str | None:
    """train/evaluate: ``--db`` used to name the warehouse; these commands never touch the store."""
    return opt.renamed(source_db, old_db, new="--source-db", old="--db")


def _load(table: Path | None, source_db: str | None, source_table: str | None, columns: dict[str, str], strict: bool,
          card: dict | None = None, **trust):
    """Read and check the table; ``trust``: ``features``, ``contacts``, ``status_map`` (io.read_appointments)."""
    from carelens.appointments.io import read_appointments

    frame, label = read_appointments(table, db_url=source_db, table=source_table, columns=columns,
                                     allow_booking_after=not strict, card=card, **trust)
    for warning in frame.attrs.get("warnings", []):
        opt.warn(f"{label}: {warning}")
    return frame, label


def _common(workers: int | None, threads: int | None, strict: bool, strict_dates: bool) -> tuple[int, bool]:
    workers = opt.renamed(workers, threads, new="--workers", old="--threads", default=1)
    return max(1, int(workers)), bool(opt.renamed(strict, strict_dates, new="--strict", old="--strict-dates",
                                                  default=False))


@app.command()
def train(
    table: Path | None = TABLE_ARG,
    output: Path = opt.output("Folder to write the model into."),
    source_db: str | None = SOURCE_DB,
    source_table: str | None = SOURCE_TABLE,
    column: list[str] | None = COLUMN,
    gap: str | None = typer.Option(None, "--gap", metavar="LENGTH",
                                   help="Only outcomes known this long before an appointment count (default 3d; "
                                        "days or weeks: 3d, 1w)."),
    valid: str | None = typer.Option(None, "--valid", metavar="LENGTH",
                                     help="Validate on the last LENGTH of the history with outcomes: 14d, 6w, 6m, 1y "
                                          "(default: the last fifth of the history, at most 6m)."),
    feature: list[str] | None = FEATURE,
    status_map: list[str] | None = STATUS_MAP,
    estimator: str = typer.Option("hgb", help="hgb (gradient boosting) or logistic (baseline)."),
    calibration: str = typer.Option("platt", help="platt (default), isotonic or none."),
    refit: bool = typer.Option(True, help="Refit on all data after validation (the figures describe the procedure)."),
    seed: int = opt.seed("Random seed of the estimator (the same seed gives the same model).", default=0),
    workers: int | None = WORKERS,
    strict: bool = STRICT,
    db: str | None = OLD_DB,
    gap_days: float | None = opt.old("--gap-days", "--gap"),
    valid_months: int | None = opt.old("--valid-months", "--valid"),
    threads: int | None = OLD_THREADS,
    strict_dates: bool = OLD_STRICT,
) -> None:
    """Train, validate on a later window with unseen patients, and save model + model card.

    Example:

    ```
    carelens appointments train appointments.csv -o models/dna --valid 3m

    carelens appointments train noshow.csv -o models/dna --column attendance_status=No-show \\
        --status-map "Yes=DNA,No=attended" --feature SMS_received
    ```
    """
    from carelens.appointments.training import train_and_validate
    from carelens.model_files import model_folder
    from carelens.progress import status

    source = _source(source_db, db)
    workers, strict = _common(workers, threads, strict, strict_dates)
    gap = opt.renamed(gap, None if gap_days is None else f"{gap_days:g}d", new="--gap", old="--gap-days", default="3d")
    valid = opt.renamed(valid, None if valid_months is None else f"{valid_months}m", new="--valid", old="--valid-months")
    gap_length = opt.parse_length(gap, "--gap").days("--gap")
    window = None if valid is None else opt.parse_length(valid, "--valid").offset()  # None: chosen from the history
    columns = opt.column_roles(column, ROLES)
    model_folder(output, create=False)  # a bad -o is refused before training, not after it
    frame, label = _load(table, source, source_table, columns, strict, features=feature, status_map=status_map)
    with status("training and validating…"):
        model, card = train_and_validate(
            frame, gap_days=gap_length, valid=window, refit=refit, columns=columns,
            estimator=estimator, calibration=calibration, n_threads=workers, random_state=seed,
        )
    card["source"] = label
    card["absent_columns"] = frame.attrs.get("absent", [])
    if status_map:
        card["status_map"] = status_map
    version = model.save(output, card)
    for dropped in card.get("dropped_features", []):
        opt.warn(f"{label}: input {dropped['feature'].removeprefix('feature:')} not used: {dropped['why']}")
    v = card["validation"]
    typer.echo(
        f"model {version} saved to {output} (validated on the last {card['validation_window']}): validation AUROC {v['auroc']:.3f} "
        f"(95% CI {v['auroc_ci95'][0]:.3f}-{v['auroc_ci95'][1]:.3f}), ECE {v['ece']:.4f}, "
        f"top-decile share of DNAs {v['top_decile_share_of_dnas']:.1%} ({v['n']:,} appointments)"
    )


@app.command()
def evaluate(
    table: Path | None = TABLE_ARG,
    model: Path = opt.model("Model folder from `train`.", required=True),
    source_db: str | None = SOURCE_DB,
    source_table: str | None = SOURCE_TABLE,
    column: list[str] | None = COLUMN,
    since: str | None = typer.Option(None, "--since", metavar="DATE",
                                     help="Evaluate only appointments on or after this date (YYYY-MM-DD)."),
    output: Path | None = opt.output("A folder for evaluation.json and evaluation.html, or one file ending .json or "
                                     ".html (default: the tables on screen only).", required=False),
    call_cost: float = typer.Option(4.0, help="Cost of one reminder call (£)."),
    slot_value: float = typer.Option(120.0, help="Value of an outpatient slot that is used (£)."),
    reminder_effect: float = typer.Option(0.3, help="Share of would-be DNAs a reminder prevents."),
    allow_in_sample: bool = typer.Option(
        False, "--allow-in-sample",
        help="Evaluate even on appointments from the model's own training period (refused by default: the figures "
             "would flatter it); the report then says how many were in-sample."),
    status_map: list[str] | None = STATUS_MAP,
    workers: int | None = WORKERS,
    strict: bool = STRICT,
    db: str | None = OLD_DB,
    json_out: Path | None = opt.old("--json", "-o FILE.json"),
    html_out: Path | None = opt.old("--html", "-o FILE.html"),
    threads: int | None = OLD_THREADS,
    strict_dates: bool = OLD_STRICT,
) -> None:
    """Metrics, calibration, net benefit and fairness of a saved model on a table with outcomes.

    Evaluate on appointments after the model's training period (the model card says until when).

    Example:

    ```
    carelens appointments evaluate appointments.csv --model models/dna \\
        --since 2024-04-01 -o dna-evaluation/
    ```
    """
    from rich.console import Console
    from rich.table import Table

    from carelens.appointments.evaluation import CostModel
    from carelens.appointments.persistence import load_model
    from carelens.appointments.report import evaluate_model, to_html, to_json

    source = _source(source_db, db)
    workers, strict = _common(workers, threads, strict, strict_dates)
    paths = opt.report_paths(output, {"json": ".json", "html": ".html"}, "evaluation") if output else {}
    for name, old_path in (("json", json_out), ("html", html_out)):
        if old_path is not None:
            opt.deprecated(f"--{name}", f"-o FILE.{name} (or -o FOLDER for both)")
            paths.setdefault(name, old_path)
    if since is not None:
        since = opt.parse_date(since, "--since")
    cost = CostModel(call_cost, slot_value, reminder_effect)  # impossible costs refused before any work
    loaded = load_model(model)
    loaded.model.n_threads = workers
    columns = {**(loaded.card.get("columns") or {}), **opt.column_roles(column, ROLES)}
    frame, label = _load(table, source, source_table, columns, strict, loaded.card,
                         features=loaded.trust_features, status_map=status_map)
    result = evaluate_model(frame, loaded, since=since, cost=cost, file=label, allow_in_sample=allow_in_sample)
    if result.get("in_sample_note"):
        opt.warn(f"{label}: {result['in_sample_note']}")
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
    render = {"json": to_json, "html": to_html}
    for name, path in paths.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render[name](result), encoding="utf-8")
    if paths:
        console.print(f"reports: {', '.join(map(str, paths.values()))}")


@app.command()
def score(
    table: Path | None = TABLE_ARG,
    model: Path = opt.model("Model folder from `train`.", required=True),
    output: Path | None = opt.output("Scores file: .csv, .xlsx or .parquet.", required=False),
    source_db: str | None = SOURCE_DB,
    source_table: str | None = SOURCE_TABLE,
    target_db: str | None = typer.Option(None, "--target-db", metavar="URL",
                                         help="Database of --target-table (default: --source-db, else the store)."),
    target_table: str | None = typer.Option(None, "--target-table", metavar="NAME",
                                            help="Write scores to this table (optionally schema.table); re-runs replace "
                                                 "rows of the same model version."),
    publish: bool = typer.Option(False, "--publish", help="Also put the scores on the dashboard's call list in the store."),
    db: str | None = opt.store("that --publish writes to"),
    column: list[str] | None = COLUMN,
    contact_column: list[str] | None = typer.Option(
        None, "--contact-column", metavar="COLUMN",
        help="Pass this column (a phone number, ...) to the call list for the staff who make the calls (repeatable; "
             "with --publish). Never a model input, never on the model card or in the scores."),
    status_map: list[str] | None = STATUS_MAP,
    explain: str = typer.Option("banded", help="Reasons for: banded (medium/high risk), all, none."),
    workers: int | None = WORKERS,
    strict: bool = STRICT,
    store: str | None = opt.old("--store", "--db"),
    out_db: str | None = opt.old("--out-db", "--target-db"),
    out_table: str | None = opt.old("--out-table", "--target-table"),
    threads: int | None = OLD_THREADS,
    strict_dates: bool = OLD_STRICT,
) -> None:
    """Score every appointment with a blank status: appointment_id, dna_probability, risk_band, reasons.

    Scores go to a file (-o), a warehouse table (--target-table) and/or the dashboard's call
    list (--publish).

    Example:

    ```
    carelens appointments score --source-db postgresql+psycopg://dw/hospital \\
        --table outpatients --model models/dna --target-table dna_scores
    ```
    """
    from carelens.appointments.io import write_scores_db, write_scores_file
    from carelens.appointments.persistence import load_model
    from carelens.appointments.scoring import SCORE_COLUMNS, score_upcoming, with_version

    if db is not None and source_table is not None and source_db is None:
        # before 0.2, --db named the warehouse the table was read from (and --store the store)
        opt.warn("--db with --table names the warehouse the table is read from: that is --source-db now "
                 "(--db is the carelens store in every command); the old reading will be removed in "
                 f"carelens {opt.REMOVED_IN}")
        source_db, db = db, None
    db = opt.renamed(db, store, new="--db", old="--store")
    target_db = opt.renamed(target_db, out_db, new="--target-db", old="--out-db")
    target_table = opt.renamed(target_table, out_table, new="--target-table", old="--out-table")
    workers, strict = _common(workers, threads, strict, strict_dates)
    if explain not in ("banded", "all", "none"):
        raise ConfigError("--explain must be banded, all or none", field="--explain")
    if output is None and target_table is None and not publish:
        raise ConfigError("say where scores go: -o FILE, --target-table NAME and/or --publish", field="--output")
    if contact_column and not publish:
        raise ConfigError("--contact-column passes contact details to the call list only: add --publish "
                          "(they are never written to the scores file or table)", field="--contact-column")
    if output is not None:
        opt.table_output(output)
    loaded = load_model(model)
    loaded.model.n_threads = workers
    columns = {**(loaded.card.get("columns") or {}), **opt.column_roles(column, ROLES)}
    frame, label = _load(table, source_db, source_table, columns, strict, loaded.card,
                         features=loaded.trust_features, contacts=contact_column, status_map=status_map)
    scores = score_upcoming(frame, loaded, explain=explain, file=label)
    if output is not None:
        write_scores_file(scores[SCORE_COLUMNS], output)
    written = ""
    if target_table is not None:
        from carelens.db import database_url

        url = target_db or source_db or database_url(db)  # default: the store (its folder is made on open)
        n = write_scores_db(with_version(scores, loaded.version), url, target_table)
        written = f"; {n:,} rows written to {target_table}"
    if publish:
        from carelens.appointments.store import publish_scores
        from carelens.db import get_engine

        n = publish_scores(get_engine(db), frame, scores, loaded.card)
        from carelens.cli.access import record

        record(db, "publish_scores", loaded.version, {"appointments": n})
        written += f"; {n:,} published to the call list"
    bands = scores["risk_band"].value_counts()
    typer.echo(
        f"scored {len(scores):,} upcoming appointments with model {loaded.version}: "
        f"{bands.get('high', 0):,} high, {bands.get('medium', 0):,} medium, {bands.get('low', 0):,} low risk{written}"
    )


@app.command("call-list")
def call_list(
    output: Path = opt.output("The list as a file: .csv or .xlsx (or .parquet)."),
    db: str | None = opt.store("the scores were published to"),
    day: str | None = typer.Option(None, "--date", metavar="DATE",
                                   help="First day of the list, YYYY-MM-DD (default: today, from now on)."),
    days: int = typer.Option(1, "--days", min=1, max=30, help="Working days covered, that day included."),
    band: list[str] | None = typer.Option(None, "--band", help="Risk bands on the list: high, medium, low "
                                                               "(repeatable; default high)."),
    quota_by: str | None = typer.Option(
        None, "--quota-by", metavar="GROUP",
        help="Give every group at least its share of the list, in proportion to its expected missed appointments: "
             "'age band' or 'IMD quintile'."),
    contacts: bool = typer.Option(True, "--contacts/--no-contacts",
                                  help="Include the contact columns published with the scores (for callers only)."),
) -> None:
    """Write the call list of the chosen working days (one row per patient, riskiest first, appointments
    still to come) to a file a clinic office can print or give its callers.

    Example:

    ```
    carelens appointments call-list -o calls.xlsx --days 3 --band high --band medium --quota-by "age band"
    ```
    """
    from datetime import date

    from carelens.appointments import calllist, store
    from carelens.db import get_engine
    from carelens.tables import write_table

    opt.table_output(output)
    bands = tuple(band or ("high",))
    unknown = [b for b in bands if b not in ("high", "medium", "low")]
    if unknown:
        raise ConfigError(f"unknown risk band {unknown[0]!r}; use high, medium or low", field="--band")
    first = date.fromisoformat(opt.parse_date(day, "--date")[:10]) if day else date.today()
    calllist.normalise_quota(quota_by)
    engine = get_engine(db)
    listing = store.call_list(engine, today=first, days=days, bands=bands, quota_by=quota_by)
    details = store.contact_details(engine, listing["patient_id"].astype(str).tolist()) if contacts and len(listing) else None
    frame = calllist.export_frame(listing, details)
    write_table(frame, output, for_spreadsheet=True)
    from carelens.cli.access import record

    record(db, "export", "call list", {"rows": len(frame), "contacts": details is not None, "file": Path(output).name})
    added = int((listing["quota"] != "").sum()) if "quota" in listing else 0
    typer.echo(f"{len(frame):,} patients to call written to {output}" + (f" ({added:,} added by the quota)" if added else ""))
