"""Text cleaning and content-free detection.

Comments that say nothing ("Did not answer", "n/a", punctuation, numbers only, blank) cannot be
categorised; like pxtextmining we label them "Labelling not possible" and give them no sentiment,
rather than let a model guess. Note "Nothing." is *not* content-free: answering "What could we do
better?" with "Nothing" is praise, and the labelled data codes it so.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import numpy as np

MAX_CHARS = 5_000  # longer comments are truncated for the model only (never in outputs)
_CONTENT_FREE_WORDS = {
    "",
    "didnotanswer",
    "notanswered",
    "noanswer",
    "na",
    "nil",
    "notapplicable",
    "nocomment",
    "nocomments",
    "nocommentsmade",
    "blank",
    "test",
    "nonegiven",
}
_WS = re.compile(r"\s+")
_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)


def _key(text: str) -> str:
    return "".join(_LETTERS.findall(text.lower()))


def is_content_free(text: object) -> bool:
    """True for blank, missing, punctuation/number-only and stock non-answers."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return True
    s = str(text).strip()
    if s.lower() in ("nan", "<na>"):  # a missing value that became text on the way in
        return True
    return _key(s) in _CONTENT_FREE_WORDS


def content_free_mask(texts: Iterable[object]) -> np.ndarray:
    return np.fromiter((is_content_free(t) for t in texts), dtype=bool)


def clean_text(text: object) -> str:
    """Normalise for the model: unicode NFKC, collapsed whitespace, bounded length."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    s = _WS.sub(" ", s).strip()
    return s[:MAX_CHARS]


def clean_texts(texts: Iterable[object]) -> list[str]:
    return [clean_text(t) for t in texts]
