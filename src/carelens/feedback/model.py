"""A feedback model: topic + sentiment classifiers, their framework, and a model card, in one folder.

Folder layout: ``topics.skops``, ``sentiment.skops`` (optional), ``framework.json``, ``card.json``.
skops files are opened only if every type inside is on :data:`MODEL_TYPES`, an exact list of the
classes a feedback model is made of (see :mod:`carelens.model_files`), so opening a model someone
sends you cannot run code; the card carries a fingerprint of the files.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carelens import __version__
from carelens.errors import ModelError
from carelens.feedback.evidence import TopicSpan, clauses, format_topic_evidence, format_topic_sentiment, topic_spans
from carelens.feedback.framework import Framework
from carelens.feedback.sentiment import SENTIMENT_CLASSES, SentimentClassifier, frame_for
from carelens.feedback.text import clean_texts, content_free_mask
from carelens.feedback.topics import TopicClassifier
from carelens.model_cards import write_card
from carelens.model_files import check_fingerprint, dump_skops, fingerprint, load_skops, model_folder

MODEL_FORMAT = "carelens-feedback-model/1"
# comments per chunk of a large batch (see FeedbackModel._score_in_chunks): 512-2,048 were within
# this machine's noise of each other; 1,024 splits the CLI's 2,000-comment batches over two cores
CLASSIFY_CHUNK = 1024
# a clause's topic probability must clear the label's threshold by this much to add the topic
# (benchmarks/feedback_research_clauses.py: 0.05-0.2 were within noise on a validation split of the
# training part and the same on the suite's dev part; no clause topics at all: -0.008 macro F1,
# +0.002 micro, and fewer contrasts with both topics found)
CLAUSE_MARGIN = 0.1
# only comments with at most this many clauses are scored clause by clause (see FeedbackModel._score):
# up to 2 raised validation F1, up to 3 lowered it (benchmarks/feedback_research_clauses.py: longer
# comments have words enough for the whole-comment model, and their many clauses added more wrong
# topics than right ones)
CLAUSE_TOPICS_MAX = 2
# Exactly what a feedback model is made of (besides containers, scalars and arrays).
MODEL_TYPES = frozenset({
    "carelens.feedback.features.TextFeatures",
    "carelens.feedback.topics.TopicClassifier",
    "carelens.feedback.sentiment.SentimentClassifier",
    "carelens.feedback.evidence.TopicEvidence",
    "carelens.feedback.polarity.PolarityFeatures",
    # the only function a feedback model may name: carelens' own negation-scope tokenizer
    "carelens.feedback.polarity.negated_tokens",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "scipy.sparse._csr.csr_matrix",
    "scipy.sparse._csc.csc_matrix",
})
MODEL_FILES = ("topics.skops", "sentiment.skops", "framework.json")


def packaged_model_path() -> Path:
    return Path(str(resources.files("carelens.feedback").joinpath("models", "default")))


def _model_files(directory: Path) -> list[Path]:
    return [directory / name for name in MODEL_FILES if (directory / name).exists()]


def _read_json(path: Path) -> Any:
    """A JSON file of a model folder, or one line naming the file that is damaged (not the folder:
    the user fixes or replaces that file)."""
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise ModelError("corrupt model folder: the file is missing", file=str(path)) from exc
    except (OSError, ValueError) as exc:  # ValueError: not JSON, or not UTF-8
        raise ModelError(f"corrupt model folder: not readable JSON ({exc})".splitlines()[0], file=str(path)) from exc


@dataclass
class FeedbackModel:
    """Topics and sentiment for free-text comments, with the framework they refer to."""

    topics: TopicClassifier
    framework: Framework
    sentiment: SentimentClassifier | None = None
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.card.get("model_version", "unversioned"))

    @property
    def fingerprint(self) -> str | None:
        """SHA-256 of the saved files (set by :meth:`save` and checked by :meth:`load`)."""
        return self.card.get("fingerprint")

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str | Path) -> Path:
        directory = model_folder(directory)
        dump_skops(self.topics, directory / "topics.skops")
        if self.sentiment is not None:
            shared = self._shares_features()
            features, self.sentiment.features_ = self.sentiment.features_, None if shared else self.sentiment.features_
            try:  # shared text features are stored once, with the topic model
                dump_skops(self.sentiment, directory / "sentiment.skops")
            finally:
                self.sentiment.features_ = features
        elif (directory / "sentiment.skops").exists():
            (directory / "sentiment.skops").unlink()
        (directory / "framework.json").write_text(
            json.dumps(self.framework.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8"
        )
        self.card = {**self.card, "fingerprint": fingerprint(_model_files(directory))}
        write_card(directory / "card.json", {"format": MODEL_FORMAT, **self.card})
        return directory

    @classmethod
    def load(cls, path: str | Path | None = None) -> FeedbackModel:
        """Load a model folder; ``None`` loads the model that ships with carelens."""
        directory = Path(path) if path is not None else packaged_model_path()
        if not directory.exists():
            raise ModelError("model folder not found", file=str(directory))
        if not directory.is_dir():
            raise ModelError("a model is a folder (with card.json and topics.skops), not a file", file=str(directory))
        card_path = directory / "card.json"
        if not card_path.exists() or not (directory / "topics.skops").exists():
            raise ModelError("not a carelens feedback model (card.json or topics.skops missing)", file=str(directory))
        card = _read_json(card_path)
        framework_path = directory / "framework.json"
        framework = Framework.from_dict(_read_json(framework_path), source=str(framework_path))
        if not isinstance(card, dict) or card.get("format") != MODEL_FORMAT:
            found = card.get("format") if isinstance(card, dict) else None
            raise ModelError(f"unknown model format {found!r}; expected {MODEL_FORMAT}", file=str(card_path))
        topics = load_skops(directory / "topics.skops", MODEL_TYPES, TopicClassifier)
        sentiment = None
        if (directory / "sentiment.skops").exists():
            sentiment = load_skops(directory / "sentiment.skops", MODEL_TYPES, SentimentClassifier)
            if sentiment.features_ is None:
                sentiment.features_ = topics.features_
        # after the type checks, so a file holding something dangerous is reported as that
        card["fingerprint"] = check_fingerprint(card, _model_files(directory), card_path)
        return cls(topics=topics, framework=framework, sentiment=sentiment, card=card)

    def _shares_features(self) -> bool:
        return bool(self.card.get("sentiment", {}).get("shares_topic_features"))

    # ------------------------------------------------------------------ prediction
    def _sentiment_text_proba(self, Xf, texts: list[str]) -> np.ndarray:
        """(n, 5) sentiment from the words alone (``Xf``: the topic model's features of ``texts``)."""
        if self._shares_features():
            return self.sentiment.text_proba_features(Xf, texts)
        return self.sentiment.text_proba_features(self.sentiment.features_.transform(texts), texts)

    def _score(self, texts: list[str], fft_scores: list | None, n_jobs: int = 1) -> _Scores:
        """Topic and sentiment probabilities for texts that have content, comment and clauses.

        Each comment is cut into clauses (``evidence.clauses``). A comment of two clauses ("The
        food was cold but the nurses were lovely") also has each clause scored by both models, in
        the same pass as the comments: a topic one clause is clearly about is found there, and
        each topic takes its clause's sentiment, read from the clause's words alone: the FFT score
        rates the whole visit, and given to each clause it turned "The food was cold" praise in
        "The food was cold but the nurses were lovely" from a patient who rated it "very good". In a longer comment the words of each clause
        (``topics.evidence_``) pick the clause that carries each predicted topic, and only those
        clauses are scored for sentiment: scoring every clause of every long comment with the
        kernel model would halve the batch speed, and in validation added more wrong topics than
        right ones (BENCHMARKS.md).
        """
        spans = [clauses(t) for t in texts]
        short = [i for i, c in enumerate(spans) if 1 < len(c) <= CLAUSE_TOPICS_MAX]
        short_clauses = [texts[i][a:b] for i in short for a, b in spans[i]]
        rows = list(texts) + short_clauses
        row_scores = None if fft_scores is None else list(fft_scores) + [None] * len(short_clauses)
        frame = frame_for(rows, row_scores)
        Xf = self.topics.features_.transform(frame)  # vectorise once for both models
        proba_all = self.topics.predict_proba_features(Xf, n_jobs=n_jobs)
        sent_all = np.zeros((len(rows), len(SENTIMENT_CLASSES)))
        if self.sentiment is not None:
            if self._shares_features():
                sent_all = self.sentiment.predict_proba_features(Xf, frame)
            else:
                sent_all = self.sentiment.predict_proba(frame)
        n = len(texts)
        proba, sent_proba = proba_all[:n], sent_all[:n]
        clause_proba: list[np.ndarray | None] = [None] * n
        clause_sent: list[list[int | None] | None] = [None] * n
        start = n
        for i in short:
            end = start + len(spans[i])
            clause_proba[i] = proba_all[start:end]
            clause_sent[i] = np.asarray(SENTIMENT_CLASSES)[sent_all[start:end].argmax(axis=1)].tolist() if self.sentiment is not None else [None] * (end - start)
            start = end
        self._score_long_clauses(texts, spans, proba, clause_proba, clause_sent)
        return _Scores(proba, sent_proba, spans, clause_proba, clause_sent)

    def _score_long_clauses(self, texts, spans, proba, clause_proba, clause_sent) -> None:
        """For comments of more than ``CLAUSE_TOPICS_MAX`` clauses: which clause carries each
        predicted topic (its words, ``topics.evidence_``) and that clause's sentiment from its words
        (in place)."""
        evidence = getattr(self.topics, "evidence_", None)  # models saved before it existed have none
        long = [i for i, c in enumerate(spans) if len(c) > CLAUSE_TOPICS_MAX]
        if not long or evidence is None:
            return
        clause_texts = [texts[i][a:b] for i in long for a, b in spans[i]]
        scores = evidence.scores(self.topics.features_.word_.transform(clean_texts(clause_texts)))
        predicted = proba >= self.topics.thresholds_
        wanted: dict[tuple[int, int], int] = {}  # (comment, clause) -> row in clause_texts
        start = 0
        for i in long:
            block = scores[start:start + len(spans[i])]
            clause_proba[i] = block
            for j in np.flatnonzero(predicted[i]):
                if block[:, j].max() > 0:
                    wanted.setdefault((i, int(np.argmax(block[:, j]))), start + int(np.argmax(block[:, j])))
            clause_sent[i] = [None] * len(spans[i])
            start += len(spans[i])
        if not wanted or self.sentiment is None:
            return
        keys = list(wanted)
        chosen = [clause_texts[wanted[key]] for key in keys]
        p_text = self._sentiment_text_proba(self.topics.features_.transform(chosen), chosen)
        for (i, k), value in zip(keys, np.asarray(SENTIMENT_CLASSES)[p_text.argmax(axis=1)].tolist()):
            clause_sent[i][k] = value

    def _score_in_chunks(self, texts: list[str], fft_scores: list | None, n_jobs: int | None) -> _Scores:
        """``_score`` over chunks of a large batch on threads, one BLAS thread each.

        Why: vectorising text is Python (it holds the GIL) while the kernel products are scipy and
        BLAS (they release it), so two chunks on two threads overlap one's vectorising with the
        other's products; the whole pipeline, not just the products, then uses every core. Rows
        are scored independently, so the result is the same as in one piece.
        """
        workers = max(1, int(n_jobs if n_jobs is not None else min(8, _usable_cores())))
        starts = list(range(0, len(texts), CLASSIFY_CHUNK))
        if workers == 1 or len(starts) == 1:
            return self._score(texts, fft_scores, n_jobs=workers)
        from threadpoolctl import threadpool_limits

        def one(start: int) -> _Scores:
            end = start + CLASSIFY_CHUNK
            return self._score(texts[start:end], None if fft_scores is None else fft_scores[start:end])

        with threadpool_limits(1), ThreadPoolExecutor(min(workers, len(starts))) as pool:
            parts = list(pool.map(one, starts))
        return _Scores(
            np.vstack([p.proba for p in parts]), np.vstack([p.sent_proba for p in parts]),
            [c for p in parts for c in p.clauses], [c for p in parts for c in p.clause_proba],
            [c for p in parts for c in p.clause_sentiment],
        )

    def classify(self, texts, question_types=None, fft_scores=None, n_jobs: int | None = None) -> pd.DataFrame:
        """One output row per input text, same order.

        ``n_jobs``: threads for a large batch (default: every core the process may use, up to 8).

        Columns: ``topics`` (list), ``topics_text`` ("; "-joined), ``categories`` (list),
        ``sentiment`` (Int64; missing when content-free or no sentiment model), ``probabilities``
        (label -> probability), ``sentiment_probabilities`` (1..5 -> probability), and per topic
        (``evidence.py``): ``topic_sentiment`` ("Topic: N" joined by "; "), ``topic_evidence``
        ('Topic: "words"' joined by " | ") and ``topic_spans`` (list of {"topic", "sentiment",
        "start", "end"}: the span is ``text[start:end]`` of the text as given).

        A topic is predicted when the comment's probability reaches the label's threshold, or
        when one of its clauses' does by ``CLAUSE_MARGIN`` more (a clause is short, so it is held
        to a stricter bar); ``probabilities`` shows the larger of the two.
        """
        texts = ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in texts]
        n = len(texts)
        free = content_free_mask(texts)
        labels = self.topics.labels_
        lnp = self.framework.labelling_not_possible
        proba = np.zeros((n, len(labels)))
        clause_best = np.zeros((n, len(labels)))
        sent = pd.array([pd.NA] * n, dtype="Int64")
        sent_proba = np.zeros((n, len(SENTIMENT_CLASSES)))
        idx = np.flatnonzero(~free)
        scored = None
        if len(idx):
            sub_texts = [texts[i] for i in idx]
            scores_list = None if fft_scores is None else list(fft_scores)  # once: not once per row
            sub_scores = None if scores_list is None else [scores_list[i] for i in idx]
            scored = self._score_in_chunks(sub_texts, sub_scores, n_jobs)
            proba[idx], sent_proba[idx] = scored.proba, scored.sent_proba
            for k, block in enumerate(scored.clause_proba):
                if block is not None and len(scored.clauses[k]) <= CLAUSE_TOPICS_MAX:
                    clause_best[idx[k]] = block.max(axis=0)
            if self.sentiment is not None:
                sent[idx] = np.asarray(SENTIMENT_CLASSES)[sent_proba[idx].argmax(axis=1)]
        thresholds = self.topics.thresholds_
        from_clause = clause_best >= thresholds + CLAUSE_MARGIN
        general_praise = getattr(self.framework, "general_praise", None)
        if general_praise in labels:  # praise "with no more specific topic" is the whole comment's to give
            from_clause[:, list(labels).index(general_praise)] = False
        predicted = (proba >= thresholds) | from_clause
        proba = np.where(from_clause, np.maximum(proba, clause_best), proba)
        label_arr = np.asarray(labels, dtype=object)
        categories_of = {name: self.framework.category_of(name) if name in self.framework.label_names else "General" for name in labels}
        categories_of.setdefault(lnp, "General")
        topics_col, cats_col, probs_col, sprobs_col = [], [], [], []
        # per-row lists and dicts are cut from flat, already-rounded Python lists: building them
        # element by element from NumPy rows was a tenth of a batch's time
        chosen_names, chosen_at = _flat_by_row(label_arr, predicted)
        shown = proba >= 0.01
        shown_names, shown_at = _flat_by_row(label_arr, shown)
        shown_values = np.round(proba[shown], 4).tolist()
        sent_r = np.round(sent_proba, 4).tolist()
        for i in range(n):
            if free[i]:
                chosen = [lnp]
                probs_col.append({})
                sprobs_col.append({})
            else:
                a, b = shown_at[i], shown_at[i + 1]
                chosen = chosen_names[chosen_at[i]:chosen_at[i + 1]]
                probs_col.append(dict(zip(shown_names[a:b], shown_values[a:b])))
                sprobs_col.append(dict(zip(SENTIMENT_CLASSES, sent_r[i])) if self.sentiment is not None else {})
            topics_col.append(chosen)
            cats: dict[str, None] = {}
            for t in chosen:
                cats.setdefault(categories_of.get(t, "General"), None)
            cats_col.append(list(cats))
        spans_col: list[list[TopicSpan]] = [[] for _ in range(n)]
        if scored is not None:
            label_index = {name: j for j, name in enumerate(labels)}
            comment_sentiments = [None if pd.isna(sent[i]) else int(sent[i]) for i in idx]
            per_comment = topic_spans(sub_texts, [topics_col[i] for i in idx], label_index, scored.clauses,
                                      scored.clause_proba, scored.clause_sentiment, comment_sentiments)
            for i, spans in zip(idx, per_comment):
                spans_col[i] = spans
        return pd.DataFrame(
            {
                "topics": topics_col,
                "topics_text": ["; ".join(t) for t in topics_col],
                "categories": cats_col,
                "sentiment": sent,
                "probabilities": probs_col,
                "sentiment_probabilities": sprobs_col,
                "topic_sentiment": [format_topic_sentiment(spans) for spans in spans_col],
                "topic_evidence": [format_topic_evidence(text, spans) for text, spans in zip(texts, spans_col)],
                "topic_spans": [[span.as_dict() for span in spans] for spans in spans_col],
            }
        )


@dataclass
class _Scores:
    """What ``FeedbackModel._score`` computes for a batch of comments with content."""

    proba: np.ndarray  # (n, labels) topic probabilities of each whole comment
    sent_proba: np.ndarray  # (n, 5) sentiment probabilities (with the FFT score where given)
    clauses: list[list[tuple[int, int]]]  # each comment's clauses (evidence.clauses)
    clause_proba: list[np.ndarray | None]  # (clauses, labels) for a comment with several, else None
    clause_sentiment: list[list[int | None] | None]  # each clause's sentiment, likewise


def _usable_cores() -> int:
    """Cores this process may run on (Linux: its affinity, e.g. a container's share; elsewhere all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def _flat_by_row(names: np.ndarray, mask: np.ndarray) -> tuple[list, list[int]]:
    """The names where ``mask`` is true, row after row, and where each row's run starts."""
    rows, cols = np.nonzero(mask)
    return names[cols].tolist(), np.searchsorted(rows, np.arange(mask.shape[0] + 1)).tolist()


__all__ = ["MODEL_FORMAT", "FeedbackModel", "__version__", "packaged_model_path"]
