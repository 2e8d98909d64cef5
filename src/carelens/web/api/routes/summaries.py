"""``POST /summaries/<kind>``: the dashboard's summaries for a set of filters, privacy-suppressed.

One route per kind, each with its own row model, so the OpenAPI document says what every summary
holds. Rows covering fewer comments than ``suppress_below`` have ``suppressed: true`` and null
figures (:mod:`carelens.privacy`).
"""

from __future__ import annotations

from fastapi import APIRouter

from carelens.access.roles import Permission
from carelens.web.api.auth import AuditDetail, CallerDep
from carelens.web.api.deps import EngineDep, SettingsDep
from carelens.web.api.errors import responses
from carelens.web.api.models import (
    CategoriesByMonthSummary,
    ComplexSummary,
    CooccurrenceSummary,
    FftByMonthSummary,
    SentimentByMonthSummary,
    SummaryRequest,
    TopicsSummary,
    TotalsSummary,
)
from carelens.web.api.routes import guarded
from carelens.web.api.routes.frames import records

router = APIRouter(prefix="/summaries", tags=["summaries"], dependencies=guarded(Permission.FEEDBACK_READ))
REFUSALS = responses(400, 401, 403, 413, 422)


def _filters(body: SummaryRequest | None, caller, audit: dict | None = None):
    """The request's filters (no body: all comments), kept to the caller's locations."""
    filters = (body or SummaryRequest()).filters
    if audit is not None:
        audit["filters"] = filters.model_dump(exclude_defaults=True, mode="json")
    return filters.scoped(caller.feedback_scope())


def _rows(model, kind: str, summarise, engine, settings, body: SummaryRequest | None, caller, audit: dict):
    """``model`` holding ``summarise``'s suppressed frame for the request's filters, as rows."""
    frame = summarise(engine, _filters(body, caller, audit), suppress_below=settings.suppress_below)
    return model(kind=kind, suppress_below=settings.suppress_below, rows=records(frame))


def _queries():
    from carelens.feedback.store import queries

    return queries


@router.post("/totals", response_model=TotalsSummary, responses=REFUSALS)
def totals(engine: EngineDep, settings: SettingsDep, caller: CallerDep, audit: AuditDetail,
        body: SummaryRequest | None = None) -> TotalsSummary:
    """Headline numbers: comments, date span, positive/neutral/negative split."""
    row = _queries().summary_totals(engine, _filters(body, caller, audit), suppress_below=settings.suppress_below)
    return TotalsSummary(kind="totals", suppress_below=settings.suppress_below, rows=[row])


@router.post("/topics", response_model=TopicsSummary, responses=REFUSALS)
def topics(engine: EngineDep, settings: SettingsDep, caller: CallerDep, audit: AuditDetail,
        body: SummaryRequest | None = None) -> TopicsSummary:
    """Per sub-category: comments, share of the filtered comments, sentiment split; most first."""
    return _rows(TopicsSummary, "topics", _queries().topic_summary, engine, settings, body, caller, audit)


@router.post("/categories-by-month", response_model=CategoriesByMonthSummary, responses=REFUSALS)
def categories_by_month(engine: EngineDep, settings: SettingsDep, caller: CallerDep, audit: AuditDetail,
        body: SummaryRequest | None = None) -> CategoriesByMonthSummary:
    """Comments per month and category."""
    return _rows(CategoriesByMonthSummary, "categories-by-month", _queries().categories_by_month, engine, settings, body, caller, audit)


@router.post("/sentiment-by-month", response_model=SentimentByMonthSummary, responses=REFUSALS)
def sentiment_by_month(engine: EngineDep, settings: SettingsDep, caller: CallerDep, audit: AuditDetail,
        body: SummaryRequest | None = None) -> SentimentByMonthSummary:
    """Per month: comments, mean sentiment (1..5), positive/neutral/negative counts."""
    return _rows(SentimentByMonthSummary, "sentiment-by-month", _queries().sentiment_by_month, engine, settings, body, caller, audit)


@router.post("/fft-by-month", response_model=FftByMonthSummary, responses=REFUSALS)
def fft_by_month(engine: EngineDep, settings: SettingsDep, caller: CallerDep, audit: AuditDetail,
        body: SummaryRequest | None = None) -> FftByMonthSummary:
    """Per month: respondents scoring 1-5, mean FFT score, share good, and the count of each answer."""
    return _rows(FftByMonthSummary, "fft-by-month", _queries().fft_by_month, engine, settings, body, caller, audit)


@router.post("/cooccurrence", response_model=CooccurrenceSummary, responses=REFUSALS)
def cooccurrence(engine: EngineDep, settings: SettingsDep, caller: CallerDep, audit: AuditDetail,
        body: SummaryRequest | None = None) -> CooccurrenceSummary:
    """Pairs of sub-categories in the same comment."""
    return _rows(CooccurrenceSummary, "cooccurrence", _queries().topic_cooccurrence, engine, settings, body, caller, audit)


@router.post("/complex", response_model=ComplexSummary, responses=REFUSALS)
def complex_comments(engine: EngineDep, settings: SettingsDep, caller: CallerDep, audit: AuditDetail,
        body: SummaryRequest | None = None) -> ComplexSummary:
    """Long comments and comments touching many topics, most topics first (redacted text).

    Withheld, like ``/comments/query``, when fewer than the privacy limit are picked out by a
    demographic filter.
    """
    queries = _queries()
    filters = _filters(body, caller, audit)
    frame = queries.complex_comments(engine, filters)
    if queries.comments_suppressed(filters, frame["response_key"].nunique(), settings.suppress_below):
        return ComplexSummary(kind="complex", suppress_below=settings.suppress_below, rows=[], withheld=True)
    return ComplexSummary(kind="complex", suppress_below=settings.suppress_below, rows=records(frame))
