"""Train the feedback model that ships inside carelens.

Data: ../shared/data/feedback/fft_v6_train.csv, the public labelled dataset of the NHS England
Patient Experience Qualitative Data Categorisation project (published with pxtextmining, MIT),
coded with framework v6 and mapped here to v7. The data is never committed; the model is.
Usage: python scripts/train_default_feedback_model.py [DATA] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# the shared data folder: $CARELENS_SHARED_DATA (as the tests use it), else ../shared/data
DEFAULT_DATA = Path(os.environ.get("CARELENS_SHARED_DATA", REPO.parent / "shared" / "data")) / "feedback" / "fft_v6_train.csv"
DEFAULT_OUT = REPO / "src" / "carelens" / "feedback" / "models" / "default"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    # added by the benchmark engineer: the embedder is the one knob the research (BENCHMARKS.md) varies
    parser.add_argument("--embedder", default="packaged", help="packaged (default), none, or a model folder")
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
            "the v7 framework's own example comments (8 per sub-category, invented for carelens, topic model "
            "only) and synthetic sentences from carelens/feedback/augment.yaml (plain, negated and contrasting "
            "praise and complaint, sentiment model only, weight 0.3). No behavioural-suite comment is a training row."
        ),
    )
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    model.save(out)
    print(f"saved {out} ({model.card['training_seconds']} s): {model.card['cv_metrics']}")


if __name__ == "__main__":
    main()
