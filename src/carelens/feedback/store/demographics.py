"""Who are we hearing from? Respondents by each demographic field (age band, sex, ethnicity ...),
the selection against every respondent in the store, and against the trust's own mix where one was
loaded (its catchment's census shares or its patient population: :mod:`.trust_mix`).

Counted per respondent, not per comment (a respondent with two answers is one person), and
suppressed per respondent: a value held by fewer respondents than the limit in the selection shows
no count or share (:mod:`carelens.privacy`). Blank values are "(not stated)", so the shares of a
field add to 100 %. The trust mix is not patient data and is always shown; the difference from it
is hidden wherever the selection's share is (it would give the share back).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import sqlalchemy as sa

from carelens.feedback.store.filters import CommentFilters, natural_key
from carelens.feedback.store.queries import filter_mask
from carelens.feedback.store.view import store_view
from carelens.privacy import threshold

NOT_STATED = "(not stated)"
COLUMNS = ["field", "value", "respondents", "share", "trust_respondents", "trust_share", "suppressed", "mix_share",
           "mix_difference"]


def _band(value: str) -> str:
    """An age band's sort text: "Under 18" and "<18" sort before "18-34" (as "17.5"), the rest as written."""
    found = re.match(r"^\s*(?:under|<|less than)\s*(\d+)", value, flags=re.IGNORECASE)
    return f"{int(found.group(1)) - 1}.5" if found else value


def _mix_rows(everyone: pd.Series, mix) -> tuple[list[str], dict[str, float]]:
    """(values of the mix the store has no respondent with, each shown value's mix share): a mix
    value matches a stored one whatever its case and spaces; "Not stated" also matches the blank
    values' "(not stated)" when no respondent wrote "Not stated" itself."""
    from carelens.feedback.store.aliases import spelling_key

    shown = {spelling_key(v): v for v in everyone.index}
    extra: list[str] = []
    shares: dict[str, float] = {}
    for value, share in mix.shares.items():
        key = spelling_key(value)
        if key not in shown and key == spelling_key(NOT_STATED.strip("()")) and spelling_key(NOT_STATED) in shown:
            key = spelling_key(NOT_STATED)
        if key not in shown:
            shown[key] = value
            extra.append(value)
        target = shown[key]
        shares[target] = shares.get(target, 0.0) + share
    return extra, shares


def respondents_by_demographic(engine: sa.Engine, filters: CommentFilters | None = None, *,
                               suppress_below: int | None = None) -> pd.DataFrame:
    """One row per (field, value): respondents in the selection and their share of it, respondents
    in the whole store the filters' scopes allow and their share (``trust_*``), ``suppressed``, and
    the trust mix's share (``mix_share``) and the selection's share minus it (``mix_difference``)
    where a mix was loaded for the field. Fields in the store's order, values in natural order with
    "(not stated)" last; a value of the mix no respondent holds is listed too (with no count: whose
    voice is missing is the point). ``attrs["mixes"]``: where each shown field's mix came from
    (field, source, loaded_at)."""
    from carelens.feedback.store.trust_mix import mix_by_field

    view = store_view(engine)
    if view.n_responses == 0 or not view.demographic_fields:
        return pd.DataFrame(columns=COLUMNS)
    mixes = mix_by_field(engine, view.demographic_fields)
    first = view.first_of_response()  # a respondent's demographics are the same on each of their answers
    chosen = np.zeros(view.n_responses, dtype=bool)
    chosen[view.response_code[filter_mask(view, filters)]] = True
    # "everyone" is everyone the caller may see: the store within the filters' location scopes only
    scope_only = CommentFilters()
    for scope in (filters.scopes if filters is not None else ()):
        scope_only = scope_only.scoped(scope)
    in_scope = np.zeros(view.n_responses, dtype=bool)
    in_scope[view.response_code[filter_mask(view, scope_only)]] = True
    first = first[in_scope]
    chosen = chosen[in_scope]
    n = threshold(suppress_below)
    frames = []
    for field in view.demographic_fields:
        values = view.frame[f"demo:{field}"].astype("string").str.strip().replace("", pd.NA).fillna(NOT_STATED)
        everyone = values.iloc[first].value_counts()
        mix = mixes.get(field)
        extra, mix_shares = _mix_rows(everyone, mix) if mix is not None else ([], {})
        if extra:
            everyone = pd.concat([everyone, pd.Series(0, index=extra, dtype=everyone.dtype)])
        mine = values.iloc[first[chosen]].value_counts().reindex(everyone.index, fill_value=0)
        order = sorted(everyone.index, key=lambda v: (v == NOT_STATED, natural_key(_band(v))))
        frame = pd.DataFrame({"field": field, "value": order, "respondents": mine[order].to_numpy(),
                              "trust_respondents": everyone[order].to_numpy()})
        frame["share"] = frame["respondents"] / max(1, int(chosen.sum()))
        frame["trust_share"] = frame["trust_respondents"] / max(1, len(first))
        frame["mix_share"] = pd.array([mix_shares.get(v) if mix is not None else None for v in order],
                                      dtype="Float64")
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    small = out["respondents"] < n
    out["suppressed"] = small
    out["respondents"] = out["respondents"].astype("Int64").mask(small)
    out["share"] = out["share"].astype("Float64").mask(small)
    # the trust's own small values are hidden too: they pick out as few people
    trust_small = out["trust_respondents"] < n
    out["trust_respondents"] = out["trust_respondents"].astype("Int64").mask(trust_small)
    out["trust_share"] = out["trust_share"].astype("Float64").mask(trust_small)
    # the difference from the mix would give a hidden share back: hidden with it
    out["mix_difference"] = out["share"] - out["mix_share"]
    out = out[COLUMNS]
    out.attrs["mixes"] = [{"field": m.field, "source": m.source, "loaded_at": m.loaded_at} for m in mixes.values()]
    return out
