"""``POST /comparison/<kind>``: where is it getting worse, and who are we hearing from? The Compare
and "Who we hear from" pages' figures for a client, and the trust's own demographic mix they are
read against (``/comparison/demographics/mix``: loaded by an admin, read by any feedback reader).

Control charts in the NHS "Making Data Count" style (``feedback.spc``), the places whose latest
period is a special cause, and one period against another (``feedback.comparison``). Cells from
fewer respondents than ``suppress_below`` are not charted, as on every page.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile

from carelens.access.roles import Permission
from carelens.web.api.auth import AuditDetail, CallerDep, require
from carelens.web.api.comparison_models import (
    ChangeRequest,
    ChangeSummary,
    ChartRequest,
    ChartSummary,
    DemographicsRequest,
    DemographicsSummary,
    SignalsRequest,
    SignalsSummary,
    TrustMixList,
    TrustMixLoaded,
)
from carelens.web.api.deps import EngineDep, SettingsDep
from carelens.web.api.errors import ApiError, responses
from carelens.web.api.routes import guarded
from carelens.web.api.routes.frames import records

router = APIRouter(prefix="/comparison", tags=["comparison"], dependencies=guarded(Permission.FEEDBACK_READ))
REFUSALS = responses(400, 401, 403, 413, 422)
POINT_FIELDS = ["period", "start", "end", "value", "centre", "upper", "lower", "near_upper", "near_lower",
                "respondents", "outside", "shift", "trend", "two_of_three", "variation"]
CHANGE_FIELDS = ["place", "before", "now", "change", "respondents_now", "respondents_before", "significant"]


def _scoped(filters, caller, audit: dict):
    """The request's filters kept to the caller's locations (as every feedback route does), and audited."""
    audit["filters"] = filters.model_dump(exclude_defaults=True, mode="json")
    return filters.scoped(caller.feedback_scope())


def _measure(key: str):
    from carelens.feedback.store.trends import Measure

    return Measure.from_key(key)


@router.post("/signals", response_model=SignalsSummary, responses=REFUSALS)
def signals(engine: EngineDep, settings: SettingsDep, caller: CallerDep, audit: AuditDetail,
            body: SignalsRequest | None = None) -> SignalsSummary:
    """Places at a location level whose chart's latest point is a special cause (concerns first)."""
    from carelens.feedback.comparison import signals as find

    body = body or SignalsRequest()
    m = _measure(body.measure)
    table = find(engine, _scoped(body.filters, caller, audit), m, level=body.level, period=body.period,
                 baseline=body.baseline,
                 suppress_below=settings.suppress_below, include_common=body.include_common)
    return SignalsSummary(measure=m.key(), label=m.label, better=m.better, suppress_below=settings.suppress_below,
                          rows=records(table))


@router.post("/chart", response_model=ChartSummary, responses=REFUSALS)
def chart(engine: EngineDep, settings: SettingsDep, caller: CallerDep, audit: AuditDetail,
          body: ChartRequest | None = None) -> ChartSummary:
    """One place's control chart (or the trust's), with the trust's beside a place's."""
    from carelens.feedback.comparison import chart_of, place_chart

    body = body or ChartRequest()
    m = _measure(body.measure)
    place = body.place if body.level is not None and body.place else None
    points, trust = place_chart(engine, _scoped(body.filters, caller, audit), m, level=body.level, place=place,
                                period=body.period, baseline=body.baseline, suppress_below=settings.suppress_below)
    trust_chart = chart_of(trust, m, baseline=body.baseline) if place else points.iloc[0:0]
    return ChartSummary(measure=m.key(), label=m.label, chart=m.chart, better=m.better, place=place,
                        provisional=bool(points.attrs.get("provisional", True)),
                        hidden_periods=int(points.attrs.get("hidden", 0)), suppress_below=settings.suppress_below,
                        points=records(points.reindex(columns=POINT_FIELDS)),
                        trust=records(trust_chart.reindex(columns=POINT_FIELDS)))


