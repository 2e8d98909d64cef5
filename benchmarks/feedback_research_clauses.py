"""Clause topics research: a validation split of the TRAINING part, plus the behavioural suite's DEV part.

    nice .venv/bin/python benchmarks/feedback_research_clauses.py [--out benchmarks/results/feedback_research_clauses.json]

The packaged design adds a topic found in one clause of a two-clause comment when the clause's
probability clears the label's threshold by ``CLAUSE_MARGIN`` (carelens.feedback.model). This
trains the packaged design once on 80% of the benchmark's training part (seeded, stratified as the
benchmark's split) and scores the other 20% and the suite's dev part with:
- ``margin M``: ``CLAUSE_MARGIN`` = M (``inf``: no topic from a clause, the whole comment only);
- ``up to 3 clauses``: ``CLAUSE_TOPICS_MAX`` = 3 (packaged: 2), comments of three clauses scored
  clause by clause too;
- ``general praise from a clause too``: the framework's ``general_praise`` label ("Positive
  experience & gratitude", praise "with no more specific topic") also taken from one clause, as
  before it was named (the packaged design takes it from the whole comment only: a clause such as
  "there was nothing I could eat" reads like the FFT answer "nothing" = nothing to improve).
Topic F1 as in benchmarks/feedback.py (macro over labels with a validation positive). The
benchmark's held-out part and the suite's held-out part are never read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedback import DEFAULT_DATA, REPO, fixed_split, load_data  # noqa: E402

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "feedback_research_clauses.json")
    args = parser.parse_args()

    from sklearn.metrics import f1_score

    from dataclasses import replace

    import carelens.feedback.model as model_module
    from carelens.feedback import FeedbackModel, load_framework, train_feedback_model
    from carelens.feedback.behaviour import run_suite

    frame, Y, names = load_data(DEFAULT_DATA)
    train, _ = fixed_split(Y)  # the held-out part is never touched here
    frame, Y = frame.iloc[train].reset_index(drop=True), Y[train]
    fit, val = fixed_split(Y, seed=7)  # a validation split inside the training part
    t0 = time.perf_counter()
    model = train_feedback_model(frame.iloc[fit].reset_index(drop=True), load_framework(), source=DEFAULT_DATA.name)
    print(f"trained on {len(fit)} rows in {time.perf_counter() - t0:.0f} s; validating on {len(val)}", flush=True)
    texts = frame["FFT answer"].iloc[val].tolist()
    Y_val = Y[val]
    present = Y_val.sum(axis=0) > 0
    rows = []
    packaged_margin = model_module.CLAUSE_MARGIN
    praise_too = FeedbackModel(topics=model.topics, framework=replace(model.framework, general_praise=None),
                               sentiment=model.sentiment, card=model.card)
    packaged_max = model_module.CLAUSE_TOPICS_MAX
    for name, margin, scorer, most in [
        ("margin 0.1, general praise from a clause too (before)", 0.1, praise_too, 2),
        ("margin 0.1 (packaged)", 0.1, model, 2), ("margin 0.05", 0.05, model, 2), ("margin 0.2", 0.2, model, 2),
        ("margin 0.2, general praise from a clause too", 0.2, praise_too, 2),
        ("margin inf (no clause topics)", float("inf"), model, 2), ("margin 0.1, up to 3 clauses", 0.1, model, 3),
    ]:
        model_module.CLAUSE_MARGIN, model_module.CLAUSE_TOPICS_MAX = margin, most
        out = scorer.classify(texts)
        P = np.zeros_like(Y_val)
        for i, topics in enumerate(out["topics"]):
            for t in topics:
                P[i, names.index(t)] = 1
        rates = run_suite(scorer, parts=("dev",)).rates("dev")
        row = {
            "design": name,
            "topic_macro_f1": round(float(f1_score(Y_val[:, present], P[:, present], average="macro", zero_division=0)), 4),
            "topic_micro_f1": round(float(f1_score(Y_val, P, average="micro", zero_division=0)), 4),
            "dev_suite": {t: round(rates[t]["rate"], 3) for t in ("plain_topic", "negation_topic", "contrast", "contrast_given_topics", "invariance")},
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    model_module.CLAUSE_MARGIN, model_module.CLAUSE_TOPICS_MAX = packaged_margin, packaged_max
    args.out.write_text(json.dumps({"fit_rows": len(fit), "validation_rows": len(val), "rows": rows}, indent=2), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
