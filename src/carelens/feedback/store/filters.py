"""The filters shared by the dashboard, the API and exports (one pydantic model, one meaning).

Fields combine with AND; a list inside a field means "any of these". Empty or None = no filter.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

# What the coded values mean, in the words staff see (filters, exports, reports).
FFT_ANSWERS = {1: "Very good", 2: "Good", 3: "Neither good nor poor", 4: "Poor", 5: "Very poor", 6: "Don't know"}
SENTIMENTS = {1: "Very positive", 2: "Positive", 3: "Neutral / mixed", 4: "Negative", 5: "Very negative"}


class CommentFilters(BaseModel):
    """Which stored comments a view covers."""

    model_config = ConfigDict(extra="forbid")

    date_from: date | None = Field(None, description="First day included.")
    date_to: date | None = Field(None, description="Last day included.")
    location_1: list[str] = Field(default_factory=list, description="Top location level (e.g. division).")
    location_2: list[str] = Field(default_factory=list)
    location_3: list[str] = Field(default_factory=list)
    question: list[str] = Field(default_factory=list, description="FFT question asked.")
    fft_score: list[int] = Field(default_factory=list, description="1 very good .. 5 very poor, 6 don't know.")
    category: list[str] = Field(default_factory=list, description="Comments with a topic in any of these categories.")
    topic: list[str] = Field(default_factory=list, description="Comments with any of these sub-categories.")
    sentiment: list[int] = Field(default_factory=list, description="1 very positive .. 5 very negative.")
    demographics: dict[str, list[str]] = Field(default_factory=dict, description="{field: [values]}.")
    search: str = Field("", description="Words that must all appear (plurals matched).")
    flagged_only: bool = Field(False, description="Only comments flagged as interesting.")

    @field_validator("fft_score")
    @classmethod
    def _scores(cls, v: list[int]) -> list[int]:
        bad = [s for s in v if s not in range(1, 7)]
        if bad:
            raise ValueError(f"FFT score must be 1 to 6, got {bad[0]}")
        return v

    @field_validator("sentiment")
    @classmethod
    def _sentiments(cls, v: list[int]) -> list[int]:
        bad = [s for s in v if s not in range(1, 6)]
        if bad:
            raise ValueError(f"sentiment must be 1 to 5, got {bad[0]}")
        return v
