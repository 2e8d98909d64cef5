"""Behavioural suite (CheckList-style) for the feedback model: the suite's own soundness, the
runner's logic on a model whose answers are known, and the packaged model's pass-rate floors."""

from __future__ import annotations

import pandas as pd
import pytest

from carelens.feedback import FeedbackModel, load_framework
from carelens.feedback.behaviour import PARTS, TEST_TYPES, direction_of, load_part, part_texts, run_suite

SETTINGS = {"acute", "outpatients", "ae", "maternity", "mental_health", "community", "ambulance"}
# Pass-rate floors of the packaged model, per part and test type: set just under what it reaches
# (BENCHMARKS.md, "Behavioural suite"), so a change that loses ground fails here.
# "contrast_given_topics" is the share of contrasts right among those whose two topics were both
# found: it fell (held-out 12/13 -> 16/19) when two-clause scoring found both topics in six more
# contrasts, so its floor went down while the strict "contrast" floor went up (held-out 0.44 ->
# 0.60); dev "negation_sentiment" lost one comment of 38 (31 -> 30) with the retrained model.
# Round 3 (event phrases, more synthetic events and framework examples) raised 16 floors; held-out
# "negation_sentiment" lost one comment of 25 (21 -> 20 = 0.80), which is its floor: not lowered.
FLOORS = {
    "dev": {"plain_topic": 0.95, "plain_sentiment": 0.90, "negation_topic": 0.94, "negation_sentiment": 0.90,
            "contrast": 0.60, "contrast_given_topics": 0.88, "invariance": 0.78, "directional": 0.85,
            "fft_score": 0.88, "fft_ties": 0.50},
    "heldout": {"plain_topic": 0.88, "plain_sentiment": 0.92, "negation_topic": 0.95, "negation_sentiment": 0.80,
                "contrast": 0.66, "contrast_given_topics": 0.88, "invariance": 0.88, "directional": 0.92,
                "fft_score": 0.85, "fft_ties": 0.33},
}

@pytest.mark.parametrize("part", PARTS)
def test_every_subcategory_has_plain_positive_and_negative_comments(part):
    framework = load_framework()
    plain = load_part(part)["plain"]
    assert set(plain) == set(framework.learnable_labels)
    for topic, sides in plain.items():
        assert len(sides.get("positive") or []) >= 2, topic
        if topic != "Positive experience & gratitude":  # v7 has no negative counterpart of it
            assert len(sides.get("negative") or []) >= 2, topic


@pytest.mark.parametrize("part", PARTS)
def test_suite_names_only_framework_topics_and_known_settings(part):
    names = set(load_framework().learnable_labels)
    suite = load_part(part)
    for key in ("negation",):
        assert {e["topic"] for e in suite[key]} <= names
    for e in suite["contrast"]:
        assert set(e["topics"]) <= names and len(e["topics"]) == 2, e["text"]
        assert set(e["topics"].values()) == {"positive", "negative"}, e["text"]
    assert {e["topic"] for e in suite["invariance"]} <= names
    settings = {next(iter(item)) for sides in suite["plain"].values() for items in sides.values() for item in items}
    settings |= {e["setting"] for key in ("negation", "contrast", "directional", "fft_score") for e in suite[key]}
    assert settings == SETTINGS


def test_no_suite_comment_is_a_training_row():
    """The held-out part shares nothing with the dev part; neither part is a framework example
    (those train the topic model) or a synthetic sentiment sentence."""
    from carelens.feedback.augment import synthetic_sentiment_examples

    heldout, dev = set(part_texts("heldout")), set(part_texts("dev"))
    assert not heldout & dev
    examples = {ex for label in load_framework().labels for ex in label.examples}
    assert not (heldout | dev) & examples
    synthetic, _ = synthetic_sentiment_examples(exclude=heldout | dev)
    assert not (heldout | dev) & set(synthetic)


def test_direction_of_sentiment():
    assert [direction_of(v) for v in (1, 2, 3, 4, 5, None, pd.NA)] == ["positive", "positive", None, "negative", "negative", None, None]


