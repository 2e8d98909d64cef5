"""The trust's own demographic mix in the store: load (a field's mix replaced at once), list, remove,
and read back matched to the values the store shows.

A load is one transaction: every field in the file has its old rows deleted and its new ones
written, with the audit event when a person is named, or nothing changes at all. A field is stored
under the spelling the store's uploads use when one matches (case and spaces aside), so a file
saying "ethnicity" lands on "Ethnicity". Values keep the file's spelling; they are matched to the
stored values as the page reads them (:func:`mix_by_field`), through the Spellings page's aliases,
so a census table's "White: English, Welsh, Scottish" can be merged into "White British" the
same way two exports' spellings are. The CLI (``carelens feedback mix``), the API
(``/comparison/demographics/mix``) and :mod:`carelens.feedback.store.demographics` call these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from carelens.db.bulk import read_frame
from carelens.db.schema import now_utc
from carelens.errors import CarelensError
from carelens.feedback.store.aliases import spelling_key
from carelens.feedback.store.tables import aliases, trust_mix
from carelens.feedback.trust_mix import TrustMix

COLUMNS = ["field", "value", "share", "source", "loaded_by", "loaded_at"]
MAX_SOURCE = 500


@dataclass(frozen=True)
class FieldMix:
    """One field's mix as the page shows it: ``shares`` maps each value (aliases applied) to its
    share (0..1); where the figures came from and when they were loaded."""

    field: str
    shares: dict[str, float]
    source: str
    loaded_at: datetime


def _store_fields(engine: sa.Engine) -> list[str]:
    from carelens.feedback.store.view import store_view

    return store_view(engine).demographic_fields


def replace_mix(engine: sa.Engine, mix: TrustMix, source: str, *, who=None) -> list[dict]:
    """Store ``mix``, replacing every row of each of its fields, in one transaction.

    ``source``: where the figures come from ("ONS Census 2021, our catchment"), shown beside them.
    ``who``: a principal (or name) to record in the audit log in the same transaction (None:
    the caller records the change, as the API's audit trail does). Returns one dict per field:
    field (as stored), values, scale ("percent"/"fraction" as written), replaced (rows it had).
    """
    source = " ".join(str(source or "").split())
    if not source:
        raise CarelensError("say where the mix comes from, e.g. \"ONS Census 2021, our catchment\"", field="source")
    if len(source) > MAX_SOURCE or "\x00" in source:
        raise CarelensError(f"the source must be plain text of at most {MAX_SOURCE} characters", field="source")
    known = {spelling_key(f): f for f in _store_fields(engine)}
    now = now_utc()
    by = getattr(who, "name", who)
    summary = []
    with engine.begin() as conn:
        stored = list(conn.execute(sa.select(trust_mix.c.field).distinct()).scalars())
        rows = []
        for name, part in mix.rows.groupby("field", sort=False):
            key = spelling_key(name)
            # every spelling of the field already stored goes: "ethnicity" loaded over "Ethnicity" replaces it
            old = [f for f in stored if spelling_key(f) == key]
            stored_as = known.get(key) or (old[0] if old else name)
            replaced = conn.execute(trust_mix.delete().where(trust_mix.c.field.in_(old))).rowcount if old else 0
            rows += [{"field": stored_as, "value": v, "share": float(s), "source": source,
                      "loaded_by": None if by is None else str(by)[:200], "loaded_at": now}
                     for v, s in zip(part["value"], part["share"])]
            summary.append({"field": stored_as, "values": len(part), "scale": mix.scales.get(name, "fraction"),
                            "replaced": int(replaced or 0)})
        conn.execute(trust_mix.insert(), rows)
        if who is not None:
            from carelens.access import audit

            audit.record(conn, who, "mix_load", source, {"fields": {s["field"]: s["values"] for s in summary},
                                                         "replaced": sum(s["replaced"] for s in summary)})
    _changed(engine)
    return summary


def remove_mix(engine: sa.Engine, field: str, *, who=None) -> int:
    """Forget a field's mix (any spelling of the field); returns how many values it had."""
    key = spelling_key(field)
    with engine.begin() as conn:
        names = [f for f in conn.execute(sa.select(trust_mix.c.field).distinct()).scalars() if spelling_key(f) == key]
        gone = conn.execute(trust_mix.delete().where(trust_mix.c.field.in_(names))).rowcount if names else 0
        if who is not None and gone:
            from carelens.access import audit

            audit.record(conn, who, "mix_remove", names[0], {"values": int(gone)})
    _changed(engine)
    return int(gone or 0)


def list_mix(engine: sa.Engine) -> pd.DataFrame:
    """Every stored share: field, value, share (0..1), source, loaded_by, loaded_at; by field, then
    the order of the shares (largest first)."""
    with engine.connect() as conn:
        frame = read_frame(conn, sa.select(*(trust_mix.c[c] for c in COLUMNS))
                           .order_by(trust_mix.c.field, trust_mix.c.share.desc(), trust_mix.c.value))
    return frame.reindex(columns=COLUMNS)


def mix_by_field(engine: sa.Engine, fields: list[str]) -> dict[str, FieldMix]:
    """The mix of each of ``fields`` (the store's demographic fields) that has one, its values
    shown as the store shows them: an alias of the field ("demo:<field>") renames a value, and
    values an alias merges add up."""
    table = list_mix(engine)
    if table.empty:
        return {}
    with engine.connect() as conn:
        merged = read_frame(conn, sa.select(aliases.c.field, aliases.c.spelling, aliases.c.canonical)
                            .where(aliases.c.field.like("demo:%")))
    out = {}
    for field in fields:
        mine = table[table["field"].map(spelling_key) == spelling_key(field)]
        if mine.empty:
            continue
        renames = dict(zip(*(merged.loc[merged["field"] == f"demo:{field}", c] for c in ("spelling", "canonical"))))
        shares: dict[str, float] = {}
        for value, share in zip(mine["value"], mine["share"]):
            shown = renames.get(spelling_key(value), value)
            shares[shown] = shares.get(shown, 0.0) + float(share)
        latest = mine.loc[mine["loaded_at"].idxmax()]
        out[field] = FieldMix(field=field, shares=shares, source=str(latest["source"]),
                              loaded_at=pd.Timestamp(latest["loaded_at"]).to_pydatetime())
    return out


def _changed(engine: sa.Engine) -> None:
    from carelens.feedback.store.view import revision_changed

    revision_changed(engine)  # the in-memory view holds no mix: it stays, only the revision is asked again
