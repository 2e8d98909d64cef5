"""Spellings merged across uploads: "Ward 10", "ward 10 " and "Wd 10" from three exports are one ward.

An alias says that a spelling of a place (any location level) or of a demographic value stands for
another value. Stored rows are never rewritten: the store's in-memory view applies the aliases as
it reads (``view.py``), so every filter, chart, comparison, export, report and API answer shows the
merged value, and removing an alias brings the spelling back. Spellings match whatever their case
and surrounding spaces. The Spellings page (dashboard) and ``carelens feedback alias`` (CLI) call
these functions; ``who`` is recorded on each alias.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from carelens.db.bulk import read_frame
from carelens.errors import CarelensError
from carelens.feedback.store.tables import aliases

LOCATION_FIELDS = ("location_1", "location_2", "location_3")


def spelling_key(value: object) -> str:
    """How spellings are compared: without surrounding spaces, runs of spaces as one, case folded."""
    return " ".join(str(value).split()).casefold()


def field_key(name: str, level_names: Iterable[str] = (), demographic_fields: Iterable[str] = ()) -> str:
    """The stored field for what a person typed: a level name ("Ward / team"), "location_3", or a
    demographic field ("Ethnicity"); a CarelensError naming the choices otherwise."""
    levels = list(level_names)
    demographics = list(demographic_fields)
    wanted = spelling_key(name)
    for i, level in enumerate(levels):
        if wanted in (spelling_key(level), f"location_{i + 1}"):
            return f"location_{i + 1}"
    if wanted in LOCATION_FIELDS:
        return wanted
    for field in demographics:
        if wanted in (spelling_key(field), spelling_key(f"demo:{field}")):
            return f"demo:{field}"
    choices = ", ".join([*levels, *demographics]) or "no location level or demographic field"
    raise CarelensError(f"unknown field {name!r}: choose one of {choices}", field="field")


def add_aliases(engine: sa.Engine, field: str, spellings: Iterable[str], canonical: str, *, by: str | None = None) -> int:
    """Record that each of ``spellings`` of ``field`` stands for ``canonical`` (an alias already
    there is replaced); returns how many distinct spellings (case and spaces aside) were recorded."""
    from carelens.feedback.store.view import invalidate

    canonical = " ".join(str(canonical).split())
    if not canonical:
        raise CarelensError("the merged value is empty: type the spelling to keep", field="canonical")
    if not (field in LOCATION_FIELDS or (field.startswith("demo:") and len(field) > 5)):
        raise CarelensError(f"unknown field {field!r}", field="field")
    # the canonical spelling's own key is kept: "WARD 10 " then shows as "Ward 10" too
    keys = sorted({spelling_key(s) for s in spellings if spelling_key(s)})
    if not keys:
        return 0
    now = datetime.now()
    with engine.begin() as conn:
        conn.execute(aliases.delete().where(aliases.c.field == field, aliases.c.spelling.in_(keys)))
        conn.execute(aliases.insert(), [{"field": field, "spelling": k, "canonical": canonical, "created_by": by,
                                         "created_at": now} for k in keys])
        # an alias pointing at a spelling now merged further follows it ("Wd 10" -> "ward 10" -> "Ward 10")
        conn.execute(aliases.update().where(aliases.c.field == field,
                                            sa.func.lower(aliases.c.canonical).in_(keys))
                     .values(canonical=canonical))
    invalidate(engine)
    return len(keys)


def remove_aliases(engine: sa.Engine, field: str, spellings: Iterable[str]) -> int:
    """Forget aliases of ``field``; returns how many there were."""
    from carelens.feedback.store.view import invalidate

    keys = [spelling_key(s) for s in spellings]
    with engine.begin() as conn:
        gone = conn.execute(aliases.delete().where(aliases.c.field == field, aliases.c.spelling.in_(keys))).rowcount
    invalidate(engine)
    return int(gone or 0)


def list_aliases(engine: sa.Engine) -> pd.DataFrame:
    """Every alias: field, spelling, canonical, created_by, created_at (by field, then merged value)."""
    with engine.connect() as conn:
        frame = read_frame(conn, sa.select(aliases).order_by(aliases.c.field, aliases.c.canonical, aliases.c.spelling))
    return frame


def apply_aliases(frame: pd.DataFrame, table: pd.DataFrame) -> None:
    """Replace, in place, each value of ``frame`` that has an alias by its merged value (``table``:
    :func:`list_aliases`). Columns are "location_N" and "demo:<field>", as the store view's."""
    for field, rows in table.groupby("field"):
        if field not in frame:
            continue
        mapping = dict(zip(rows["spelling"], rows["canonical"]))
        values = frame[field]
        keys = values.map(lambda v: spelling_key(v) if isinstance(v, str) else v)
        hit = keys.isin(list(mapping)).to_numpy()
        if hit.any():
            frame.loc[hit, field] = keys[hit].map(mapping).to_numpy()
