"""Who are we hearing from? Respondents by each demographic field (age band, sex, ethnicity ...),
the selection against every respondent in the store (the trust's mix as far as the data has it).

Counted per respondent, not per comment (a respondent with two answers is one person), and
suppressed per respondent: a value held by fewer respondents than the limit in the selection shows
no count or share (:mod:`carelens.privacy`). Blank values are "(not stated)", so the shares of a
field add to 100 %.
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
COLUMNS = ["field", "value", "respondents", "share", "trust_respondents", "trust_share", "suppressed"]


def _band(value: str) -> str:
    """An age band's sort text: "Under 18" and "<18" sort before "18-34" (as "17.5"), the rest as written."""
    found = re.match(r"^\s*(?:under|<|less than)\s*(\d+)", value, flags=re.IGNORECASE)
    return f"{int(found.group(1)) - 1}.5" if found else value


def respondents_by_demographic(engine: sa.Engine, filters: CommentFilters | None = None, *,
                               suppress_below: int | None = None) -> pd.DataFrame:
    """One row per (field, value): respondents in the selection and their share of it, respondents
    in the whole store the filters' scopes allow and their share (``trust_*``), ``suppressed``. Fields in the store's order,
    values in natural order with "(not stated)" last."""
    view = store_view(engine)
    if view.n_responses == 0 or not view.demographic_fields:
        return pd.DataFrame(columns=COLUMNS)
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
        mine = values.iloc[first[chosen]].value_counts().reindex(everyone.index, fill_value=0)
        order = sorted(everyone.index, key=lambda v: (v == NOT_STATED, natural_key(_band(v))))
        frame = pd.DataFrame({"field": field, "value": order, "respondents": mine[order].to_numpy(),
                              "trust_respondents": everyone[order].to_numpy()})
        frame["share"] = frame["respondents"] / max(1, int(chosen.sum()))
        frame["trust_share"] = frame["trust_respondents"] / max(1, len(first))
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
    return out[COLUMNS]
