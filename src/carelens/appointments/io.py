"""Read appointments from a file or a database table; write scores back, replacing not duplicating.

Any SQLAlchemy URL works (PostgreSQL, SQL Server, the embedded DuckDB store), opened through the
floor (:func:`carelens.db.open_engine`). Writing scores is one transaction: rows for the same
(appointment, model version) are replaced, so a re-run replaces its earlier output and a failure
leaves the table as it was.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from carelens.errors import StoreError, TableError
from carelens.tables import read_table, write_table


def read_appointments(
    path: str | Path | None = None, *, db_url: str | None = None, table: str | None = None,
    columns: dict[str, str] | None = None, allow_booking_after: bool = True, card: dict | None = None,
    features: list[str] | dict[str, str] | None = None, contacts: list[str] | None = None,
    status_map: list[str] | str | None = None,
) -> tuple[pd.DataFrame, str]:
    """The appointments to train on, evaluate or score, read and normalised, and a label for
    messages. ``frame.attrs["warnings"]`` holds what the user should hear: the reader's and the
    validation's warnings and, given a saved model's ``card``, the columns the model learnt from
    that this table lacks (their information is lost to the scores, so it must be said).

    ``features``, ``contacts``, ``status_map``: as :func:`carelens.appointments.schema.normalise`.
    Given a ``card`` (evaluate, score), the trust's features and status map default to the
    model's, and a feature or contact column the table lacks is a warning, not an error."""
    from carelens.appointments.schema import Columns, normalise

    if card is not None:
        features = features if features is not None else (card.get("trust_features") or None)
        status_map = status_map or card.get("status_map") or None
    raw, label = read_appointments_source(path, db_url=db_url, table=table)
    frame = normalise(raw, Columns.from_mapping(columns), file=label, allow_booking_after=allow_booking_after,
                      features=features, contacts=contacts, status_map=status_map,
                      missing_features="warn" if card is not None else "error")
    warnings = list(frame.attrs.get("warnings", []))
    if card is not None:
        lost = sorted(set(frame.attrs.get("absent", [])) - set(card.get("absent_columns", [])))
        if lost:
            warnings.append("column(s) the model was trained with are missing and treated as unknown: "
                            + ", ".join(lost) + " (see --column to rename)")
    frame.attrs["warnings"] = warnings
    return frame, label


def read_appointments_source(
    path: str | Path | None = None, *, db_url: str | None = None, table: str | None = None
) -> tuple[pd.DataFrame, str]:
    """Return the raw table and a label for messages (the file path or ``url#table``)."""
    if db_url or table:
        if not (db_url and table):
            raise TableError("reading from a database needs both --source-db URL and --table NAME")
        from sqlalchemy import inspect
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError

        from carelens.db import open_engine
        from carelens.db.schema import split_table_name

        schema, name = split_table_name(table)
        engine = open_engine(db_url)
        label = f"{table}"
        try:
            with engine.connect() as conn:
                if not inspect(conn).has_table(name, schema=schema):
                    raise TableError("table not found in the database", file=label)
                frame = pd.read_sql(source_query(table), conn)
        except SQLAlchemyError as exc:
            reason = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
            raise StoreError(f"could not read the table: {reason}".splitlines()[0], file=label) from exc
        finally:
            engine.dispose()
        return frame, label
    if path is None:
        raise TableError("give a FILE, or --source-db URL and --table NAME")
    return read_table(path), str(path)


def source_query(table: str):
    """``SELECT *`` from the user's table (``schema.table``, ``[dbo].[Outpatients]``): a lightweight
    table clause, quoted by the database's dialect, with no reflection (which some dialects lack)."""
    from sqlalchemy import literal_column, select
    from sqlalchemy import table as table_clause

    from carelens.db.schema import split_table_name

    schema, name = split_table_name(table)
    return select(literal_column("*")).select_from(table_clause(name, schema=schema))


def write_scores_file(scores: pd.DataFrame, path: str | Path) -> Path:
    return write_table(scores, path)


def scores_table(name: str, schema: str | None = None):
    """The scores table ``--target-table`` names, in a database carelens does not own (a warehouse).

    Not part of the store (its name and schema are the user's), so not under the store's Alembic
    history: it is created if missing, and an incompatible existing table fails the insert.
    """
    from sqlalchemy import Column, DateTime, Double, MetaData, String, Table, Text

    return Table(
        name,
        MetaData(),
        Column("appointment_id", String(64), primary_key=True),
        Column("model_version", String(32), primary_key=True),
        Column("dna_probability", Double, nullable=False),
        Column("risk_band", String(16), nullable=False),
        Column("reasons", Text),
        Column("scored_at", DateTime),
        schema=schema,
    )


def write_scores_db(scores: pd.DataFrame, db_url: str, table: str) -> int:
    """Upsert scores keyed on (appointment_id, model_version) in one transaction; return rows written.

    The floor's bulk upsert (:func:`carelens.db.bulk.upsert_frame`) picks the path: DuckDB upserts
    on the key, PostgreSQL takes ``COPY`` into a temporary table, other databases (SQL Server)
    get batched deletes and inserts. Always one transaction: a failure leaves the table as it was.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from carelens.db import open_engine
    from carelens.db.bulk import upsert_frame
    from carelens.db.schema import split_table_name

    schema, name = split_table_name(table)
    target = scores_table(name, schema)
    frame = scores[[c.name for c in target.columns]].copy()
    frame["appointment_id"] = frame["appointment_id"].astype(str)
    frame["model_version"] = frame["model_version"].astype(str)
    frame["scored_at"] = pd.to_datetime(frame["scored_at"])
    if frame.duplicated(["appointment_id", "model_version"]).any():
        raise TableError("the scores repeat an (appointment_id, model_version) pair; nothing was written")
    engine = open_engine(db_url)
    try:
        with engine.begin() as conn:
            target.metadata.create_all(conn, checkfirst=True)  # an incompatible existing table fails the insert
            upsert_frame(conn, target, frame)
    except (StoreError, SQLAlchemyError) as exc:
        reason = exc.message if isinstance(exc, StoreError) else str(exc)
        raise StoreError(f"could not write scores; nothing was changed: {reason}".splitlines()[0], file=table) from exc
    finally:
        engine.dispose()
    return len(frame)
