"""Behavioural tests for a feedback model, in the spirit of CheckList (Ribeiro et al., ACL 2020).

Why: held-out F1 on coded exports says how often a model agrees with coders on comments like its
training data; it does not say whether the model reads "not kind at all" as a complaint, or tags
"Car parking charges are far too high" as Parking. Staff judge a model on such plain comments, so
the suite is made of them: written by hand (no real patient's words), for every v7 sub-category,
from acute wards, outpatients, A&E, maternity, mental health, community and ambulance settings.

The suite is data (``dev.yaml``, ``heldout.yaml``; the format is described at the top of
``dev.yaml``). The held-out part is never used for training, tuning or choosing designs. When a
user reports a wrong tag, the first thing to do is add the comment to ``dev.yaml``.

``run_suite(model)`` classifies every comment once and returns a ``BehaviourReport`` with the
pass rate per test type and part, and every failure with what was predicted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

import yaml

PARTS = ("dev", "heldout")
POSITIVE, NEGATIVE = "positive", "negative"
DIRECTION_CLASSES = {POSITIVE: (1, 2), NEGATIVE: (4, 5)}
# a directional change must move the expected sentiment (1..5) this far towards the stated side
DIRECTIONAL_MIN_MOVE = 0.5
# with no clear direction in the text, "very poor" must sit this far from "very good" (1..5 scale)
TIE_MIN_MOVE = 1.0
FFT_SCORES = (1, 2, 3, 4, 5)
# the order reports list the test types in
TEST_TYPES = (
    "plain_topic",
    "plain_sentiment",
    "negation_topic",
    "negation_sentiment",
    "contrast",
    "contrast_given_topics",
    "invariance",
    "directional",
    "fft_score",
    "fft_ties",
)


def direction_of(sentiment: Any) -> str | None:
    """'positive' for 1-2, 'negative' for 4-5, None for 3 or missing."""
    try:
        value = int(sentiment)
    except (TypeError, ValueError):
        return None
    for name, classes in DIRECTION_CLASSES.items():
        if value in classes:
            return name
    return None


def load_part(part: str) -> dict:
    """The parsed YAML of one part of the suite ("dev" or "heldout")."""
    if part not in PARTS:
        raise ValueError(f"part must be one of {PARTS}, not {part!r}")
    text = resources.files("carelens.feedback.behaviour").joinpath(f"{part}.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _items(entry: dict) -> tuple[str, str]:
    """A ``- setting: text`` list item as (setting, text)."""
    (setting, text), = entry.items()
    return str(setting), str(text)


def part_texts(part: str) -> list[str]:
    """Every comment of one part (e.g. to keep them out of any training data)."""
    suite = load_part(part)
    texts: list[str] = []
    for sides in (suite.get("plain") or {}).values():
        for entries in sides.values():
            texts.extend(_items(e)[1] for e in entries)
    for key in ("negation", "contrast", "fft_score", "fft_ties"):
        texts.extend(str(e["text"]) for e in suite.get(key) or [])
    for e in suite.get("invariance") or []:
        texts.extend(map(str, e["variants"]))
    for e in suite.get("directional") or []:
        texts.extend([str(e["base"]), str(e["changed"])])
    return texts


@dataclass
class Outcome:
    """One test: its type, the part of the suite, the comment(s), pass or fail, and why."""

    test: str
    part: str
    text: str
    passed: bool
    expected: str
    got: str
    setting: str = ""


@dataclass
class BehaviourReport:
    outcomes: list[Outcome] = field(default_factory=list)

    def rates(self, part: str | None = None) -> dict[str, dict[str, float]]:
        """{test type: {"n", "passed", "rate"}} over one part (or all)."""
        out: dict[str, dict[str, float]] = {}
        for test in TEST_TYPES:
            chosen = [o for o in self.outcomes if o.test == test and (part is None or o.part == part)]
            if chosen:
                passed = sum(o.passed for o in chosen)
                out[test] = {"n": len(chosen), "passed": passed, "rate": round(passed / len(chosen), 4)}
        return out

    def failures(self, test: str | None = None, part: str | None = None) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed and (test is None or o.test == test) and (part is None or o.part == part)]

    def to_dict(self) -> dict:
        return {
            "rates": {part: self.rates(part) for part in PARTS},
            "failures": [asdict(o) for o in self.outcomes if not o.passed],
        }

    def table(self) -> str:
        """Markdown table: one row per test type, pass rate per part."""
        lines = ["| test type | dev | held-out |", "|---|---|---|"]
        rates = {part: self.rates(part) for part in PARTS}
        for test in TEST_TYPES:
            cells = []
            for part in PARTS:
                r = rates[part].get(test)
                cells.append(f"{r['rate']:.0%} ({int(r['passed'])}/{int(r['n'])})" if r else "-")
            lines.append(f"| {test} | {' | '.join(cells)} |")
        return "\n".join(lines)


class _Predictions:
    """Every comment the suite needs, classified in one call (and once per FFT score)."""

    def __init__(self, model, texts: Iterable[str], scored_texts: Iterable[str]) -> None:
        self.rows: dict[str, dict] = {}
        texts = list(dict.fromkeys(texts))
        self.rows = self._classify(model, texts, None)
        self.scored: dict[tuple[str, int], dict] = {}
        scored_texts = list(dict.fromkeys(scored_texts))
        for score in FFT_SCORES:
            for text, row in self._classify(model, scored_texts, score).items():
                self.scored[(text, score)] = row

    @staticmethod
    def _classify(model, texts: list[str], score: int | None) -> dict[str, dict]:
        if not texts:
            return {}
        frame = model.classify(texts, fft_scores=None if score is None else [score] * len(texts))
        return {t: row for t, row in zip(texts, frame.to_dict("records"))}

    def topics(self, text: str) -> list[str]:
        return list(self.rows[text]["topics"])

    def sentiment(self, text: str, score: int | None = None) -> Any:
        row = self.rows[text] if score is None else self.scored[(text, score)]
        return row["sentiment"]

    def expected_sentiment(self, text: str, score: int | None = None) -> float:
        """Mean of the 1..5 sentiment under the model's probabilities (3 when it has none)."""
        row = self.rows[text] if score is None else self.scored[(text, score)]
        probs = row.get("sentiment_probabilities") or {}
        total = sum(probs.values())
        return sum(int(k) * v for k, v in probs.items()) / total if total else 3.0

    def topic_sentiment(self, text: str) -> dict[str, Any]:
        """Sentiment per predicted topic; a model without per-topic sentiment repeats the comment's."""
        row = self.rows[text]
        spans = row.get("topic_spans")
        if spans is not None:
            return {s["topic"]: s["sentiment"] for s in spans}
        return {t: row["sentiment"] for t in row["topics"]}


