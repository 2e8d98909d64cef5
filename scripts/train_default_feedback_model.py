"""Train the feedback model that ships inside carelens.

Data: ../shared/data/feedback/fft_v6_train.csv, the public labelled dataset of the NHS England
Patient Experience Qualitative Data Categorisation project (published with pxtextmining, MIT),
coded with framework v6 and mapped here to v7. The data is never committed; the model is.
The card names what the model was measured on: the behavioural suite's pass rates for this very
model (run here, after training) and the held-out split's figures from ``--held-out`` (the result
file of ``benchmarks/feedback.py``, which trains the same design on the split's training part).
Usage: python scripts/train_default_feedback_model.py [DATA] [--out DIR] [--held-out RESULTS.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# the shared data folder: $CARELENS_SHARED_DATA (as the tests use it), else ../shared/data
DEFAULT_DATA = Path(os.environ.get("CARELENS_SHARED_DATA", REPO.parent / "shared" / "data")) / "feedback" / "fft_v6_train.csv"
DEFAULT_OUT = REPO / "src" / "carelens" / "feedback" / "models" / "default"
DEFAULT_HELD_OUT = REPO / "benchmarks" / "results" / "feedback.json"
HELD_OUT_METRICS = ("topic_macro_f1", "topic_micro_f1", "sentiment_macro_f1_5", "sentiment_macro_f1_5_without_fft_score",
                    "sentiment_macro_f1_3", "sentiment_macro_f1_3_without_fft_score")


def held_out_figures(path: Path) -> dict:
    """The held-out split's figures from a ``benchmarks/feedback.py`` result file, for the card."""
    results = json.loads(path.read_text(encoding="utf-8"))
    carelens = results["carelens"]
    return {
        "source": f"benchmarks/results/{path.name} (benchmarks/feedback.py, same design trained on the split's training part)",
        "split": results["split"],
        **{name: round(float(carelens[name]), 4) for name in HELD_OUT_METRICS if name in carelens},
    }


def suite_rates(model) -> dict:
    """The behavioural suite's pass rate per part and test type, for this model."""
    from carelens.feedback.behaviour import run_suite

    rates = run_suite(model).to_dict()["rates"]
    return {part: {test: f"{r['rate']:.0%} ({r['passed']}/{r['n']})" for test, r in tests.items()}
            for part, tests in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    # added by the benchmark engineer: the embedder is the one knob the research (BENCHMARKS.md) varies
    parser.add_argument("--embedder", default="packaged", help="packaged (default), none, or a model folder")
    parser.add_argument("--held-out", type=Path, default=DEFAULT_HELD_OUT,
                        help="benchmarks/feedback.py result file whose held-out figures go on the card")
    args = parser.parse_args()

    from carelens.feedback import load_framework, train_feedback_model
    from carelens.tables import read_table

    frame = read_table(args.data, dtype_str=True)
    print("training (several minutes on 2 cores) ...", flush=True)
    model = train_feedback_model(
        frame,
        load_framework(),
        text_column="FFT answer",
        embedder=args.embedder,
        source=Path(args.data).name,
        data_description=(
            "NHS England Patient Experience Qualitative Data Categorisation (QDC) public dataset, as "
            "published with pxtextmining (MIT licence): FFT comments from two NHS trusts (NEAS: "
            "ambulance, 111, patient transport; NHFT: mental health and community), coded by trained "
            "coders with framework v6 and mapped to v7 (see frameworks/v7.yaml v6_mapping). Also trained on: "
            "the v7 framework's own example comments (16 per sub-category, invented for carelens, topic model "
            "only) and synthetic sentences from carelens/feedback/augment.yaml (plain, negated and contrasting "
            "praise and complaint, sentiment model only, weight 0.3). No behavioural-suite comment is a training row."
        ),
    )
    model.card["behaviour_suite"] = suite_rates(model)
    if args.held_out.exists():
        model.card["held_out_split"] = held_out_figures(args.held_out)
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    model.save(out)
    print(f"saved {out} ({model.card['training_seconds']} s): {model.card['cv_metrics']}")


if __name__ == "__main__":
    main()
