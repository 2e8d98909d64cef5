"""Data crossing the API (pydantic): requests validated field by field, responses documented."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from carelens.feedback.store.filters import CommentFilters


class CommentIn(BaseModel):
    """One comment to classify (pxtextmining's request shape)."""

    model_config = ConfigDict(extra="forbid")
    comment_id: str = Field(..., min_length=1, max_length=200)
    comment_text: str = Field(..., max_length=50_000)
    question_type: str | None = Field(None, max_length=500, description="FFT question asked (optional).")
    fft_score: int | None = Field(None, ge=1, le=6, description="FFT score 1 very good .. 5 very poor, 6 don't know.")


class ClassifiedComment(BaseModel):
    comment_id: str
    topics: list[str] = Field(description="Predicted sub-categories of the framework.")
    categories: list[str] = Field(description="The category of each topic (unique, in order).")
    sentiment: int | None = Field(description="1 very positive .. 5 very negative; null when content-free.")
    probabilities: dict[str, float] = Field(description="Topic probabilities of at least 0.01.")


class LoadRowsRequest(BaseModel):
    """Comments as JSON rows (column name -> value), mapped like a file upload."""

    model_config = ConfigDict(extra="forbid")
    rows: list[dict[str, Any]] = Field(..., min_length=1)
    mapping: dict[str, Any] = Field(default_factory=dict, description="{field: column}; others auto-detected.")
    source: str = Field("api", max_length=200)
    strict: bool = False


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
    mapping: dict[str, Any]
    messages: list[str]


class CommentsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filters: CommentFilters = Field(default_factory=CommentFilters)
    limit: int = Field(100, ge=1, le=10_000)
    offset: int = Field(0, ge=0)


class StoredComment(BaseModel):
    comment_key: str
    comment_id: str | None
    date: str | None
    text: str = Field(description="Redacted comment text.")
    question: str | None
    fft_score: int | None
    location_1: str | None
    location_2: str | None
    location_3: str | None
    topics: list[str]
    categories: list[str]
    sentiment: int | None
    flagged: bool
    corrected: bool
    demographics: dict[str, str | None] = Field(default_factory=dict)


class CommentsPage(BaseModel):
    total: int
    offset: int
    comments: list[StoredComment]
    withheld: bool = Field(False, description="True when fewer than the privacy limit match a demographic filter: "
                           "the comments are withheld, only the count is given.")


class SummaryResponse(BaseModel):
    kind: str
    suppress_below: int
    rows: list[dict[str, Any]]


SummaryKind = Literal["totals", "topics", "categories-by-month", "sentiment-by-month", "fft-by-month",
                      "cooccurrence", "complex"]


class SummaryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filters: CommentFilters = Field(default_factory=CommentFilters)


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment_key: str = Field(..., min_length=1, max_length=200)
    kind: Literal["interesting", "wrong_topics"]
    topics: list[str] = Field(default_factory=list, description="The right topics (wrong_topics only).")
    sentiment: int | None = Field(None, ge=1, le=5)
    note: str | None = Field(None, max_length=5_000)
    created_by: str | None = Field(None, max_length=200)


class CorrectionOut(BaseModel):
    correction_id: str


class Health(BaseModel):
    status: str
    version: str
    model_loaded: bool