def _plain_cases(suite: dict) -> list[tuple[str, str, str, str]]:
    """(setting, text, topic, direction) for every plain comment."""
    cases = []
    for topic, sides in (suite.get("plain") or {}).items():
        for direction, entries in sides.items():
            for entry in entries:
                setting, text = _items(entry)
                cases.append((setting, text, str(topic), str(direction)))
    return cases


def _check_part(part: str, suite: dict, p: _Predictions) -> list[Outcome]:
    out: list[Outcome] = []

    def add(test, text, passed, expected, got, setting=""):
        out.append(Outcome(test, part, text, bool(passed), expected, got, setting))

    for setting, text, topic, direction in _plain_cases(suite):
        got = p.topics(text)
        add("plain_topic", text, topic in got, topic, "; ".join(got) or "(none)", setting)
        s = p.sentiment(text)
        add("plain_sentiment", text, direction_of(s) == direction, direction, str(s), setting)
    for e in suite.get("negation") or []:
        text, topic, direction = str(e["text"]), str(e["topic"]), str(e["sentiment"])
        got = p.topics(text)
        add("negation_topic", text, topic in got, topic, "; ".join(got) or "(none)", e.get("setting", ""))
        s = p.sentiment(text)
        add("negation_sentiment", text, direction_of(s) == direction, direction, str(s), e.get("setting", ""))
    for e in suite.get("contrast") or []:
        text, wanted = str(e["text"]), {str(k): str(v) for k, v in e["topics"].items()}
        per_topic = p.topic_sentiment(text)
        right = [t in per_topic and direction_of(per_topic[t]) == d for t, d in wanted.items()]
        expected = "; ".join(f"{t}: {d}" for t, d in wanted.items())
        got = "; ".join(f"{t}: {s}" for t, s in per_topic.items()) or "(none)"
        add("contrast", text, all(right), expected, got, e.get("setting", ""))
        if all(t in per_topic for t in wanted):
            add("contrast_given_topics", text, all(right), expected, got, e.get("setting", ""))
    for e in suite.get("invariance") or []:
        topic, direction = str(e["topic"]), str(e["sentiment"])
        variants = [str(v) for v in e["variants"]]
        bad = [v for v in variants if topic not in p.topics(v) or direction_of(p.sentiment(v)) != direction]
        got = " | ".join(f"{v} -> {'; '.join(p.topics(v)) or '(none)'}, {p.sentiment(v)}" for v in bad)
        add("invariance", " | ".join(variants), not bad, f"{topic}: {direction}", got or "all kept")
    for e in suite.get("directional") or []:
        base, changed, move = str(e["base"]), str(e["changed"]), str(e["move"])
        delta = p.expected_sentiment(changed) - p.expected_sentiment(base)  # > 0: more negative
        passed = delta >= DIRECTIONAL_MIN_MOVE if move == NEGATIVE else -delta >= DIRECTIONAL_MIN_MOVE
        add("directional", f"{base} -> {changed}", passed, f"towards {move}", f"moved {delta:+.2f}", e.get("setting", ""))
    for e in suite.get("fft_score") or []:
        text, direction = str(e["text"]), str(e["sentiment"])
        got = {score: p.sentiment(text, score) for score in FFT_SCORES}
        passed = all(direction_of(s) == direction for s in got.values())
        add("fft_score", text, passed, f"{direction} with every FFT score",
            ", ".join(f"score {k}: {v}" for k, v in got.items()), e.get("setting", ""))
    for e in suite.get("fft_ties") or []:
        text = str(e["text"])
        gap = p.expected_sentiment(text, 5) - p.expected_sentiment(text, 1)
        add("fft_ties", text, gap >= TIE_MIN_MOVE, f"score 5 vs 1 moves >= {TIE_MIN_MOVE}", f"moved {gap:+.2f}", e.get("setting", ""))
    return out


def run_suite(model, parts: Sequence[str] = PARTS) -> BehaviourReport:
    """Run the behavioural suite on a ``FeedbackModel`` (anything with its ``classify``)."""
    suites = {part: load_part(part) for part in parts}
    texts: list[str] = []
    scored: list[str] = []
    for part in parts:
        texts.extend(part_texts(part))
        scored.extend(str(e["text"]) for key in ("fft_score", "fft_ties") for e in suites[part].get(key) or [])
    predictions = _Predictions(model, texts, scored)
    report = BehaviourReport()
    for part in parts:
        report.outcomes.extend(_check_part(part, suites[part], predictions))
    return report


__all__ = ["BehaviourReport", "Outcome", "PARTS", "TEST_TYPES", "direction_of", "load_part", "part_texts", "run_suite"]