@router.post("/change", response_model=ChangeSummary, responses=REFUSALS)
def change(engine: EngineDep, settings: SettingsDep, caller: CallerDep, audit: AuditDetail,
           body: ChangeRequest | None = None) -> ChangeSummary:
    """Each place in one period against another (the biggest moves for the worse first): by default
    the latest month against the one before."""
    from carelens.feedback.comparison import Period, period_change
    from carelens.feedback.store.trends import latest_periods

    body = body or ChangeRequest()
    filters = _scoped(body.filters, caller, audit)
    m = _measure(body.measure)
    current = _period(body.current)
    if current is None:
        months = latest_periods(engine, filters, "month")
        if not months:  # nothing dated to compare: an empty answer, not an error
            return ChangeSummary(measure=m.key(), label=m.label, current_from=None, current_to=None,
                                 previous_from=None, previous_to=None, suppress_below=settings.suppress_below, rows=[])
        current = Period(months[-1][1], months[-1][2])
    table = period_change(engine, filters, m, level=body.level, current=current, previous=_period(body.previous),
                          suppress_below=settings.suppress_below, worst_first=True)
    before = table.attrs["previous"]
    return ChangeSummary(measure=m.key(), label=m.label, current_from=current.start.isoformat(),
                         current_to=current.end.isoformat(), previous_from=before.start.isoformat(),
                         previous_to=before.end.isoformat(), suppress_below=settings.suppress_below,
                         rows=records(table[CHANGE_FIELDS]))


def _period(span):
    """A request's span of days as a ``Period`` (None stays None; a span given backwards is read forwards)."""
    from carelens.feedback.comparison import Period

    if span is None:
        return None
    return Period(min(span.first, span.last), max(span.first, span.last))


@router.post("/demographics", response_model=DemographicsSummary, responses=REFUSALS)
def demographics(engine: EngineDep, settings: SettingsDep, caller: CallerDep, audit: AuditDetail,
                 body: DemographicsRequest | None = None) -> DemographicsSummary:
    """Who are we hearing from: respondents by each demographic field in the selection, beside every
    respondent in the store; each person once; values from fewer respondents than the limit suppressed."""
    from carelens.feedback.store.demographics import respondents_by_demographic

    table = respondents_by_demographic(engine, _scoped((body or DemographicsRequest()).filters, caller, audit),
                                       suppress_below=settings.suppress_below)
    return DemographicsSummary(suppress_below=settings.suppress_below, rows=records(table),
                               mixes=[{**m, "loaded_at": _when(m["loaded_at"])} for m in table.attrs.get("mixes", [])])


def _when(moment) -> str:
    """A stored time as ISO 8601 to the second (the store keeps UTC without a zone)."""
    import pandas as pd

    return pd.Timestamp(moment).isoformat(timespec="seconds")


@router.get("/demographics/mix", response_model=TrustMixList, responses=responses(400, 401, 403, 413))
def trust_mix(engine: EngineDep) -> TrustMixList:
    """The trust's own demographic mix as loaded: each field's values and shares, and where they came from."""
    from carelens.feedback.store.trust_mix import list_mix

    table = list_mix(engine)
    return TrustMixList(rows=[{"field": r["field"], "value": r["value"], "share": float(r["share"]),
                               "source": r["source"], "loaded_at": _when(r["loaded_at"])}
                              for r in table.to_dict("records")])


@router.post("/demographics/mix", response_model=TrustMixLoaded, responses=responses(400, 401, 403, 413, 415, 422),
             dependencies=[Depends(require(Permission.MANAGE_ALIASES))])
def load_trust_mix(
    engine: EngineDep,
    settings: SettingsDep,
    audit: AuditDetail,
    file: Annotated[UploadFile, File(description="CSV, XLSX or parquet with columns field, value and share (a "
                                                 "fraction or a percent); each field's shares add up to 1 (100%).")],
    source: Annotated[str, Form(min_length=1, max_length=500,
                                description="Where the figures come from, shown beside them (e.g. \"ONS Census "
                                            "2021, our catchment\").")],
) -> TrustMixLoaded:
    """Load the trust's own mix of demographic values (admins): each field in the file replaces that
    field's mix at once; a file with any problem changes nothing (a 400 naming its row and column)."""
    from carelens.feedback.store.trust_mix import replace_mix
    from carelens.feedback.trust_mix import parse_mix
    from carelens.tables import UPLOAD_SUFFIXES
    from carelens.web.api.routes.comments import read_upload

    name = Path(file.filename or "mix.csv").name or "mix.csv"
    audit.update(action="mix_load", file=name, source=source[:200])
    if Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise ApiError(415, f"field 'file': {name!r} is not CSV, XLSX or parquet", field="file")
    mix = parse_mix(read_upload(file, name, settings.max_request_bytes), name)
    fields = replace_mix(engine, mix, source)  # recorded by the API's audit trail, as this request
    audit["fields"] = {f["field"]: f["values"] for f in fields}
    return TrustMixLoaded(source=" ".join(source.split()), fields=fields)
