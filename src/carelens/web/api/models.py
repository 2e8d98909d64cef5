"""Data crossing the API (pydantic): requests validated field by field, responses documented.

Requests are strict (``StrictIn``), as JSON Schema reads the OpenAPI document: a number sent as
text or ``"true"`` for a boolean is refused, while ``4.0`` is an integer (:data:`JsonInt`). So what
the document calls invalid is refused and what it calls valid is accepted. Responses describe
exactly what the routes return (FastAPI checks each one).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from carelens.feedback.store.filters import CommentFilters


class StrictIn(BaseModel):
    """A request body: unknown fields and loosely typed values are refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _iso_date(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value)  # a ValueError (month 13) becomes the field's 422
    raise ValueError("a date is written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})]


def _integral(value: object) -> object:
    return int(value) if isinstance(value, float) and value.is_integer() else value


# An integer as JSON Schema has it: 4 and 4.0, not "4", true or 4.5 (strict mode refuses those).
JsonInt = Annotated[int, BeforeValidator(_integral)]


def int_between(low: int, high: int):
    """A :data:`JsonInt` from ``low`` to ``high`` (bounds first: after the validator, pydantic would
    publish them as ``ge``/``le`` inside a union instead of ``minimum``/``maximum``)."""
    return Annotated[int, Field(ge=low, le=high), BeforeValidator(_integral)]


_BASE = CommentFilters.model_fields


class FiltersIn(CommentFilters):
    """The dashboard's filters (:class:`carelens.feedback.store.CommentFilters`), strictly typed."""

    model_config = ConfigDict(extra="forbid", strict=True)
    date_from: IsoDate | None = Field(None, description="First day included (YYYY-MM-DD).")
    date_to: IsoDate | None = Field(None, description="Last day included (YYYY-MM-DD).")
    fft_score: list[JsonInt] = Field(default_factory=list, description=_BASE["fft_score"].description,
                                     json_schema_extra=_BASE["fft_score"].json_schema_extra)
    sentiment: list[JsonInt] = Field(default_factory=list, description=_BASE["sentiment"].description,
                                     json_schema_extra=_BASE["sentiment"].json_schema_extra)


# --------------------------------------------------------------------------- classify
class CommentIn(StrictIn):
    """One comment to classify (pxtextmining's request shape)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"comment_id": "1", "comment_text": "The nurses were kind but I waited four hours", "fft_score": 2}]})

    comment_id: str = Field(..., min_length=1, max_length=200)
    comment_text: str = Field(..., max_length=50_000)
    question_type: str | None = Field(None, max_length=500, description="FFT question asked (optional).")
    fft_score: int_between(1, 6) | None = Field(None, description="FFT score 1 very good .. 5 very poor, 6 don't know.")


class ClassifiedComment(BaseModel):
    comment_id: str
    topics: list[str] = Field(description="Predicted sub-categories of the framework.")
    categories: list[str] = Field(description="The category of each topic (unique, in order).")
    sentiment: int | None = Field(description="1 very positive .. 5 very negative; null when content-free.")
    probabilities: dict[str, float] = Field(description="Topic probabilities of at least 0.01.")


# --------------------------------------------------------------------------- loading
def _columns_list(value: object) -> object:
    return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value


# One type (a list) with text accepted and split, so a wrong value gets one error, not one per union member.
Demographics = Annotated[
    list[Annotated[str, Field(max_length=500)]],
    BeforeValidator(_columns_list),
    WithJsonSchema({"anyOf": [{"type": "array", "items": {"type": "string", "maxLength": 500}}, {"type": "string"}]}),
]


TextColumns = Annotated[
    list[Annotated[str, Field(max_length=500)]],
    BeforeValidator(lambda value: [value] if isinstance(value, str) else value),
    WithJsonSchema({"anyOf": [{"type": "string", "maxLength": 500},
                              {"type": "array", "items": {"type": "string", "maxLength": 500}, "minItems": 1}]}),
]


class MappingIn(StrictIn):
    """Which column feeds each field. A field left out is detected from common export names; a field
    given as null is not in this file (never guessed)."""

    comment_text: TextColumns | None = Field(None, description="The free-text column, or a list of them: one per "
                                             "question of the return (each answer is stored with its column's name).")
    comment_id: str | None = Field(None, max_length=500)
    date: str | None = Field(None, max_length=500)
    question: str | None = Field(None, max_length=500)
    fft_score: str | None = Field(None, max_length=500)
    location_1: str | None = Field(None, max_length=500)
    location_2: str | None = Field(None, max_length=500)
    location_3: str | None = Field(None, max_length=500)
    demographics: Demographics | None = Field(None, description="Demographic columns: a list, or one comma-separated text.")

    def overrides(self) -> dict[str, Any]:
        """The fields given (null: not in this file), as ``feedback.ingest.load_comments`` takes them."""
        return self.model_dump(exclude_unset=True)


Cell = str | int | float | bool | None


class LoadRowsRequest(StrictIn):
    """Comments as JSON rows (column name -> value), mapped like a file upload."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "rows": [{"Comment ID": "A-1", "Date": "01/03/2024", "FFT answer": "Friendly staff, clean ward", "FFT score": "Very good",
                  "Ward": "Ward 7"}],
        "mapping": {"location_3": "Ward"}, "source": "ward-7-march.csv"}]})

    rows: list[dict[str, Cell]] = Field(..., min_length=1, description="One object per comment.")
    mapping: MappingIn = Field(default_factory=MappingIn)
    source: str = Field("api", min_length=1, max_length=200)
    strict: bool = False


