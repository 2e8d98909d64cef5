"""Synthetic training sentences for the sentiment model, from a small grammar (``augment.yaml``).

Why: see the top of ``augment.yaml``. The sentences are plain ("The ward was spotless."),
negated ("The nurses weren't kind at all.", "The staff were never rude."), event clauses ("nobody
answered the phone") and contrasts ("The food was tasty but the toilets were filthy.", sentiment 3
as coders mark mixed comments). They are added to a trust's labelled comments with a lower weight
(``SentimentClassifier.augment_weight``) so the real comments still set the scale.
Deterministic: the same seed gives the same sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import yaml

# how many sentences of each family are drawn (the grammar makes far more)
FAMILY_SIZES = {"plain": 900, "negated": 700, "events": 400, "contrast": 700, "double": 300}


@dataclass(frozen=True)
class _Aspect:
    text: str
    plural: bool

    def be(self, negated: bool = False, contracted: bool = False) -> str:
        verb = "were" if self.plural else "was"
        if not negated:
            return verb
        return f"{verb}n't" if contracted else f"{verb} not"


@lru_cache(maxsize=1)
def _grammar() -> dict:
    return yaml.safe_load(resources.files("carelens.feedback").joinpath("augment.yaml").read_text("utf-8"))


def _aspects(kind: str) -> list[_Aspect]:
    out = []
    for item in _grammar()["aspects"][kind]:
        text, _, mark = str(item).partition("|")
        out.append(_Aspect(text, mark == "p"))
    return out


def _sentence(clause: str, rng: np.random.Generator) -> str:
    """Capitalised, usually with a full stop (people often leave it off)."""
    text = clause[0].upper() + clause[1:]
    return text + ("." if rng.random() < 0.8 else "")


def _quality_clause(rng: np.random.Generator, direction: str) -> tuple[str, bool]:
    """'the food was tasty' (direction 'positive' or 'negative'); True when strong."""
    kind = str(rng.choice(list(_grammar()["qualities"])))
    aspects = _aspects(kind)
    aspect = aspects[int(rng.integers(len(aspects)))]
    qualities = _grammar()["qualities"][kind]
    strong = rng.random() < 0.25
    pool = qualities[f"strong_{direction}"] if strong else qualities[direction]
    quality = str(pool[int(rng.integers(len(pool)))])
    if not strong and rng.random() < 0.3 and not quality.startswith(("a ", "very ", "really ", "too ")):
        intensifiers = _grammar()["intensifiers"]
        quality = f"{intensifiers[int(rng.integers(len(intensifiers)))]} {quality}"
        strong = True
    return f"{aspect.text} {aspect.be()} {quality}", strong


def _event_clause(rng: np.random.Generator, direction: str) -> str:
    events = _grammar()["events"][direction]
    return str(events[int(rng.integers(len(events)))])


def _clause(rng: np.random.Generator, direction: str) -> str:
    return _quality_clause(rng, direction)[0] if rng.random() < 0.6 else _event_clause(rng, direction)


def synthetic_sentiment_examples(seed: int = 0, exclude=()) -> tuple[list[str], np.ndarray]:
    """(sentences, sentiment 1..5), deduplicated, leaving out any sentence in ``exclude``."""
    rng = np.random.default_rng(seed)
    rows: dict[str, int] = {}
    excluded = {str(t).strip().lower().rstrip(".!") for t in exclude}

    def add(text: str, sentiment: int) -> None:
        key = text.strip().lower().rstrip(".!")
        if key not in excluded:
            rows.setdefault(text, sentiment)

    for _ in range(FAMILY_SIZES["plain"]):
        direction = "positive" if rng.random() < 0.5 else "negative"
        clause, strong = _quality_clause(rng, direction)
        add(_sentence(clause, rng), (1 if strong else 2) if direction == "positive" else (5 if strong else 4))
    for _ in range(FAMILY_SIZES["negated"]):
        # "X was not kind (at all)" is a complaint; "X was never rude" is mild praise
        direction = "positive" if rng.random() < 0.6 else "negative"
        kind = str(rng.choice(list(_grammar()["qualities"])))
        aspects = _aspects(kind)
        aspect = aspects[int(rng.integers(len(aspects)))]
        pool = _grammar()["qualities"][kind][direction]
        quality = str(pool[int(rng.integers(len(pool)))])
        form = int(rng.integers(4))
        if form == 0:
            clause = f"{aspect.text} {aspect.be(negated=True)} {quality}"
        elif form == 1:
            clause = f"{aspect.text} {aspect.be(negated=True, contracted=True)} {quality} at all"
        elif form == 2:
            clause = f"{aspect.text} {aspect.be()} never {quality}"
        else:
            clause = f"{aspect.text} {aspect.be(negated=True)} very {quality}"
        add(_sentence(clause, rng), 4 if direction == "positive" else 2)
    for _ in range(FAMILY_SIZES["events"]):
        direction = str(rng.choice(["positive", "negative", "neutral"], p=[0.42, 0.42, 0.16]))
        add(_sentence(_event_clause(rng, direction), rng), {"positive": 2, "negative": 4, "neutral": 3}[direction])
    for _ in range(FAMILY_SIZES["contrast"]):
        first = "positive" if rng.random() < 0.5 else "negative"
        second = "negative" if first == "positive" else "positive"
        joiner = str(rng.choice([" but ", ", but ", " however ", "; however, ", " although "]))
        add(_sentence(_clause(rng, first) + joiner + _clause(rng, second), rng), 3)
    for _ in range(FAMILY_SIZES["double"]):
        direction = "positive" if rng.random() < 0.5 else "negative"
        add(_sentence(_clause(rng, direction) + str(rng.choice([" and ", ", ", " and also "])) + _clause(rng, direction), rng),
            1 if direction == "positive" else 5)
    texts = list(rows)
    return texts, np.array([rows[t] for t in texts], dtype=int)
