"""Sentiment that reads the words (negation scope, lexicon, gated FFT score), topic evidence spans,
kernel ridge topics and training progress."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carelens.feedback.evidence import TopicEvidence, clauses, topic_spans
from carelens.feedback.polarity import (PolarityFeatures, lexicon_scores, negated_tokens, packaged_lexicon, packaged_phrases,
                                        phrase_index, tokenize)
from carelens.feedback.sentiment import SentimentClassifier, gated


def test_negation_scope_runs_to_punctuation_or_a_new_clause():
    assert negated_tokens("The staff were not kind at all.") == ["NOT_kind", "NOT_at", "NOT_all"]
    assert negated_tokens("Nobody listened, but the food was good") == ["NOT_listened"]
    assert negated_tokens("I didn't wait long and the nurses were lovely") == ["NOT_wait", "NOT_long"]
    assert negated_tokens("Not only kind but also quick") == []


def test_lexicon_features_flip_negated_words_but_keep_litotes():
    lexicon = packaged_lexicon()
    pos, neg, negated_pos, negated_neg = lexicon_scores(tokenize("The staff were not kind at all."), lexicon)[:4]
    assert negated_pos > 0 and pos == 0 and neg == 0 and negated_neg == 0
    # "couldn't have asked for better": praise, not a negated "better"
    litotes = lexicon_scores(tokenize("I couldn't have asked for better care"), lexicon)
    assert litotes[0] > 0 and litotes[2] == 0
    # the clause after "but" is counted again on its own
    contrast = lexicon_scores(tokenize("The food was awful but the nurses were lovely"), lexicon)
    assert contrast[4] > 0 and contrast[5] == 0


def test_event_phrases_count_as_lexicon_words_with_no_evaluative_word():
    lexicon, phrases = packaged_lexicon(), phrase_index(packaged_phrases())
    assert "never came" not in lexicon  # phrases are not single words
    # no lexicon word in it at all: only the phrase says it is a complaint
    assert lexicon_scores(tokenize("The taxi never came."), lexicon)[:4].sum() == 0
    pos, neg, negated_pos, negated_neg = lexicon_scores(tokenize("The taxi never came."), lexicon, phrases)[:4]
    assert neg > 0 and pos == negated_pos == negated_neg == 0
    # "#" is any number, as digits or a word
    for text in ("We waited 6 hours.", "we waited six hours"):
        assert lexicon_scores(tokenize(text), lexicon, phrases)[1] > lexicon_scores(tokenize(text), lexicon)[1]
    assert lexicon_scores(tokenize("The clinic is near my home"), lexicon, phrases)[0] > 0
    # a negator inside the phrase does not flip it; a negator before it does
    assert lexicon_scores(tokenize("I didn't have to wait"), lexicon, phrases)[0] > 0
    flipped = lexicon_scores(tokenize("I was not kept informed"), lexicon, phrases)
    assert flipped[2] > 0 and flipped[0] == 0


def test_a_polarity_block_fitted_before_phrases_reads_none():
    texts = ["the bus never came", "lovely staff", "not kind"] * 8
    block = PolarityFeatures().fit(texts)
    old = PolarityFeatures().fit(texts)
    for name in ("phrases_", "phrase_values_"):
        del old.__dict__[name]  # as a model saved before round 3 of issue 11
    old.__dict__.pop("_phrase_cache", None)
    new_X, old_X = block.transform(["the bus never came"]).toarray(), old.transform(["the bus never came"]).toarray()
    assert new_X.shape == old_X.shape and new_X[0, -8] > old_X[0, -8] == 0
    assert "_phrase_cache" not in block.__getstate__()


def test_neutral_scale_shifts_only_the_neutral_class():
    model = SentimentClassifier(neutral_scale=0.5)
    p = np.array([[0.1, 0.2, 0.4, 0.2, 0.1]])
    q = model._rescaled(p)
    assert q.sum() == pytest.approx(1.0) and q[0, 2] < p[0, 2]
    assert q[0, 0] / q[0, 3] == pytest.approx(p[0, 0] / p[0, 3])
    assert SentimentClassifier()._rescaled(p) is p


def test_polarity_block_keeps_its_lexicon_and_never_saves_the_lookup_cache():
    block = PolarityFeatures().fit(["not kind", "not rude", "very kind", "rude staff"] * 6)
    X = block.transform(["not kind at all", "lovely"])
    assert X.shape[0] == 2 and X.nnz > 0
    assert "_lexicon_cache" in block.__dict__ and "_lexicon_cache" not in block.__getstate__()
    assert len(block.lexicon_words_) == len(block.lexicon_values_) > 1000


def test_fft_score_breaks_ties_but_never_flips_a_clear_text():
    p_text = np.array([[0.5, 0.4, 0.05, 0.03, 0.02],   # clearly positive text
                       [0.2, 0.1, 0.4, 0.2, 0.1]])     # no clear direction
    very_poor = np.log(np.array([0.05, 0.05, 0.1, 0.4, 0.4]) / 0.2)
    out = gated(p_text, np.vstack([very_poor, very_poor]), weight=1.0, gate=0.8)
    assert out[0].argmax() in (0, 1) and out[0, 2:].sum() == 0
    assert out[1].argmax() in (3, 4)
    assert np.allclose(out.sum(axis=1), 1.0)


@pytest.mark.parametrize("text, expected", [
    ("The food was cold but the nurses were lovely.", ["The food was cold", "the nurses were lovely"]),
    ("Great staff, terrible parking.", ["Great staff", "terrible parking"]),
    ("The staff, however, were brilliant and kind.", ["The staff, however, were brilliant and kind"]),
    ("Kind and caring staff.", ["Kind and caring staff"]),
    ("Parking was awful. The ward was clean and the food was hot", ["Parking was awful", "The ward was clean", "the food was hot"]),
])
def test_clauses_split_at_sentences_commas_and_contrasts(text, expected):
    assert [text[a:b] for a, b in clauses(text)] == expected


@given(st.text(max_size=200))
def test_clauses_are_ordered_non_overlapping_spans_of_the_text(text):
    spans = clauses(text)
    previous_end = 0
    for a, b in spans:
        assert previous_end <= a < b <= len(text)
        assert text[a:b] == text[a:b].strip()
        previous_end = b


def test_each_topic_gets_the_clause_whose_words_speak_for_it_and_that_clause_sentiment():
    from sklearn.feature_extraction.text import CountVectorizer

    train = ["the food was cold", "lovely food", "tasty meals", "the nurses were kind", "rude nurses", "kind staff"]
    Y = np.array([[1, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 1]])
    vectorizer = CountVectorizer().fit(train)
    evidence = TopicEvidence().fit(vectorizer.transform(train), Y)
    text = "The food was cold but the nurses were kind"
    sentiments = {"The food was cold": 4, "the nurses were kind": 1}
    texts = [text, "Lovely food"]
    comment_clauses = [clauses(t) for t in texts]
    clause_texts = [[t[a:b] for a, b in spans] for t, spans in zip(texts, comment_clauses)]
    spans = topic_spans(
        texts, [["Food", "Staff"], ["Food"]], {"Food": 0, "Staff": 1}, comment_clauses,
        [evidence.scores(vectorizer.transform(c)) for c in clause_texts],
        [[sentiments.get(c) for c in cs] for cs in clause_texts],
        [3, 2],
    )
    first = {s.topic: (text[s.start:s.end], s.sentiment) for s in spans[0]}
    assert first == {"Food": ("The food was cold", 4), "Staff": ("the nurses were kind", 1)}
    assert [(s.topic, s.sentiment, s.start, s.end) for s in spans[1]] == [("Food", 2, 0, 11)]  # one clause: the comment's


def test_kernel_ridge_dual_solution_equals_scikit_learns_kernel_ridge():
    from sklearn.kernel_ridge import KernelRidge

    from carelens.feedback.topics import _ridge_solve

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    K = np.exp(-0.5 * ((X[:, None, :] - X[None, :, :]) ** 2).sum(axis=2))
    T = np.where(rng.random((60, 3)) < 0.3, 1.0, -1.0)
    A = _ridge_solve(K, T, alpha=0.1)
    expected = KernelRidge(alpha=0.1, kernel="precomputed").fit(K, T).dual_coef_
    assert np.allclose(A, expected, atol=1e-3)


def test_training_reports_progress_from_zero_to_one(tmp_path):
    from carelens.feedback import train_feedback_model
    from carelens.feedback.framework import Framework

    from .test_feedback_core import TRUST_FRAMEWORK, trust_training_frame

    seen: list[tuple[float, str]] = []
    train_feedback_model(trust_training_frame(), Framework.from_dict(TRUST_FRAMEWORK), text_column="comment",
                         labels_column="codes", sentiment_column="mood", fft_score_column=None, cv=3, n_jobs=1,
                         progress=lambda fraction, stage: seen.append((fraction, stage)))
    fractions = [f for f, _ in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions) and len(set(fractions)) >= 5  # it moves, fold by fold
    assert any("fold" in stage for _, stage in seen) and any(stage == "sentiment" for _, stage in seen)


def test_negated_words_block_equals_its_vectorizers_own_transform():
    texts = ["The staff were not kind at all.", "Nobody listened, nobody cared", "never rude, never late", "no", "fine"] * 5
    block = PolarityFeatures().fit(texts)
    tokens = [tokenize(t) for t in texts]
    assert np.allclose(block._negated_block(tokens).toarray(), block.negated_.transform(texts).toarray())


def test_split_gram_equals_the_plain_product():
    from scipy import sparse

    from carelens.feedback.topics import _gram_split

    rng = np.random.default_rng(1)
    sparse_part = sparse.random(300, 2000, density=0.01, random_state=2, dtype=np.float32)
    dense_part = sparse.csr_matrix(rng.normal(size=(300, 16)).astype(np.float32))  # every row: the embedding
    X = sparse.hstack([sparse_part, dense_part], format="csr")
    assert np.allclose(_gram_split(X), (X @ X.T).toarray(), atol=1e-4)


def test_repeated_support_rows_are_merged_with_their_dual_coefficients_summed():
    from scipy import sparse

    from carelens.feedback.topics import _merge_duplicate_rows, _rbf_from_cosine

    rng = np.random.default_rng(3)
    rows = rng.random((6, 8)).astype(np.float32)
    X = sparse.csr_matrix(np.vstack([rows, rows[[1, 4, 1]]]))  # three repeats
    A = rng.normal(size=(2, X.shape[0])).astype(np.float32)
    merged_X, merged_A = _merge_duplicate_rows(X, A)
    assert merged_X.shape[0] == 6 and merged_A.shape == (2, 6)
    queries = rng.random((5, 8)).astype(np.float32)
    before = _rbf_from_cosine(queries @ X.toarray().T, 1.0) @ A.T
    after = _rbf_from_cosine(queries @ merged_X.toarray().T, 1.0) @ merged_A.T
    assert np.allclose(before, after, atol=1e-4)


def test_sentiment_scores_its_two_blocks_as_the_stacked_model_would():
    from scipy import sparse

    from carelens.feedback.sentiment import SentimentClassifier
    from carelens.feedback.text import clean_texts

    texts = ["The food was cold", "lovely staff", "not kind at all", "the ward was spotless", "I waited hours"] * 8
    y = np.array([4, 1, 5, 2, 4] * 8)
    for classes in (y, np.where(y <= 2, 1, 5)):  # five classes (softmax) and two (one logit)
        model = SentimentClassifier(augment=False, use_fft_score=False).fit(texts, classes)
        Xf = model.features_.transform(texts)
        stacked = sparse.hstack([Xf, model.polarity_.transform(clean_texts(texts))], format="csr")
        expected = model._full(model.model_.predict_proba(stacked))
        assert np.allclose(model.text_proba_features(Xf, texts), expected, atol=1e-5)