class ColumnMappingOut(BaseModel):
    comment_text: str | list[str] | None = Field(description="The text column, or the list of them when several were read.")
    comment_id: str | None
    date: str | None
    question: str | None
    fft_score: str | None
    location_1: str | None
    location_2: str | None
    location_3: str | None
    demographics: list[str]


class LoadResponse(BaseModel):
    upload_id: str | None
    source: str
    rows_read: int
    rows_added: int
    rows_already_stored: int
    rows_duplicate_in_file: int
    rows_with_problems: int
    model_version: str
    seconds: float
    mapping: ColumnMappingOut
    messages: list[str]
    responses_added: int = Field(description="New returns (respondents) stored.")
    comments_added: int = Field(description="Free-text answers stored, to new returns or to returns stored before.")
    rows_kept_apart: int = Field(description="Rows whose ID another, different return already had: stored as their own.")
    added_nothing: bool = Field(description="True when the store is unchanged (say so to the user: not a success).")


# --------------------------------------------------------------------------- reading comments
class CommentsQuery(StrictIn):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"filters": {"date_from": "2024-01-01", "sentiment": [4, 5], "search": "waiting"}, "limit": 20}]})
    filters: FiltersIn = Field(default_factory=FiltersIn)
    limit: JsonInt = Field(100, ge=1, le=10_000)
    offset: JsonInt = Field(0, ge=0, le=1_000_000_000)


class StoredComment(BaseModel):
    comment_key: str
    response_key: str = Field(description="The return (respondent) this comment is an answer of.")
    comment_id: str | None = Field(description="The trust's ID of the return.")
    date: str | None
    text: str = Field(description="Redacted comment text.")
    question: str | None
    fft_score: int | None
    location_1: str | None
    location_2: str | None
    location_3: str | None
    topics: list[str] = Field(description="What every view shows: a staff correction where there is one, else the model's.")
    categories: list[str]
    sentiment: int | None
    model_topics: list[str] = Field(description="The model's topics, kept beside any correction.")
    model_sentiment: int | None = Field(description="The model's sentiment, kept beside any correction.")
    flagged: bool
    corrected: bool
    demographics: dict[str, str | None] = Field(default_factory=dict)


class CommentsPage(BaseModel):
    total: int | None = Field(description="How many comments match (null when withheld: fewer than the privacy limit).")
    offset: int
    comments: list[StoredComment]
    withheld: bool = Field(False, description="True when fewer than the privacy limit match a demographic filter: "
                           "the comments are withheld, only the count is given.")


# --------------------------------------------------------------------------- summaries
class SummaryRequest(StrictIn):
    filters: FiltersIn = Field(default_factory=FiltersIn)


class Suppressed(BaseModel):
    suppressed: bool = Field(description="True when this row's comments come from fewer respondents than the "
                             "privacy limit: its figures are null (totals). A breakdown row from fewer is not "
                             "returned at all; inside a returned row, a count under the limit is null.")


class TotalsRow(Suppressed):
    comments: int | None = Field(description="null when suppressed (fewer than the privacy limit), like the dates.")
    respondents: int | None = Field(description="null when suppressed, like the comments.")
    date_from: str | None
    date_to: str | None
    positive: int | None
    neutral: int | None
    negative: int | None


class TopicRow(Suppressed):
    topic: str
    category: str
    comments: int | None
    respondents: int | None
    share: float | None
    positive: int | None
    neutral: int | None
    negative: int | None


class CategoryMonthRow(Suppressed):
    month: str
    category: str
    comments: int | None
    respondents: int | None


