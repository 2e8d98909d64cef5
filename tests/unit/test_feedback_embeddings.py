"""The packaged static embedder and the embedder specs saved models refer to."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from carelens.errors import ModelError
from carelens.feedback.embeddings import (
    SentenceTransformerEmbedder,
    StaticEmbedder,
    packaged_embedder_path,
    resolve_embedder,
)


@pytest.fixture(scope="module")
def embedder() -> StaticEmbedder:
    return StaticEmbedder()


def test_packaged_embedder_gives_one_unit_float32_row_per_text(embedder):
    vectors = embedder.transform(["The nurses were kind", "Waited four hours in A&E", "Parking was impossible"])
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_embedding_is_deterministic_and_independent_of_batch(embedder):
    texts = ["Staff were rude", "Lovely food", "Could not get through on the phone"]
    together = embedder.transform(texts)
    alone = np.vstack([embedder.transform([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-6)


def test_similar_comments_are_closer_than_unrelated_ones(embedder):
    rude, unkind, parking = embedder.transform(
        ["the staff were rude to me", "the nurses were unkind and impolite", "no spaces in the car park"]
    )
    assert rude @ unkind > rude @ parking


def test_empty_input_gives_an_empty_matrix_and_blank_text_a_zero_row(embedder):
    assert embedder.transform([]).shape == (0, embedder.dim)
    blank = embedder.transform(["", None])
    assert blank.shape == (2, embedder.dim)
    assert np.all(np.isfinite(blank))


def test_fit_is_a_no_op_and_clone_shares_the_loaded_vectors(embedder):
    assert embedder.fit(["anything"]) is embedder
    assert clone(embedder).transform(["kind staff"]).tobytes() == embedder.transform(["kind staff"]).tobytes()
    assert embedder.get_params() == {"path": None}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=300), max_size=8))
def test_any_text_gives_finite_rows_in_order(embedder, texts):
    vectors = embedder.transform(texts)
    assert vectors.shape == (len(texts), embedder.dim)
    assert np.all(np.isfinite(vectors))


def test_long_emoji_and_non_english_comments_embed(embedder):
    texts = ["très bien 👍" * 2000, "Dziękuję bardzo", "😀😀😀", "12345"]
    vectors = embedder.transform(texts)
    assert vectors.shape == (4, embedder.dim)
    assert np.all(np.isfinite(vectors))


def test_packaged_model_is_small_safe_and_credits_its_source():
    folder = packaged_embedder_path()
    files = {p.name for p in folder.iterdir()}
    assert {"model.safetensors", "tokenizer.json", "config.json", "README.md"} <= files
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".bin", ".pt", ".joblib"))]
    assert sum(p.stat().st_size for p in folder.iterdir()) < 20 * 1024 * 1024
    card = (folder / "README.md").read_text("utf-8")
    assert "all-MiniLM-L6-v2" in card and "Apache-2.0" in card


def test_missing_model_folder_is_a_model_error_naming_it(tmp_path):
    with pytest.raises(ModelError) as err:
        StaticEmbedder(tmp_path / "nowhere")
    assert "nowhere" in str(err.value)


def test_corrupt_model_file_is_a_model_error(tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(packaged_embedder_path(), broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelError) as err:
        StaticEmbedder(broken)
    assert "broken" in str(err.value)


def test_a_copied_model_folder_loads_from_its_path(tmp_path, embedder):
    copy = tmp_path / "copy"
    shutil.copytree(packaged_embedder_path(), copy)
    other = StaticEmbedder(copy)
    np.testing.assert_allclose(other.transform(["kind staff"]), embedder.transform(["kind staff"]))


def test_specs_resolve_to_embedders():
    assert resolve_embedder("none") is None
    assert resolve_embedder(None) is None
    assert isinstance(resolve_embedder("packaged"), StaticEmbedder)
    assert isinstance(resolve_embedder(str(packaged_embedder_path())), StaticEmbedder)


def test_a_foreign_folder_is_not_taken_for_an_embedder(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ModelError):
        resolve_embedder(str(tmp_path))


@pytest.mark.skipif(importlib.util.find_spec("sentence_transformers") is not None, reason="the accurate extra is installed")
def test_sentence_transformer_embedder_without_the_extra_says_how_to_install(tmp_path):
    with pytest.raises(ModelError) as err:
        SentenceTransformerEmbedder(tmp_path)
    assert "carelens[accurate]" in str(err.value)


def test_sentence_transformer_embedder_with_a_bad_folder_is_a_model_error(tmp_path):
    pytest.importorskip("sentence_transformers")
    with pytest.raises(ModelError):
        SentenceTransformerEmbedder(Path(tmp_path) / "missing")


# The packaged model is read with safetensors + tokenizers, not with the model2vec package (which
# brings the Hugging Face hub client). The vectors must be exactly those model2vec gives, since
# the saved topic and sentiment models were trained on them: model2vec is in the test extras as
# the reference. Compared before carelens' own float32 re-normalisation, bit for bit.

EDGE_TEXTS = [
    "The nurses were kind",
    "Waited four hours in A&E!!! Never again...",
    "très bien 👍" * 2000,  # longer than the character cut and the 512-token truncation
    "Dziękuję bardzo",
    "😀😀😀",  # unknown tokens only: a zero row
    "",
    "   ",
    "12345",
    "İstanbul ÅNGSTRÖM naïve café",
    "病院のスタッフは親切でした",
    "don't\tknow\nwhat\r\nto say\x00\u200b\ufffd",
    "ward" * 300,  # one word longer than the tokenizer's 100-character word limit
    "hospital " * 400 + "rude " * 400,  # < 512 tokens in the first 3,072 characters: the cut decides
]


@pytest.fixture(scope="module")
def reference():
    model2vec = pytest.importorskip("model2vec", reason="the reference, in the test extras")
    return model2vec.StaticModel.from_pretrained(str(packaged_embedder_path()))


def _ours(embedder: StaticEmbedder, texts) -> np.ndarray:
    return embedder._model.encode(list(texts))


def _theirs(reference, texts) -> np.ndarray:
    return reference.encode(list(texts), max_length=512, batch_size=4096)


def test_vectors_are_those_of_model2vec_on_edge_cases(embedder, reference):
    ours, theirs = _ours(embedder, EDGE_TEXTS), _theirs(reference, EDGE_TEXTS)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    assert ours.tobytes() == theirs.tobytes()
    assert not ours[4].any()  # emoji alone: no known token


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.text(max_size=400), min_size=1, max_size=12))
def test_vectors_are_those_of_model2vec_on_any_text(embedder, reference, texts):
    assert _ours(embedder, texts).tobytes() == _theirs(reference, texts).tobytes()


def test_vectors_are_those_of_model2vec_on_real_comments_in_large_batches(embedder, reference):
    """Real FFT comments, repeated past 10,000 texts (where model2vec switches to threads)."""
    import pandas as pd

    from tests.conftest import shared_file

    csv = shared_file("feedback", "fft_v6_train.csv")
    comments = pd.read_csv(csv, usecols=["FFT answer"])["FFT answer"]
    texts = [str(t) for t in comments.fillna("")] * 2
    assert len(texts) > 10_000
    ours, theirs = _ours(embedder, texts), _theirs(reference, texts)
    assert ours.tobytes() == theirs.tobytes()
    carelens = embedder.transform(texts[:500])
    expected = theirs[:500].astype(np.float32)
    expected /= np.maximum(np.linalg.norm(expected, axis=1, keepdims=True), 1e-9)
    assert carelens.tobytes() == expected.tobytes()


def test_a_vocabulary_quantised_unnormalised_folder_matches_model2vec(tmp_path, reference):
    """Other model2vec folders a trust may pass with --embedder: float32 rows shared by many tokens
    (a token->row mapping), a weight per token, no normalising."""
    from safetensors.numpy import save_file

    folder = tmp_path / "quantised"
    shutil.copytree(packaged_embedder_path(), folder)
    n_tokens = len(reference.tokens)
    rng = np.random.default_rng(0)
    save_file(
        {
            "embeddings": rng.normal(size=(300, 64)).astype(np.float32),
            "mapping": (np.arange(n_tokens) * 7919 % 300).astype(np.int64),
            "weights": rng.uniform(0.1, 2.0, size=n_tokens).astype(np.float32),
        },
        folder / "model.safetensors",
    )
    config = json.loads((folder / "config.json").read_text())
    config.update(normalize=False, embedding_dtype="float32")
    (folder / "config.json").write_text(json.dumps(config))
    ours = StaticEmbedder(folder)
    assert ours._model.token_mapping is not None and not ours._model.normalize and ours.dim == 64
    texts = EDGE_TEXTS + ["the staff were rude to me", "no spaces in the car park"]
    theirs = _theirs(type(reference).from_pretrained(str(folder)), texts)
    assert _ours(ours, texts).tobytes() == theirs.tobytes()


def test_the_embedder_runs_without_the_model2vec_package(tmp_path):
    """model2vec is not a runtime dependency: loading and encoding must not import it."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['model2vec'] = None\n"  # any import of it now fails
        "from carelens.feedback.embeddings import StaticEmbedder\n"
        "v = StaticEmbedder().transform(['kind staff'])\n"
        "assert v.shape == (1, 256)\n"
        "print('huggingface_hub' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"  # nor the hub client
