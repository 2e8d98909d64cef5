"""Train and run pxtextmining 1.0.1's own TF-IDF + SVC pipelines (the peer) on a given split.

Runs under the peer's Python 3.10 venv (``benchmarks/.peers/pxtextmining``), as a subprocess of
``benchmarks/feedback.py``, so the peer's old scikit-learn/TensorFlow never meet carelens' stack:

    benchmarks/.peers/pxtextmining/bin/python benchmarks/peers/pxtextmining_runner.py IN.json OUT.json

IN.json: {"labels": [...], "train": {"ids", "text", "question", "Y", "sentiment"},
          "test": {"ids", "text", "question"}, "latency_repeats": int}
OUT.json: topic predictions (0/1 per label), sentiment predictions (1..5 or null), timings, peak RSS.

What it runs, all with pxtextmining's library functions, as its own pipelines do:
- topics: ``create_and_train_svc_model(X, Y, additional_features=True)``: the hyper-parameters
  pxtextmining chose by grid search (TF-IDF 1-2 grams, max_df 0.9; one SVC(C=15, balanced) per
  label, with probabilities) plus the one-hot FFT question type; predicted with
  ``predict_multilabel_sklearn(..., label_fix=True)`` (every comment gets at least one label).
- sentiment: ``create_sklearn_pipeline_sentiment("svm", 5, additional_features=True)``. Its own
  pipeline runs a 100-candidate randomised search over this (hours here); we fix the search's
  parameters to the topic model's (1-2 grams, max_df 0.9, C=15, RBF kernel) and say so.
- content-free comments: rows its text cleaning empties are labelled "Labelling not possible",
  with no sentiment, which is what pxtextmining's API does for them.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")


def main(in_path: str, out_path: str) -> None:
    import numpy as np
    import pandas as pd
    from pxtextmining.factories.factory_data_load_and_split import remove_punc_and_nums
    from pxtextmining.factories.factory_pipeline import (
        create_and_train_svc_model,
        create_sklearn_pipeline_sentiment,
    )
    from pxtextmining.factories.factory_predict_unlabelled_text import (
        predict_multilabel_sklearn,
        process_text,
    )
    from pxtextmining.params import q_map

    with open(in_path, encoding="utf-8") as f:
        spec = json.load(f)
    labels = spec["labels"]

    def frame(part: dict) -> pd.DataFrame:
        df = pd.DataFrame({"FFT answer": part["text"], "FFT question": part["question"]}, index=pd.Index(part["ids"], name="Comment ID"))
        df["FFT_q_standardised"] = df["FFT question"].fillna("nonspecific").map(q_map).fillna("nonspecific")
        return df

    train, test = frame(spec["train"]), frame(spec["test"])
    Y = np.asarray(spec["train"]["Y"], dtype=int)
    # pxtextmining's own training-data preparation (process_data): clean text, drop emptied rows
    cleaned = train["FFT answer"].astype(str).apply(remove_punc_and_nums)
    keep = cleaned.str.strip() != ""
    X_train = pd.DataFrame({"FFT answer": cleaned[keep], "FFT_q_standardised": train["FFT_q_standardised"][keep]})
    Y_train = Y[keep.to_numpy()]

    t0 = time.perf_counter()
    topic_model, _ = create_and_train_svc_model(X_train, Y_train, additional_features=True)
    topic_train_s = time.perf_counter() - t0

    sent = np.asarray([np.nan if s is None else s for s in spec["train"]["sentiment"]], dtype=float)
    has_sent = keep.to_numpy() & ~np.isnan(sent)
    pipe, _ = create_sklearn_pipeline_sentiment("svm", 5, additional_features=True)
    pipe.set_params(
        columntransformer__tfidfvectorizer__ngram_range=(1, 2),
        columntransformer__tfidfvectorizer__max_df=0.9,
        columntransformer__tfidfvectorizer__min_df=1,
        svc__C=15,
        svc__kernel="rbf",
    )
    t0 = time.perf_counter()
    pipe.fit(X_train[has_sent[keep.to_numpy()]], sent[has_sent].astype(int) - 1)
    sentiment_train_s = time.perf_counter() - t0

    def predict(df: pd.DataFrame) -> tuple[np.ndarray, list]:
        """Topic 0/1 matrix (content-free rows -> 'Labelling not possible') and sentiment 1..5."""
        topics = np.zeros((len(df), len(labels)), dtype=int)
        sentiment: list = [None] * len(df)
        processed = process_text(df["FFT answer"])  # drops rows it cannot label
        positions = df.index.get_indexer(processed.index)
        if len(processed):
            preds = predict_multilabel_sklearn(df.loc[processed.index], topic_model, labels=labels, additional_features=True, label_fix=True)
            topics[positions] = preds[labels].to_numpy().astype(int)
            sx = pd.DataFrame({"FFT answer": processed, "FFT_q_standardised": df.loc[processed.index, "FFT_q_standardised"]})
            for p, s in zip(positions, pipe.predict(sx)):
                sentiment[p] = int(s) + 1
        lnp = labels.index("Labelling not possible")
        empty = np.setdiff1d(np.arange(len(df)), positions)
        topics[empty] = 0
        topics[empty, lnp] = 1
        return topics, sentiment

    # comment IDs must be unique for its merge on "Comment ID"
    test = test[~test.index.duplicated()]
    t0 = time.perf_counter()
    topics, sentiment = predict(test)
    batch_s = time.perf_counter() - t0

    singles = []
    repeats = int(spec.get("latency_repeats", 20))
    content = test[test["FFT answer"].astype(str).apply(remove_punc_and_nums).str.strip() != ""]
    for i in range(min(repeats, len(content))):
        t0 = time.perf_counter()
        predict(content.iloc[[i]])
        singles.append(time.perf_counter() - t0)

    out = {
        "ids": list(test.index),
        "topics": topics.tolist(),
        "sentiment": sentiment,
        "topic_train_s": topic_train_s,
        "sentiment_train_s": sentiment_train_s,
        "train_s": topic_train_s + sentiment_train_s,
        "batch_s": batch_s,
        "batch_n": len(test),
        "single_latency_ms": 1000 * float(np.median(singles)) if singles else None,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "train_rows": int(keep.sum()),
        "sentiment_train_rows": int(has_sent.sum()),
    }
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
