"""Feedback capability: framework as data, content-free rule, estimators, safe model folders."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carelens.errors import ConfigError, ModelError, TableError
from carelens.feedback import FeedbackModel, load_framework, train_feedback_model
from carelens.feedback.framework import Framework
from carelens.feedback.labels import joined_labels, parse_flag_column
from carelens.feedback.synth import generate_comments
from carelens.feedback.text import clean_text, is_content_free

TRUST_FRAMEWORK = {
    "name": "Trust codes",
    "version": "2025",
    "categories": [
        {"name": "Care", "labels": [{"name": "Kindness"}, {"name": "Waiting"}]},
        {"name": "Hotel", "labels": [{"name": "Meals"}, {"name": "Car park"}, {"name": "Cleanliness"}]},
    ],
}
PHRASES = {
    "Kindness": ["the nurses were kind", "staff were lovely and caring", "a very rude doctor"],
    "Waiting": ["I waited hours", "seen very quickly", "the delay was too long"],
    "Meals": ["the food was cold", "lovely meals", "nice sandwiches and tea"],
    "Car park": ["no spaces in the car park", "parking costs too much", "easy parking"],
    "Cleanliness": ["dirty toilets", "spotless ward", "the floor was filthy"],
}


def trust_training_frame(n: int = 240, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = list(PHRASES)
    rows = []
    for i in range(n):
        chosen = list(rng.choice(names, size=int(rng.integers(1, 3)), replace=False))
        text = " and ".join(PHRASES[c][int(rng.integers(3))] for c in chosen)
        negative = any(w in text for w in ("rude", "cold", "dirty", "filthy", "hours", "delay", "no spaces", "too much"))
        rows.append({"id": i, "comment": text, "codes": "; ".join(chosen), "mood": 4 if negative else 2})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def trust_model(tmp_path_factory):
    from carelens.feedback.framework import Framework

    framework = Framework.from_dict(TRUST_FRAMEWORK)
    frame = trust_training_frame()
    model = train_feedback_model(frame, framework, text_column="comment", labels_column="codes",
                                 sentiment_column="mood", fft_score_column=None, cv=3, n_jobs=1)
    path = tmp_path_factory.mktemp("model")
    model.save(path)
    return FeedbackModel.load(path)


def test_default_framework_is_v7_with_32_subcategories_in_10_categories():
    fw = load_framework()
    assert len(fw.labels) == 32
    assert len(fw.categories) == 10
    assert fw.category_of("Parking") == "Service location, travel & transport"
    assert "Labelling not possible" not in fw.learnable_labels
    assert all(label.description for label in fw.labels)
    assert fw.general_praise == "Positive experience & gratitude"
    assert Framework.from_dict(fw.to_dict()).general_praise == fw.general_praise  # kept in a saved model


def test_trust_framework_from_csv_and_yaml(tmp_path):
    csv = tmp_path / "fw.csv"
    csv.write_text("label,category,description\nKindness,Care,staff kindness\nMeals,Hotel,food\n")
    fw = load_framework(csv)
    assert fw.label_names == ["Kindness", "Meals"]
    assert fw.category_of("Meals") == "Hotel"
    yml = tmp_path / "fw.yaml"
    yml.write_text("categories:\n  - name: A\n    labels: [One, Two]\n")
    assert load_framework(yml).label_names == ["One", "Two"]


@pytest.mark.parametrize(
    "content, message",
    [
        ("categories: []\n", "no labels"),
        ("categories:\n  - name: A\n    labels: [X, X]\n", "appears twice"),
        ("just text", "categories"),
        ("special:\n  general_praise: Nope\ncategories:\n  - name: A\n    labels: [X]\n", "general_praise.*not a label"),
    ],
)
def test_bad_framework_files_are_clear_errors(tmp_path, content, message):
    path = tmp_path / "fw.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_framework(path)


@pytest.mark.parametrize("text", [None, "", "   ", "Did not answer", "did not answer.", "N/A", "n/a", "-", "...", "12345", "?!", float("nan")])
def test_content_free_comments(text):
    assert is_content_free(text)


@pytest.mark.parametrize("text", ["Nothing.", "None", "Parking!", "很好", "😀 great staff", "Très bien"])
def test_comments_with_words_are_not_content_free(text):
    assert not is_content_free(text)


@given(st.text(alphabet=st.characters(whitelist_categories=("Nd", "Po", "Ps", "Pe", "Zs", "Sm")), max_size=50))
def test_text_without_letters_is_content_free(text):
    assert is_content_free(text)


@given(st.text(max_size=30_000))
def test_clean_text_is_bounded_and_never_fails(text):
    cleaned = clean_text(text)
    assert isinstance(cleaned, str) and len(cleaned) <= 5_000


def test_flag_columns_accept_common_spellings_and_reject_typos():
    assert parse_flag_column(pd.Series(["1", "0", "", None, "yes", "TRUE", 1.0]), column="c", file="f").tolist() == [1, 0, 0, 0, 1, 1, 1]
    with pytest.raises(TableError, match=r"row 3, field 'c'"):
        parse_flag_column(pd.Series(["1", "maybe"]), column="c", file="f.csv")


def test_joined_labels_unknown_name_names_the_row():
    from carelens.feedback.framework import Framework

    fw = Framework.from_dict(TRUST_FRAMEWORK)
    frame = pd.DataFrame({"codes": ["Meals; kindness", "Meals; Parking"]})
    with pytest.raises(TableError, match=r"row 3.*'Parking'"):
        joined_labels(frame, "codes", ";", fw, file="x.csv")
    Y, _ = joined_labels(frame.iloc[:1], "codes", ";", fw)
    assert Y.tolist() == [[1, 0, 1, 0, 0]]  # case-insensitive match; columns in framework order


def test_trust_framework_trains_and_classifies_with_its_own_names(trust_model):
    assert trust_model.framework.name == "Trust codes"
    out = trust_model.classify(["the food was cold and I waited hours", "Did not answer", "spotless ward"])
    assert len(out) == 3
    assert "Meals" in out.loc[0, "topics"] and "Waiting" in out.loc[0, "topics"]
    assert out.loc[0, "categories"] == ["Care", "Hotel"] or set(out.loc[0, "categories"]) == {"Care", "Hotel"}
    assert out.loc[1, "topics"] == ["Labelling not possible"] and pd.isna(out.loc[1, "sentiment"])
    assert out.loc[2, "topics_text"] == "Cleanliness"
    assert out.loc[0, "sentiment"] >= 4


def test_classify_keeps_one_row_per_input_in_order_for_awkward_text(trust_model):
    texts = ["x" * 20_000, "😀😀", "Le personnel était très gentil", "12345", None, "", "Meals", "lovely meals"]
    out = trust_model.classify(texts)
    assert len(out) == len(texts)
    assert out["sentiment"].dtype.name == "Int64"
    assert out.loc[3, "topics"] == ["Labelling not possible"]
    assert out.loc[4, "topics"] == ["Labelling not possible"]
    assert "Meals" in out.loc[7, "topics"]


def test_probabilities_are_between_zero_and_one(trust_model):
    proba = trust_model.topics.predict_proba(["the food was cold", "dirty toilets"])
    assert proba.shape == (2, 5) and ((proba >= 0) & (proba <= 1)).all()
    sp = trust_model.sentiment.predict_proba(["the food was cold"])
    assert sp.shape == (1, 5) and np.isclose(sp.sum(), 1.0)


def test_model_card_records_framework_data_thresholds_and_cv_metrics(trust_model):
    card = trust_model.card
    assert card["framework"]["labels"] == 5
    assert card["training_data"]["rows"] == 240
    assert set(card["topics"]["labels"]) == {"Kindness", "Waiting", "Meals", "Car park", "Cleanliness"}
    assert 0 < card["cv_metrics"]["topic_macro_f1_cv"] <= 1
    assert card["sentiment"]["trained"] is True


def test_corrupt_and_foreign_model_folders_are_refused(tmp_path, trust_model):
    with pytest.raises(ModelError, match="not found"):
        FeedbackModel.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="not a carelens feedback model"):
        FeedbackModel.load(tmp_path / "empty")
    saved = trust_model.save(tmp_path / "m")
    (saved / "topics.skops").write_bytes(b"garbage")
    with pytest.raises(ModelError):
        FeedbackModel.load(saved)
    saved = trust_model.save(tmp_path / "m2")
    card = json.loads((saved / "card.json").read_text())
    card["format"] = "something-else/9"
    (saved / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="unknown model format"):
        FeedbackModel.load(saved)


class NotAllowed:
    """A type outside the allow-list: loading a file that contains it must be refused."""


def test_model_file_with_untrusted_types_is_refused(tmp_path, trust_model):
    import skops.io as sio

    saved = trust_model.save(tmp_path / "m")
    sio.dump({"payload": NotAllowed()}, saved / "topics.skops")
    with pytest.raises(ModelError, match="refusing to load"):
        FeedbackModel.load(saved)


def test_a_saved_model_predicts_exactly_as_before_and_keeps_its_vocabulary_in_one_array(tmp_path, trust_model):
    import zipfile

    texts = ["the food was cold and I waited hours", "spotless ward", "lovely kind staff", "car park full"]
    saved = trust_model.save(tmp_path / "m")
    reloaded = FeedbackModel.load(saved)
    before, after = trust_model.classify(texts), reloaded.classify(texts)
    assert before["probabilities"].tolist() == after["probabilities"].tolist()
    assert before["sentiment"].tolist() == after["sentiment"].tolist()
    vocabulary = trust_model.topics.features_.char_.vocabulary_
    assert isinstance(vocabulary, dict) and reloaded.topics.features_.char_.vocabulary_ == vocabulary
    # one array per vocabulary, not one file per n-gram (which made opening a model take ~10 s)
    with zipfile.ZipFile(saved / "topics.skops") as zf:
        assert len(zf.namelist()) < 100 < len(vocabulary)


def test_packaged_model_loads_and_classifies():
    model = FeedbackModel.load()
    assert len(model.framework.labels) == 32
    out = model.classify(["The food was cold and the nurse was rude", "Did not answer"], fft_scores=[5, None])
    assert "Food & drink provision & facilities" in out.loc[0, "topics"]
    assert out.loc[0, "sentiment"] >= 4
    assert out.loc[1, "topics"] == ["Labelling not possible"]


def test_synthetic_export_has_the_columns_a_trust_export_has():
    frame = generate_comments(300, seed=3)
    assert len(frame) == 300 and frame["Comment ID"].is_unique
    for col in ("Date", "FFT question", "FFT score", "FFT answer", "Division", "Directorate", "Ward / team", "Age band", "Sex", "Ethnicity"):
        assert col in frame.columns
    assert (frame["FFT answer"] == "Did not answer").any() or (frame["FFT answer"] == "").any()
    assert generate_comments(50, seed=3).equals(generate_comments(50, seed=3))


def test_linear_svm_solved_in_the_dual_gives_the_same_scores_as_its_primal_weights():
    from scipy import sparse
    from sklearn.svm import SVC

    from carelens.feedback.topics import _fit_label_kernel, _gram

    X = sparse.random(120, 40, density=0.2, random_state=1, format="csr", dtype=np.float32)
    y = (np.asarray(X[:, :3].sum(axis=1)).ravel() > 0.3).astype(int)
    K = _gram(X)
    coef, intercept = _fit_label_kernel(K, X, y, C=1.0)
    reference = SVC(kernel="precomputed", C=1.0, class_weight="balanced").fit(K, y).decision_function(K)
    assert np.allclose(X @ coef + intercept, reference, atol=1e-4)
    X_new = sparse.random(10, 40, density=0.2, random_state=2, format="csr")
    assert np.allclose(X_new @ coef + intercept, SVC(kernel="precomputed", C=1.0, class_weight="balanced").fit(K, y).decision_function((X_new @ X.T).toarray()), atol=1e-4)


@pytest.mark.parametrize("loss", ["squared", "hinge", "logistic"])
def test_topic_classifier_learns_with_either_loss(loss):
    from carelens.feedback.features import TextFeatures
    from carelens.feedback.topics import TopicClassifier

    frame = trust_training_frame(200)
    labels = [c.split("; ") for c in frame["codes"]]
    model = TopicClassifier(features=TextFeatures(embedder="none"), labels=list(PHRASES), loss=loss, cv=3, n_jobs=1)
    model.fit(frame["comment"].tolist(), labels)
    predicted = model.predict(["the food was cold", "no spaces in the car park"])
    names = list(model.classes_)
    assert predicted[0, names.index("Meals")] == 1 and predicted[1, names.index("Car park")] == 1
    with pytest.raises(ValueError, match="loss"):
        TopicClassifier(loss="absolute").fit(["a b", "c d"], [["x"], ["y"]])


def test_accurate_rbf_topic_model_trains_saves_loads_and_classifies(tmp_path):
    from carelens.feedback.framework import Framework

    frame = trust_training_frame(200)
    model = train_feedback_model(frame, Framework.from_dict(TRUST_FRAMEWORK), text_column="comment", labels_column="codes",
                                 sentiment_column="mood", fft_score_column=None, embedder="none", topic_kernel="rbf",
                                 cv=3, n_jobs=1)
    assert model.card["topic_model"]["kernel"] == "rbf"
    loaded = FeedbackModel.load(model.save(tmp_path / "m"))
    out = loaded.classify(["the food was cold", "no spaces in the car park", "", "staff were lovely and caring"])
    assert "Meals" in out["topics"][0] and "Car park" in out["topics"][1] and "Kindness" in out["topics"][3]
    assert out["topics"][2] == ["Labelling not possible"]
    assert np.allclose(loaded.topics.predict_proba(["the food was cold"]), model.topics.predict_proba(["the food was cold"]))


def test_fast_char_ngrams_equal_scikit_learns():
    from sklearn.feature_extraction.text import TfidfVectorizer

    from carelens.feedback.features import char_wb_tfidf

    train = ["The nurses were kind", "parking   costs\ttoo much!", "Très bien, merci", "food 👍 was cold", "a b c"]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, dtype=np.float32).fit(train)
    new = train + ["", "unseen wordz here", "x" * 5000, "ÉCOLE naïve\nnew line", "kind kind kind nurses"]
    expected = vectorizer.transform(new)
    got = char_wb_tfidf(vectorizer, new)
    assert got.shape == expected.shape
    assert abs(got - expected).max() < 1e-6
    cache: dict[str, list[int]] = {}
    for batch in (new[:4], new, new[::-1]):  # words remembered from earlier batches change nothing
        assert abs(char_wb_tfidf(vectorizer, batch, cache) - vectorizer.transform(batch)).max() < 1e-6
    assert "nurses" in cache


def _rbf_model(n: int = 200, **kwargs):
    from carelens.feedback.features import TextFeatures
    from carelens.feedback.topics import TopicClassifier

    frame = trust_training_frame(n)
    labels = [c.split("; ") for c in frame["codes"]]
    return TopicClassifier(features=TextFeatures(embedder="none"), labels=list(PHRASES), cv=3, n_jobs=1, **kwargs).fit(frame["comment"].tolist(), labels)


def test_fast_rbf_scores_equal_the_kernel_formula_in_any_chunking(monkeypatch):
    """The dense/sparse split of the support vectors and the threaded chunks change no number."""
    from sklearn.metrics.pairwise import rbf_kernel
    from sklearn.preprocessing import normalize

    from carelens.feedback import topics

    model = _rbf_model(kernel="rbf")
    texts = [f"{a} and {b}" for a in PHRASES["Meals"] for b in PHRASES["Car park"] + PHRASES["Kindness"]] * 3
    Xf = model.features_.transform(texts)
    Xn = normalize(Xf)
    expected = rbf_kernel(Xn, model.support_X_.astype(np.float64), gamma=model.gamma) @ model.dual_coef_.T.astype(np.float64) + model.intercept_
    for share in (0.0, 0.1, 1.0):  # all columns dense, a split, all sparse
        monkeypatch.setattr(topics, "DENSE_COLUMN_SHARE", share)
        model.__dict__.pop("_support_cache", None)
        for n_jobs in (1, 2):
            got = model._rbf_scores(Xf, chunk=7, n_jobs=n_jobs)
            assert np.allclose(got, expected, atol=1e-4)


def test_rbf_model_file_keeps_no_derived_cache(tmp_path):
    model = _rbf_model(kernel="rbf")
    model.predict(["the food was cold"])
    assert "_support_cache" in model.__dict__
    assert "_support_cache" not in model.__getstate__()
    assert "_support_cache" in model.__dict__  # the live model keeps it


def test_auto_kernel_is_rbf_for_small_data_and_linear_above_the_memory_limit(monkeypatch):
    from carelens.feedback import topics

    assert _rbf_model().kernel_ == "rbf"
    monkeypatch.setattr(topics, "RBF_MAX_ROWS", 100)
    large = _rbf_model()
    assert large.kernel_ == "linear" and large.coef_ is not None
    with pytest.raises(ValueError, match="at most 100"):
        _rbf_model(kernel="rbf")
    with pytest.raises(ValueError, match="kernel must be one of"):
        _rbf_model(kernel="poly")


def test_rbf_model_gives_labels_too_rare_to_tune_a_linear_svm_that_keys_on_their_words():
    from carelens.feedback.features import TextFeatures
    from carelens.feedback.topics import TopicClassifier

    frame = trust_training_frame(200)
    texts = frame["comment"].tolist() + ["the porter was helpful", "a helpful porter took me", "porter came quickly"]
    labels = [c.split("; ") for c in frame["codes"]] + [["Portering"]] * 3
    model = TopicClassifier(features=TextFeatures(embedder="none"), labels=[*PHRASES, "Portering"], kernel="rbf", cv=3, n_jobs=1)
    model.fit(texts, labels)
    names = list(model.classes_)
    j = names.index("Portering")
    assert model.linear_labels_[j] and not model.tuned_[j]
    assert not model.linear_labels_[names.index("Meals")]
    predicted = model.predict(["the porter was very helpful", "the food was cold"])
    assert predicted[0, j] == 1 and predicted[1, j] == 0


def test_a_large_batch_is_classified_in_parallel_chunks_with_the_same_result(trust_model, monkeypatch):
    import carelens.feedback.model as model_module

    frame = trust_training_frame(300, seed=5)
    texts = frame["comment"].tolist() + ["", "n/a"]
    whole = trust_model.classify(texts, n_jobs=1)
    monkeypatch.setattr(model_module, "CLASSIFY_CHUNK", 16)
    chunked = trust_model.classify(texts, n_jobs=2)
    assert len(chunked) == len(texts)
    assert chunked["topics_text"].tolist() == whole["topics_text"].tolist()
    assert chunked["sentiment"].fillna(0).tolist() == whole["sentiment"].fillna(0).tolist()
    assert chunked["probabilities"].tolist() == whole["probabilities"].tolist()


def test_core_count_falls_back_where_the_os_has_no_affinity_call(monkeypatch):
    import os

    import carelens.feedback.model as model_module

    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert model_module._usable_cores() == (os.cpu_count() or 1)


def test_a_two_clause_comment_finds_each_topic_in_its_clause_with_that_clause_sentiment(trust_model):
    out = trust_model.classify(["the food was cold but the nurses were kind", "the food was cold"])
    spans = {s["topic"]: s for s in out["topic_spans"][0]}
    text = "the food was cold but the nurses were kind"
    assert {"Meals", "Kindness"} <= set(out["topics"][0])
    assert text[spans["Meals"]["start"]:spans["Meals"]["end"]] == "the food was cold"
    assert text[spans["Kindness"]["start"]:spans["Kindness"]["end"]] == "the nurses were kind"
    assert spans["Meals"]["sentiment"] >= 4 and spans["Kindness"]["sentiment"] <= 2
    assert out["topics"][1] == ["Meals"]  # one clause: the comment alone decides


def test_general_praise_comes_from_the_whole_comment_never_from_one_clause():
    """The framework's general-praise label (v7: "Positive experience & gratitude") is added only
    when the whole comment carries it: the clause "there was nothing I could eat" reads like the
    FFT answer "nothing" (= nothing to improve) and, with no general-praise label named, a clause
    adds it to a complaint (one of issue 11's examples)."""
    from dataclasses import replace

    model = FeedbackModel.load()
    praise = model.framework.general_praise
    assert praise == "Positive experience & gratitude"
    text = "Meals were awful and there was nothing I could eat."
    j = list(model.topics.labels_).index(praise)
    assert model.topics.predict_proba([text])[0, j] < model.topics.thresholds_[j]  # the whole comment: no praise
    out = model.classify([text, "Thank you all, nothing could have been better."])
    assert "Food & drink provision & facilities" in out["topics"][0] and praise not in out["topics"][0]
    assert praise in out["topics"][1]  # praise from the whole comment is still given
    unnamed = FeedbackModel(topics=model.topics, framework=replace(model.framework, general_praise=None),
                            sentiment=model.sentiment, card=model.card)
    assert praise in unnamed.classify([text])["topics"][0]  # the clause alone would add it
