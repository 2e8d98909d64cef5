"""Issue 11 round 3: one whole design on a validation split of the TRAINING part + the suite's DEV part.

    nice .venv/bin/python benchmarks/feedback_research_round3.py LABEL [--neutral-scales 1,0.8,...]

Trains the packaged design (``train_feedback_model``, as the packaged model is trained) on 80% of
the benchmark's training part (the validation split of ``feedback_research_clauses.py``, seed 7)
and scores the other 20%: topic macro/micro F1 (as benchmarks/feedback.py), sentiment 5- and
3-class macro F1 with and without the FFT score; then the behavioural suite's dev part, every test
type. ``--neutral-scales``: the same fitted model rescored with other values of the sentiment
model's ``neutral_scale`` (no refit). ``--staff-praise``: train with Staff manner added to the
general-praise rows that praise staff (scored against the coders' labels as they are). Writes benchmarks/results/feedback_round3_LABEL.json.
The benchmark's held-out part and the suite's held-out part are never read.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from feedback import DEFAULT_DATA, REPO, fixed_split, load_data, sentiment_values  # noqa: E402


STAFF_PRAISE = (r"\b(?:staff|nurses?|doctors?|midwi(?:fe|ves)|paramedics?|crew|team|carers?|receptionists?|consultants?|"
                r"everyone|everybody|porters?|therapists?|surgeons?|sisters?|hcas?|call handlers?)\b[^.!?]{0,40}?\b"
                r"(?:lovely|great|brilliant|amazing|fantastic|wonderful|excellent|kind|caring|friendly|helpful|fab|"
                r"fabulous|superb|marvellous|polite|nice|good|outstanding|supportive|angels?|professional|compassionate)\b")


def staff_praise_labels(names: list[str]) -> None:
    """Training labels only: Staff manner added where a general-praise row praises staff.

    The public data codes most "the nurses were lovely" comments as general praise only; the
    suite (and v7's "with no more specific topic") expect Staff manner. Scoring still uses the
    coders' labels, so the F1 shows what following the suite costs against them.
    """
    import re

    import carelens.feedback.training as training

    pattern = re.compile(STAFF_PRAISE, re.IGNORECASE)
    original = training.wide_labels
    praise, manner = names.index("Positive experience & gratitude"), names.index("Staff manner & personal attributes")

    def relabelled(frame, framework, file=None):
        Y = original(frame, framework, file=file).copy()
        hit = np.array([bool(pattern.search(str(t))) for t in frame["FFT answer"].fillna("")])
        add = hit & (Y[:, praise] > 0) & (Y[:, manner] == 0)
        print(f"staff praise: Staff manner added to {int(add.sum())} of {len(Y)} training rows", flush=True)
        Y[add, manner] = 1
        return Y

    training.wide_labels = relabelled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("label")
    parser.add_argument("--neutral-scales", default="")
    parser.add_argument("--staff-praise", action="store_true",
                        help="train with Staff manner added to every general-praise row that praises staff")
    args = parser.parse_args()

    from sklearn.metrics import f1_score

    from carelens.feedback import load_framework, train_feedback_model
    from carelens.feedback.behaviour import run_suite
    from carelens.feedback.sentiment import to_three_classes

    frame, Y, names = load_data(DEFAULT_DATA)
    if args.staff_praise:
        staff_praise_labels(names)
    train, _ = fixed_split(Y)  # the held-out part is never touched here
    frame, Y = frame.iloc[train].reset_index(drop=True), Y[train]
    fit, val = fixed_split(Y, seed=7)
    t0 = time.perf_counter()
    model = train_feedback_model(frame.iloc[fit].reset_index(drop=True), load_framework(), source=DEFAULT_DATA.name)
    train_s = time.perf_counter() - t0
    texts = frame["FFT answer"].iloc[val].tolist()
    scores = frame["FFT categorical answer"].iloc[val].tolist()
    s_true = sentiment_values(frame.iloc[val])
    Y_val = Y[val]
    present = Y_val.sum(axis=0) > 0

    def sentiment_f1(pred) -> tuple[float, float]:
        pred = np.array([np.nan if pd.isna(v) else float(v) for v in pred])
        ok = ~np.isnan(s_true) & ~np.isnan(pred)
        return (round(float(f1_score(s_true[ok], pred[ok], average="macro")), 4),
                round(float(f1_score(to_three_classes(s_true[ok]), to_three_classes(pred[ok]), average="macro")), 4))

    rows = []
    packaged_scale = getattr(model.sentiment, "neutral_scale", 1.0)
    scales = [packaged_scale] + [float(s) for s in args.neutral_scales.split(",") if s and float(s) != packaged_scale]
    for scale in scales:
        model.sentiment.neutral_scale = scale
        out = model.classify(texts, fft_scores=scores)
        bare = model.classify(texts)
        P = np.zeros_like(Y_val)
        for i, topics in enumerate(out["topics"]):
            for t in topics:
                P[i, names.index(t)] = 1
        report = run_suite(model, parts=("dev",))
        rates = report.rates("dev")
        row = {
            "label": args.label,
            "neutral_scale": scale,
            "topic_macro_f1": round(float(f1_score(Y_val[:, present], P[:, present], average="macro", zero_division=0)), 4),
            "topic_micro_f1": round(float(f1_score(Y_val, P, average="micro", zero_division=0)), 4),
            "sentiment_f1_5_3_with_score": sentiment_f1(out["sentiment"].tolist()),
            "sentiment_f1_5_3_without_score": sentiment_f1(bare["sentiment"].tolist()),
            "dev_suite": {t: f"{r['rate']:.0%} ({int(r['passed'])}/{int(r['n'])})" for t, r in rates.items()},
        }
        rows.append({**row, "dev_failures": [f"{o.test}: {o.text} -> {o.got}" for o in report.failures(part="dev")
                                             if o.test in ("plain_topic", "plain_sentiment", "negation_topic", "negation_sentiment")]})
        print(json.dumps(row), flush=True)
    out_path = REPO / "benchmarks" / "results" / f"feedback_round3_{args.label}.json"
    out_path.write_text(json.dumps({"fit_rows": len(fit), "validation_rows": len(val), "train_s": round(train_s, 1),
                                    "rows": rows}, indent=2), encoding="utf-8")
    print(f"trained in {train_s:.0f} s; wrote {out_path}")


if __name__ == "__main__":
    main()
