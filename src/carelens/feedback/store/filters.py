"""The filters shared by the dashboard, the API and exports (one pydantic model, one meaning).

Fields combine with AND; a list inside a field means "any of these". Empty or None = no filter.

The search is bounded (:data:`MAX_SEARCH_WORDS` words, :data:`MAX_SEARCH_CHARS` characters):
each word is one pass over the comments' text (about 70 ms per word at 1,000,000 comments), so an
unbounded search of a pasted paragraph could hold a worker for tens of seconds.
"""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from carelens.access.roles import Scope

# What the coded values mean, in the words staff see (filters, exports, reports).
FFT_ANSWERS = {1: "Very good", 2: "Good", 3: "Neither good nor poor", 4: "Poor", 5: "Very poor", 6: "Don't know"}
SENTIMENTS = {1: "Very positive", 2: "Positive", 3: "Neutral / mixed", 4: "Negative", 5: "Very negative"}

MAX_SEARCH_WORDS = 10
MAX_SEARCH_CHARS = 200
# What separates the words of a search: ASCII spaces, controls and punctuation except ' - _, and a
# few common non-ASCII spaces, dashes and quotes. Spelled out rather than as \w or \s, which mean
# ASCII to a JSON-schema (ECMA-262) reader and Unicode to Python, so the published pattern below
# accepts exactly the searches the API accepts.
SEARCH_SEPARATORS = ("[\\x00-\\x26\\x28-\\x2c\\x2e\\x2f\\x3a-\\x40\\x5b-\\x5e\\x60\\x7b-\\x7f"
                     "\u00a0\u00ab\u00bb\u2013\u2014\u2018\u201c\u201d\u2026\u3000\u3001\u3002\uff0c]")
_WORD = SEARCH_SEPARATORS.replace("[", "[^", 1)
# At most MAX_SEARCH_WORDS runs of non-separators (each is at most one search term:
# ``queries.search_terms``). Published as the field's pattern and checked with the same expression.
SEARCH_PATTERN = rf"^{SEARCH_SEPARATORS}*(?:{_WORD}+{SEARCH_SEPARATORS}+){{0,{MAX_SEARCH_WORDS - 1}}}(?:{_WORD}+{SEARCH_SEPARATORS}*)?$"


def bounded_search(search: str) -> str:
    """A search box's text cut to what a search may hold (the first :data:`MAX_SEARCH_WORDS` words,
    :data:`MAX_SEARCH_CHARS` characters): the dashboard searches what it can instead of failing."""
    text = (search or "")[:MAX_SEARCH_CHARS]
    words = list(re.finditer(f"(?:(?!{SEARCH_SEPARATORS}).)+", text))
    if len(words) > MAX_SEARCH_WORDS:
        text = text[:words[MAX_SEARCH_WORDS - 1].end()]
    return text


def search_words(search: str) -> list[str]:
    """The runs of non-separators in a search box's text, in order (what :data:`MAX_SEARCH_WORDS` counts)."""
    return [w for w in re.split(f"{SEARCH_SEPARATORS}+", search or "") if w]


def natural_key(text: object) -> tuple:
    """Sort key that reads numbers as numbers ("Ward 2" before "Ward 10"), letters without case."""
    return tuple((0, int(part), "") if part.isascii() and part.isdigit() else (1, 0, part.casefold())
                 for part in re.split(r"([0-9]+)", str(text)) if part != "")


def natural_sorted(values) -> list[str]:
    """``values`` as text, in :func:`natural_key` order."""
    return sorted((str(v) for v in values), key=natural_key)


class CommentFilters(BaseModel):
    """Which stored comments a view covers.

    Besides the fields a person chooses, filters carry the *scopes* of whoever asks
    (:meth:`scoped`): the locations a ward manager may see. Every query ANDs them into its mask.
    They are not fields, so no request body or URL can set them; :meth:`scoped` only ever adds a
    scope (each one narrows), so no caller can widen what the filters already allow.
    """

    model_config = ConfigDict(extra="forbid")
    _scopes: tuple[Scope, ...] = PrivateAttr(default=())

    date_from: date | None = Field(None, description="First day included.")
    date_to: date | None = Field(None, description="Last day included.")
    location_1: list[str] = Field(default_factory=list, description="Top location level (e.g. division).")
    location_2: list[str] = Field(default_factory=list)
    location_3: list[str] = Field(default_factory=list)
    question: list[str] = Field(default_factory=list, description="FFT question asked.")
    # Ranges checked by the validators below (one message per field) and published as the items' bounds.
    fft_score: list[int] = Field(default_factory=list, description="1 very good .. 5 very poor, 6 don't know.",
                                 json_schema_extra={"items": {"type": "integer", "minimum": 1, "maximum": 6}})
    category: list[str] = Field(default_factory=list, description="Comments with a topic in any of these categories.")
    topic: list[str] = Field(default_factory=list, description="Comments with any of these sub-categories.")
    sentiment: list[int] = Field(default_factory=list, description="1 very positive .. 5 very negative.",
                                 json_schema_extra={"items": {"type": "integer", "minimum": 1, "maximum": 5}})
    demographics: dict[str, list[str]] = Field(default_factory=dict, description="{field: [values]}.")
    search: str = Field("", max_length=MAX_SEARCH_CHARS, json_schema_extra={"pattern": SEARCH_PATTERN},
                        description=f"Words that must all appear (plurals matched); at most {MAX_SEARCH_WORDS} words.")
    flagged_only: bool = Field(False, description="Only comments flagged as interesting.")

    def scoped(self, scope: Scope | None) -> CommentFilters:
        """A copy that also keeps to ``scope`` (None: no feedback at all, an empty scope)."""
        copy = self.model_copy(deep=True)
        copy._scopes = (*self._scopes, scope if scope is not None else Scope())
        return copy

    @property
    def scopes(self) -> tuple[Scope, ...]:
        return self._scopes

    def cache_key(self) -> str:
        """What identifies these filters' mask: the fields and the scopes."""
        scopes = ";".join("*" if s.everything else s.to_json() for s in self._scopes)
        return f"{self.model_dump_json()}|{scopes}"

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

    @field_validator("search")
    @classmethod
    def _search_words(cls, v: str) -> str:
        if not re.fullmatch(SEARCH_PATTERN, v):
            raise ValueError(f"a search has at most {MAX_SEARCH_WORDS} words")
        return v