class OracleModel:
    """Answers every suite comment as the suite expects (or deliberately wrong ones)."""

    def __init__(self, wrong: set[str] = frozenset()) -> None:
        self.answers: dict[str, tuple[list[str], int]] = {}
        self.topic_spans: dict[str, list[dict]] = {}
        self.wrong = set(wrong)

        def put(text: str, topics: list[str], sentiment: int) -> None:
            """A comment met in several sections keeps every topic; its first sentiment stays."""
            known_topics, known_sentiment = self.answers.get(text, ([], sentiment))
            self.answers[text] = (sorted(set(known_topics) | set(topics)), known_sentiment)

        def score(direction: str) -> int:
            return 1 if direction == "positive" else 5

        for part in PARTS:
            suite = load_part(part)
            for topic, sides in suite["plain"].items():
                for side, items in sides.items():
                    for item in items:
                        put(next(iter(item.values())), [topic], score(side))
            for e in suite["negation"]:
                put(e["text"], [e["topic"]], score(e["sentiment"]))
            for e in suite["invariance"]:
                for v in e["variants"]:
                    put(v, [e["topic"]], score(e["sentiment"]))
            for e in suite["fft_score"]:
                put(e["text"], [], score(e["sentiment"]))
            for e in suite["contrast"]:
                put(e["text"], list(e["topics"]), 3)
                self.topic_spans[e["text"]] = [{"topic": t, "sentiment": score(d)} for t, d in e["topics"].items()]
            for e in suite["directional"]:
                put(e["base"], [], 3)
                put(e["changed"], [], score(e["move"]))

    def classify(self, texts, fft_scores=None):
        rows = []
        for i, text in enumerate(texts):
            topics, sentiment = self.answers.get(text, ([], 3))
            if fft_scores is not None and sentiment == 3:  # ties: the score decides
                sentiment = int(fft_scores[i])
            spans = self.topic_spans.get(text, [{"topic": t, "sentiment": sentiment} for t in topics])
            if text in self.wrong:
                topics, sentiment, spans = [], 6 - sentiment, []
            rows.append({"topics": topics, "sentiment": sentiment, "sentiment_probabilities": {sentiment: 1.0},
                         "topic_spans": spans})
        return pd.DataFrame(rows)


def test_runner_passes_a_model_that_answers_as_expected():
    report = run_suite(OracleModel())
    for part in PARTS:
        rates = report.rates(part)
        assert set(rates) == set(TEST_TYPES)
        assert all(r["rate"] == 1.0 for r in rates.values()), rates
    assert not report.failures()


def test_runner_counts_each_wrong_answer_against_its_test_type():
    wrong = {"The ward was spotless.", "The food was cold but the nurses were lovely.", "Nurses were lovley."}
    report = run_suite(OracleModel(wrong), parts=["dev"])
    failed = {(o.test, o.text.split(" | ")[0]) for o in report.failures()}
    assert ("plain_topic", "The ward was spotless.") in failed
    assert ("plain_sentiment", "The ward was spotless.") in failed
    assert ("contrast", "The food was cold but the nurses were lovely.") in failed
    assert ("invariance", "The nurses were lovely.") in failed  # one variant of the group is wrong
    assert ("fft_score", "The ward was spotless.") in failed
    rates = report.rates("dev")
    assert ("invariance", "The ward was spotless.") in failed  # a plain comment that is also a variant
    assert rates["invariance"]["passed"] == rates["invariance"]["n"] - 2
    assert "plain_topic" in report.table() and report.to_dict()["failures"]


def test_packaged_model_meets_the_behavioural_floors():
    report = run_suite(FeedbackModel.load())
    for part, floors in FLOORS.items():
        rates = report.rates(part)
        below = {t: rates[t]["rate"] for t, floor in floors.items() if rates[t]["rate"] < floor}
        assert not below, f"{part}: below the floor: {below}\n{report.table()}"