class SentimentMonthRow(Suppressed):
    month: str
    comments: int | None
    respondents: int | None
    with_sentiment: int | None = Field(description="Comments with a sentiment: the base of the positive/neutral/negative shares.")
    mean_sentiment: float | None
    positive: int | None
    neutral: int | None
    negative: int | None


class FftMonthRow(Suppressed):
    month: str
    respondents: int | None
    mean_score: float | None
    share_good: float | None
    score_1: int | None
    score_2: int | None
    score_3: int | None
    score_4: int | None
    score_5: int | None
    score_6: int | None


class CooccurrenceRow(Suppressed):
    topic_a: str
    topic_b: str
    comments: int | None
    respondents: int | None


class ComplexComment(StoredComment):
    n_topics: int
    text_length: int


class _Summary(BaseModel):
    kind: str
    suppress_below: int = Field(description="The privacy limit: rows covering fewer comments are suppressed.")


class TotalsSummary(_Summary):
    rows: list[TotalsRow]


class TopicsSummary(_Summary):
    rows: list[TopicRow]


class CategoriesByMonthSummary(_Summary):
    rows: list[CategoryMonthRow]


class SentimentByMonthSummary(_Summary):
    rows: list[SentimentMonthRow]


class FftByMonthSummary(_Summary):
    rows: list[FftMonthRow]


class CooccurrenceSummary(_Summary):
    rows: list[CooccurrenceRow]


class ComplexSummary(_Summary):
    rows: list[ComplexComment]
    withheld: bool = Field(False, description="True when fewer than the privacy limit match a demographic filter: "
                           "the comments are withheld.")


# --------------------------------------------------------------------------- filters
class FilterOptions(BaseModel):
    date_min: str | None
    date_max: str | None
    location_1: list[str]
    location_2: list[str]
    location_3: list[str]
    question: list[str]
    fft_score: list[int]
    categories: dict[str, list[str]] = Field(description="Topics by category.")
    demographics: dict[str, list[str]] = Field(description="Values by demographic field.")
    comments: int | None = Field(description="Comments in the caller's locations (null: fewer than the privacy limit).")
    has_comments: bool = Field(description="Whether any comment is stored in the caller's locations.")
    places: list[list[str | None]] = Field(
        default_factory=list, description="Each distinct (location 1, location 2, location 3) once: which wards "
                                          "lie in which division, for controls that narrow each other.")


# --------------------------------------------------------------------------- corrections
class FlagIn(StrictIn):
    """Flag a comment as interesting."""

    comment_key: str = Field(..., min_length=1, max_length=200)
    kind: Literal["interesting"]
    note: str | None = Field(None, max_length=5_000)


class TopicCorrectionIn(StrictIn):
    """Record a comment's right topics (and optionally sentiment): used by ``train --include-corrections``."""

    comment_key: str = Field(..., min_length=1, max_length=200)
    kind: Literal["wrong_topics"]
    topics: list[str] = Field(..., min_length=1, description="The right topics: names of the model's framework.")
    sentiment: int_between(1, 5) | None = None
    note: str | None = Field(None, max_length=5_000)


class SentimentCorrectionIn(StrictIn):
    """Record a comment's right sentiment (its topics stay as they are)."""

    comment_key: str = Field(..., min_length=1, max_length=200)
    kind: Literal["sentiment"]
    sentiment: int_between(1, 5) = Field(description="1 very positive .. 5 very negative.")
    note: str | None = Field(None, max_length=5_000)


CorrectionIn = Annotated[FlagIn | TopicCorrectionIn | SentimentCorrectionIn, Field(discriminator="kind")]


class CommentKeyIn(StrictIn):
    comment_key: str = Field(..., min_length=1, max_length=200)


class FlagStateIn(CommentKeyIn):
    """Set a comment's "interesting" flag on or off (a comment has at most one flag)."""

    flagged: bool


class FlagStateOut(BaseModel):
    comment_key: str
    flagged: bool


class UndoOut(BaseModel):
    undone: str | None = Field(description="The correction taken back, or null when there was none to undo.")


class CorrectionOut(BaseModel):
    correction_id: str


class CorrectionRecord(BaseModel):
    correction_id: str
    comment_key: str
    kind: str
    topics: str | None = Field(description='The right topics, "; "-joined (wrong_topics only).')
    sentiment: int | None
    note: str | None
    created_by: str | None = Field(description="Who recorded it (the API key's tag, or a dashboard user).")
    created_at: datetime = Field(description="When, in UTC.")
    undone_at: datetime | None = Field(None, description="When it was undone (a flag: taken off), in UTC; null if it stands.")
    undone_by: str | None = Field(None, description="Who undid it.")


class Health(BaseModel):
    status: str
    version: str
    model_loaded: bool
