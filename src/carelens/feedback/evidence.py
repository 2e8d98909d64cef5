"""The words behind each topic: which part of a comment carries it, and that part's sentiment.

Why: a comment often praises one thing and criticises another ("The food was cold but the nurses
were lovely"); one sentiment per comment colours both topics the same. A comment is cut into
clauses (at sentence ends, commas, semicolons and clause words such as "but", "however",
"although", or "and" before a new subject); each predicted topic is given the clause whose words
speak most for it, and that clause's own sentiment.

Which words speak for a topic is learnt from the training comments: per topic, the naive Bayes
log-count ratio of each word and word pair (Wang & Manning 2012), kept where positive. It is
cheap (a sparse product per clause) and readable, and it only has to rank the few clauses of one
comment for a topic the classifier has already found there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator

# clause boundaries: sentence ends, semicolons, commas, dashes and clause words ("and" only
# before a new subject: "kind and caring" stays one clause)
_BOUNDARY = re.compile(
    r"[.!?;:\n]+|,|\s[-\u2013\u2014]\s|\(|\)"
    r"|\b(?:but|however|although|though|whereas|yet|except|while|whilst|unfortunately|otherwise)\b"
    r"|\band\b(?=\s+(?:the|my|i|we|they|it|there|she|he|his|her|our|their|a|an|nobody|no|everyone|staff|this|that|you)\b)",
    re.IGNORECASE,
)
_HAS_WORD = re.compile(r"[^\W\d_]{2,}")
# a clause that opens with one of these continues the subject of the clause before it ("The staff,
# however, were kind"): the two are one clause
_CONTINUES = re.compile(r"(?:was|were|is|are|has|have|had|did|do|does|seemed|seems|could|would|will|can)\b", re.IGNORECASE)
_TRIM = " \t\r\n,.;:!?-\u2013\u2014\"'()"


@dataclass(frozen=True)
class TopicSpan:
    """One predicted topic, its sentiment (1-5, or None) and the span [start, end) of the comment."""

    topic: str
    sentiment: int | None
    start: int
    end: int

    def as_dict(self) -> dict:
        return {"topic": self.topic, "sentiment": self.sentiment, "start": self.start, "end": self.end}


def clauses(text: str) -> list[tuple[int, int]]:
    """Character spans [start, end) of the clauses of a comment, trimmed, each with a word in it."""
    spans = []
    start = 0
    for match in [*_BOUNDARY.finditer(text), None]:
        end = len(text) if match is None else match.start()
        a, b = start, end
        while a < b and (text[a] in _TRIM or text[a].isspace()):
            a += 1
        while b > a and (text[b - 1] in _TRIM or text[b - 1].isspace()):
            b -= 1
        if b > a and _HAS_WORD.search(text, a, b):
            if spans and _CONTINUES.match(text, a):
                spans[-1] = (spans[-1][0], b)
            else:
                spans.append((a, b))
        if match is not None:
            start = match.end()
    if spans or not text.strip():
        return spans
    start = len(text) - len(text.lstrip())  # no clause with a word: the text itself, trimmed
    return [(start, len(text.rstrip()))]


class TopicEvidence(BaseEstimator):
    """Per-label word weights (positive naive Bayes log-count ratios) over a fitted word vectorizer."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha

    def fit(self, X_words, Y) -> TopicEvidence:
        """``X_words``: (n, V) word features of the training comments (any positive value = present)."""
        present = (sparse.csr_matrix(X_words) > 0).astype(np.float32)
        Y = np.asarray(Y, dtype=np.float32)
        on = np.asarray((present.T @ Y).T) + self.alpha  # (L, V) label-comments containing each word
        all_counts = np.asarray(present.sum(axis=0)).ravel() + 2 * self.alpha
        off = all_counts[None, :] - on + self.alpha
        ratio = np.log(on / on.sum(axis=1, keepdims=True)) - np.log(off / off.sum(axis=1, keepdims=True))
        ratio[ratio < 0] = 0.0
        ratio[Y.sum(axis=0) == 0] = 0.0
        self.weights_ = sparse.csr_matrix(ratio.astype(np.float32))
        return self

    def scores(self, X_words) -> np.ndarray:
        """(n, L): how much each text's words speak for each label."""
        present = (sparse.csr_matrix(X_words) > 0).astype(np.float32)
        return np.asarray((present @ self.weights_.T).todense())


def best_clauses(clause_scores: np.ndarray, labels: list[int]) -> dict[int, int]:
    """For each label index, the clause (row) with the highest score (the first on a tie)."""
    return {j: int(np.argmax(clause_scores[:, j])) for j in labels}


def format_topic_sentiment(spans: list[TopicSpan]) -> str:
    """'Food & drink provision & facilities: 4; Staff manner & personal attributes: 1'."""
    return "; ".join(f"{s.topic}: {s.sentiment}" for s in spans if s.sentiment is not None)


def format_topic_evidence(text: str, spans: list[TopicSpan]) -> str:
    """'Food & drink provision & facilities: "The food was cold" | Staff manner ...: "the nurses were lovely"'."""
    return " | ".join(f'{s.topic}: "{text[s.start:s.end]}"' for s in spans)


def topic_spans(
    texts: list[str],
    topic_lists: list[list[str]],
    label_index: dict[str, int],
    comment_clauses: list[list[tuple[int, int]]],
    clause_scores: list[np.ndarray | None],
    clause_sentiments: list[list[int | None] | None],
    comment_sentiments: list[int | None],
) -> list[list[TopicSpan]]:
    """Per comment, one TopicSpan per predicted topic (in the order given).

    ``comment_clauses[i]``: the clauses of comment i (``clauses``); for a comment with several,
    ``clause_scores[i]`` is (clauses, labels) and ranks its clauses for each label, and
    ``clause_sentiments[i]`` is each clause's sentiment. The topics of a one-clause comment keep the
    comment's own sentiment (the same words); a topic no clause speaks for (all scores 0) gets the
    whole comment and its sentiment.
    """
    out: list[list[TopicSpan]] = [[] for _ in texts]
    for i, (text, topics) in enumerate(zip(texts, topic_lists)):
        if not topics:
            continue
        spans = comment_clauses[i]
        block = clause_scores[i] if len(spans) > 1 else None
        if block is None:
            a, b = spans[0] if spans else (0, len(text))
            out[i] = [TopicSpan(t, comment_sentiments[i], a, b) for t in topics]
            continue
        for topic in topics:
            j = label_index.get(topic)
            if j is None or block[:, j].max() <= 0:  # no clause speaks for it: the whole comment carries it
                out[i].append(TopicSpan(topic, comment_sentiments[i], spans[0][0], spans[-1][1]))
            else:
                k = int(np.argmax(block[:, j]))
                out[i].append(TopicSpan(topic, clause_sentiments[i][k], *spans[k]))
    return out
