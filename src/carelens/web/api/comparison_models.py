"""Requests and responses of the comparison routes (``POST /comparison/...``): places over time
against their own past (control charts) and against the trust, as the dashboard's Compare page.

Apart from ``models.py`` because they describe one resource; the filters are the same
:class:`~carelens.web.api.models.FiltersIn` as every other route's.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from carelens.web.api.models import FiltersIn, IsoDate, StrictIn, int_between

MEASURE_HELP = ("What is charted: fft_good (% of FFT answers good or very good, per respondent), mean_sentiment "
                "(XmR chart), topic_share:<sub-category> (% of respondents mentioning it) or "
                "topic_negative:<sub-category> (% of its comments that are negative).")
MEASURE_PATTERN = r"^(fft_good|mean_sentiment|(topic_share|topic_negative):.+)$"
Variation = Literal["improvement", "concern", "neither", "common cause"]


class _ComparisonIn(StrictIn):
    filters: FiltersIn = Field(default_factory=FiltersIn)
    measure: str = Field("fft_good", max_length=300, pattern=MEASURE_PATTERN, description=MEASURE_HELP)
    period: Literal["month", "quarter"] = Field("month", description="What each point of a chart covers.")

    @field_validator("measure")
    @classmethod
    def _known_measure(cls, v: str) -> str:
        from carelens.feedback.store.trends import Measure

        Measure.from_key(v)  # its ValueError names the measures: the field's 422
        return v


class SignalsRequest(_ComparisonIn):
    level: int_between(1, 3) = Field(3, description="Location level compared (1 division .. 3 ward or team).")
    baseline: int_between(2, 120) | None = Field(None, description="Limits from the first N periods (default: all).")
    include_common: bool = Field(False, description="List places without a signal too.")


class ChartRequest(_ComparisonIn):
    level: int_between(1, 3) | None = Field(None, description="Location level of ``place``; none: the whole trust.")
    place: str | None = Field(None, max_length=500, description="The place charted; none: the whole trust.")
    baseline: int_between(2, 120) | None = Field(None, description="Limits from the first N periods (default: all).")


class DaySpan(StrictIn):
    """Days from ``first`` to ``last``, both included (given backwards, read forwards)."""

    first: IsoDate
    last: IsoDate


class ChangeRequest(_ComparisonIn):
    level: int_between(1, 3) = Field(3, description="Location level compared.")
    current: DaySpan | None = Field(None, description="The period (default: the latest month with comments).")
    previous: DaySpan | None = Field(None, description="The period compared with (default: the same length just "
                                                       "before; a whole month: the month before).")


class SignalRow(BaseModel):
    place: str
    period: str
    start: str
    end: str
    value: float = Field(description="The latest period's figure (a share 0..1, or a mean sentiment).")
    centre: float = Field(description="The chart's centre line: the place's usual level.")
    variation: Variation
    rules: str = Field(description="Which special-cause rules the point meets, in words.")
    respondents: int
    points: int = Field(description="Periods on the place's chart.")
    provisional: bool = Field(description="Fewer than 15 points: the limits are provisional.")


class SignalsSummary(BaseModel):
    measure: str
    label: str
    better: Literal["higher", "lower"]
    suppress_below: int = Field(description="Places and periods from fewer respondents are not charted.")
    rows: list[SignalRow]


class ChartPoint(BaseModel):
    period: str
    start: str
    end: str
    value: float
    centre: float
    upper: float
    lower: float
    near_upper: float = Field(description="The upper two-sigma line (rule 4, \"2 of 3 near a limit\", counts "
                                          "points beyond it).")
    near_lower: float = Field(description="The lower two-sigma line.")
    respondents: int
    outside: bool = Field(description="Outside the 3-sigma limits.")
    shift: bool = Field(description="In a run of 7 or more on one side of the centre line.")
    trend: bool = Field(description="In 7 or more rising (or falling) in a row.")
    two_of_three: bool = Field(description="Beyond two sigma, with another point of three in a row beyond two sigma "
                                           "on the same side (2 of 3 near a limit).")
    variation: Variation


class ChartSummary(BaseModel):
    measure: str
    label: str
    chart: Literal["p", "xmr"]
    better: Literal["higher", "lower"]
    place: str | None
    provisional: bool
    hidden_periods: int = Field(description="Periods left out: fewer respondents than the privacy limit.")
    suppress_below: int
    points: list[ChartPoint]
    trust: list[ChartPoint] = Field(default_factory=list, description="The whole trust's chart, beside a place's.")


class ChangeRow(BaseModel):
    place: str
    before: float | None
    now: float | None
    change: float | None = Field(description="now - before (a share's change is in proportion, 0.05 = 5 points).")
    respondents_now: int
    respondents_before: int
    significant: bool = Field(description="For shares: a change beyond 3 standard errors (more than chance).")


class ChangeSummary(BaseModel):
    measure: str
    label: str
    current_from: str | None = Field(description="None when no dated comment matches the filters (no rows).")
    current_to: str | None
    previous_from: str | None
    previous_to: str | None
    suppress_below: int
    rows: list[ChangeRow]


class DemographicsRequest(StrictIn):
    filters: FiltersIn = Field(default_factory=FiltersIn)


class DemographicRow(BaseModel):
    field: str
    value: str = Field(description='The value; blank values are "(not stated)".')
    respondents: int | None = Field(description="Respondents in the selection (null: suppressed).")
    share: float | None = Field(description="Their share of the selection's respondents (0..1).")
    trust_respondents: int | None = Field(description="Respondents in the whole store with this value.")
    trust_share: float | None
    suppressed: bool = Field(description="Fewer respondents in the selection than the privacy limit.")
    mix_share: float | None = Field(None, description="The trust's own mix: the share of its catchment or patient "
                                                      "population with this value (0..1; null: no mix for it).")
    mix_difference: float | None = Field(None, description="share - mix_share (null when either is missing: a "
                                                           "suppressed share's difference is suppressed too).")


class TrustMixSource(BaseModel):
    field: str
    source: str = Field(description="Where the trust's figures come from, as given when they were loaded.")
    loaded_at: str = Field(description="When they were loaded (UTC, ISO 8601).")


class DemographicsSummary(BaseModel):
    suppress_below: int
    rows: list[DemographicRow]
    mixes: list[TrustMixSource] = Field(default_factory=list, description="The fields shown beside a trust mix.")


class TrustMixRow(BaseModel):
    field: str
    value: str
    share: float = Field(description="The share of the field's population with this value (0..1).")
    source: str
    loaded_at: str


class TrustMixList(BaseModel):
    rows: list[TrustMixRow]


class TrustMixField(BaseModel):
    field: str = Field(description="The demographic field, spelt as the store's uploads spell it when one matches.")
    values: int = Field(description="Values loaded for it (its earlier mix replaced).")
    scale: Literal["percent", "fraction"] = Field(description="How the file wrote its shares.")
    replaced: int = Field(description="Values of the earlier mix of this field, now gone.")


class TrustMixLoaded(BaseModel):
    source: str
    fields: list[TrustMixField]
