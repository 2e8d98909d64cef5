"""Opening a model folder someone sent must never run code (both capabilities).

Each test builds the attack the red team used: a real model whose inner estimator is swapped for a
``Pipeline`` of ``FunctionTransformer``s that turns the input into a dict and ends in ``exec``. A
control step proves the payload is live (opened with every type trusted, it writes a marker file);
then the real CLI commands must refuse the folder in one line and the marker must not appear.
"""

from __future__ import annotations

import functools
import json
import shutil

import pandas as pd
import pytest
import skops.io as sio
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from carelens.appointments.persistence import load_model
from carelens.cli.app import main
from carelens.errors import ModelError
from carelens.feedback.model import FeedbackModel, packaged_model_path
from carelens.model_cards import write_card
from carelens.model_files import fingerprint, load_skops, skops_types


def _payload(marker) -> list:
    """exec(code, {}, X): arrays and frames pass as the locals mapping; the lambda only reads globals."""
    code = f"(lambda: open({str(marker)!r}, 'w').write('code ran'))()"
    return [("run", FunctionTransformer(functools.partial(exec, code, {})))]


def _live(path, call) -> None:
    """Open ``path`` trusting everything (the old prefix rule let these names through) and use it."""
    obj = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    try:
        call(obj)
    except Exception:  # noqa: BLE001 - a pipeline may break after its payload has run; the marker tells
        pass


def test_a_crafted_feedback_model_is_refused_and_runs_nothing(tmp_path, capsys):
    marker = tmp_path / "pwned.txt"
    folder = tmp_path / "crafted"
    shutil.copytree(packaged_model_path(), folder)
    topics = FeedbackModel.load(folder).topics
    topics.features_ = Pipeline(_payload(marker))
    sio.dump(topics, folder / "topics.skops")
    card = json.loads((folder / "card.json").read_text("utf-8"))
    card["fingerprint"] = fingerprint([folder / n for n in ("topics.skops", "sentiment.skops", "framework.json")])
    write_card(folder / "card.json", card)  # an attacker recomputes the fingerprint too
    assert "builtins.exec" in skops_types(folder / "topics.skops")

    _live(folder / "topics.skops", lambda t: t.features_.transform(pd.DataFrame({"text": ["hello"]})))
    assert marker.exists(), "control: the crafted payload must be live for this test to mean anything"
    marker.unlink()

    src = tmp_path / "in.csv"
    pd.DataFrame({"comment": ["The nurses were kind."]}).to_csv(src, index=False)
    code = main(["feedback", "classify", str(src), "-o", str(tmp_path / "out.csv"), "--model", str(folder)])
    err = capsys.readouterr().err
    assert code == 2
    assert "builtins.exec" in err and "refusing to load" in err and "Traceback" not in err
    assert not marker.exists()
    with pytest.raises(ModelError, match="builtins.exec"):
        FeedbackModel.load(folder)


@pytest.fixture(scope="module")
def dna_workspace(tmp_path_factory):
    from carelens.appointments.synth import generate_appointments

    root = tmp_path_factory.mktemp("dna_crafted")
    table = root / "appointments.csv"
    generate_appointments(1_500, seed=4, start="2022-06-01", end="2023-12-31", future_days=14).to_csv(table, index=False)
    assert main(["appointments", "train", str(table), "-o", str(root / "model"), "--valid", "3m"]) == 0
    return root, table


def test_a_crafted_appointments_model_is_refused_and_runs_nothing(dna_workspace, tmp_path, capsys):
    root, table = dna_workspace
    marker = tmp_path / "pwned.txt"
    folder = tmp_path / "crafted"
    shutil.copytree(root / "model", folder)
    model = load_model(folder).model
    model.booster_ = Pipeline([*_payload(marker), ("final", LogisticRegression().fit([[0.0], [1.0]], [0, 1]))])
    sio.dump(model, folder / "model.skops")
    card = json.loads((folder / "card.json").read_text("utf-8"))
    card["fingerprint"] = fingerprint([folder / "model.skops"])
    write_card(folder / "card.json", card)

    from carelens.appointments.features import build_features
    from carelens.appointments.schema import normalise

    features = build_features(normalise(pd.read_csv(table)).iloc[:20])
    _live(folder / "model.skops", lambda m: m.predict_proba(features))
    assert marker.exists(), "control: the crafted payload must be live for this test to mean anything"
    marker.unlink()

    code = main(["appointments", "score", str(table), "--model", str(folder), "-o", str(tmp_path / "scores.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert "builtins.exec" in err and "Traceback" not in err
    assert not marker.exists()


def test_a_model_whose_files_changed_after_saving_is_refused(dna_workspace, tmp_path):
    root, _ = dna_workspace
    folder = tmp_path / "changed"
    shutil.copytree(root / "model", folder)
    card = json.loads((folder / "card.json").read_text("utf-8"))
    assert card["fingerprint"].startswith("sha256:") and len(card["fingerprint"]) == 71
    assert load_model(folder).card["fingerprint"] == card["fingerprint"]
    with (folder / "model.skops").open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(ModelError, match="do not match the fingerprint"):
        load_model(folder)


def test_feedback_model_card_carries_the_fingerprint_of_its_files(tmp_path):
    model = FeedbackModel.load()
    assert model.fingerprint and model.fingerprint.startswith("sha256:")
    saved = model.save(tmp_path / "copy")
    again = FeedbackModel.load(saved)
    assert again.fingerprint == fingerprint([saved / n for n in ("topics.skops", "sentiment.skops", "framework.json")])
    (saved / "framework.json").write_text((saved / "framework.json").read_text("utf-8") + " ", encoding="utf-8")
    with pytest.raises(ModelError, match="fingerprint"):
        FeedbackModel.load(saved)


def test_a_type_outside_the_list_is_refused_before_anything_is_built(tmp_path):
    path = tmp_path / "m.skops"
    sio.dump(FunctionTransformer(functools.partial(print, "x")), path)
    with pytest.raises(ModelError, match="builtins.print"):
        load_skops(path, {"sklearn.preprocessing._function_transformer.FunctionTransformer", "functools.partial"},
                  FunctionTransformer)


def test_a_corrupt_card_is_one_clear_error(dna_workspace, tmp_path):
    root, _ = dna_workspace
    folder = tmp_path / "corrupt"
    shutil.copytree(root / "model", folder)
    (folder / "card.json").write_text("[1, 2", encoding="utf-8")
    with pytest.raises(ModelError, match="card.json is not valid JSON"):
        load_model(folder)
    (folder / "card.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ModelError, match="not an appointments DNA model card"):
        load_model(folder)
