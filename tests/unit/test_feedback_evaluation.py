"""Feedback evaluation: the label matrix of a labelled file, and the reports written from one result."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from carelens.feedback.evaluation import label_matrix, report_html, report_markdown, write_report, write_reports
from carelens.feedback.framework import load_framework

RESULT = {
    "model_version": "v<1>",
    "topics": {"rows": 3, "labels_with_support": 1, "macro_f1": 0.5, "micro_f1": 0.25, "exact_match": 0.333,
               "hamming_loss": 0.1234, "macro_roc_auc": None,
               "per_label": [{"label": "<script>alert(1)</script> & co", "precision": 1.0, "recall": 0.5, "f1": 0.667,
                              "support": 2, "roc_auc": None}]},
}


def test_joined_labels_are_scored_on_labelling_not_possible_by_the_content_free_rule():
    fw = load_framework()
    first = fw.learnable_labels[0]
    frame = pd.DataFrame({"comment": ["", "The food was cold"], "codes": ["", first]})
    Y, labels = label_matrix(frame, fw, text_column="comment", labels_column="codes")
    assert labels == [*fw.learnable_labels, fw.labelling_not_possible]
    assert Y.shape == (2, len(labels))
    assert Y[:, -1].tolist() == [1, 0] and Y[1, 0] == 1 and Y[0, :-1].sum() == 0


def test_wide_labels_take_labelling_not_possible_from_its_column_when_coded():
    fw = load_framework()
    frame = pd.DataFrame({"FFT answer": ["ok", "nice"], fw.labelling_not_possible: ["1", "0"]}
                         | {label: ["0", "1" if j == 0 else "0"] for j, label in enumerate(fw.learnable_labels)})
    Y, labels = label_matrix(frame, fw, text_column="FFT answer")
    assert labels[-1] == fw.labelling_not_possible and Y[:, -1].tolist() == [1, 0]
    assert np.asarray(Y)[:, 0].tolist() == [0, 1]


def test_html_report_comes_from_the_shared_template_and_escapes_every_name():
    html = report_html(RESULT)
    assert html.startswith("<!doctype html>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html and "<script>" not in html
    assert "v&lt;1&gt;" in html
    assert "0.667" in html and "0.1234" in html and "n/a" in html
    assert "Sentiment" not in html  # no sentiment figures, no section
    with_sentiment = report_html(RESULT | {"sentiment": {"rows": 2, "accuracy_5": 0.5, "macro_f1_5": 0.4,
                                                         "accuracy_3": 1.0, "macro_f1_3": 1.0}})
    assert "Sentiment" in with_sentiment and "0.400" in with_sentiment


def test_reports_carry_the_same_figures_in_each_format(tmp_path):
    paths = write_reports(RESULT, tmp_path / "out")
    assert {p.name for p in paths.values()} == {"evaluation.json", "evaluation.md", "evaluation.html"}
    assert json.loads(paths["json"].read_text()) == RESULT
    for figure in ("0.500", "0.250", "0.333", "0.1234", "0.667"):
        assert figure in paths["markdown"].read_text() and figure in paths["html"].read_text(), figure
    assert report_markdown(RESULT) == paths["markdown"].read_text()
    one = write_report(RESULT, tmp_path / "single" / "report.HTML")
    assert one.read_text().startswith("<!doctype html>") and list(one.parent.iterdir()) == [one]
