"""Benchmark: redaction rules before and after issue 17, and Microsoft Presidio, side by side.

    .venv/bin/python benchmarks/redaction.py [--presidio-python PATH] [--loading-before SRC]
        [--out benchmarks/results/redaction.json]

Measured on tests/data/redaction_eval.txt, a labelled set of FFT-style comments written for
carelens (scoring in tests/redaction_eval.py): recall per kind of detail (NHS number, phone,
email, postcode, name after a title, name without a title) and the false-positive rate (words
that are not personal data but were blanked). Then, on real comments
(``../shared/data/feedback/fft_v6_train.csv``, unlabelled, when present): how many spans each
method blanks, listed in the result file so that a person can read them; and throughput over
10,000 of those comments (repeated as needed), since redaction runs on every loaded comment.

Methods:
- ``rules_before``: benchmarks/redaction_baseline.py, the rules as they were (commit 20c243e);
- ``rules``: carelens.feedback.redaction as it is now;
- ``presidio``: Presidio's analyzer with a small spaCy English model (PERSON, EMAIL_ADDRESS,
  PHONE_NUMBER, UK_NHS), run in its own virtualenv through benchmarks/peers/presidio_runner.py
  (``--presidio-python``; skipped without it);
- ``rules+presidio``: the current rules plus Presidio's PERSON spans (would a model add names?).

``--loading-before SRC`` also times what a user waits for: ``load_comments`` of 10,000 synthetic
comments (CSV -> read -> validate -> classify -> redact -> one DuckDB transaction, warm model),
three fresh stores each, alternating this tree with the ``src`` folder of an earlier checkout
(e.g. a ``git worktree`` of the commit before), each in its own subprocess.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO)]

from carelens.feedback import redaction  # noqa: E402
from tests.redaction_eval import KINDS, load_items, score  # noqa: E402

SHARED = Path(os.environ.get("CARELENS_SHARED_DATA", REPO.parent / "shared" / "data"))
REAL = SHARED / "feedback" / "fft_v6_train.csv"
THROUGHPUT_N = 10_000


def _baseline():
    spec = importlib.util.spec_from_file_location("redaction_baseline", REPO / "benchmarks" / "redaction_baseline.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["redaction_baseline"] = module
    spec.loader.exec_module(module)
    return module


def _spans(module, texts: list[str]) -> list[list[tuple[int, int, str]]]:
    return [[(m.start, m.end, m.kind) for m in module.find_personal_details(t)] for t in texts]


def _throughput(module, texts: list[str]) -> float:
    started = time.perf_counter()
    module.redact_many(texts)
    return len(texts) / (time.perf_counter() - started)


def _presidio(python: str, texts: list[str]) -> tuple[list[list[tuple[int, int, str]]], float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = Path(tmp) / "in.json", Path(tmp) / "out.json"
        inp.write_text(json.dumps(texts), "utf-8")
        subprocess.run([python, str(REPO / "benchmarks" / "peers" / "presidio_runner.py"), str(inp), str(out)],
                       check=True, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
        result = json.loads(out.read_text("utf-8"))
    return [[tuple(s) for s in spans] for spans in result["spans"]], result["seconds"], result["model"]


_LOAD_SCRIPT = """
import json, tempfile, time
from pathlib import Path
from carelens.feedback.ingest import load_comments
from carelens.feedback.model_cache import cached_model
from carelens.feedback.synth import generate_comments
tmp = Path(tempfile.mkdtemp())
path = tmp / "export.csv"
generate_comments(10_000, seed=11).to_csv(path, index=False)
model = cached_model()
load_comments(path, db=str(tmp / "warm.duckdb"), model=model, progress=False)  # imports, caches
started = time.perf_counter()
result = load_comments(path, db=str(tmp / "run.duckdb"), model=model, progress=False)
assert result.rows_added == 10_000, result.summary()
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def _loading(before_src: Path, repeats: int = 3) -> dict:
    """Seconds to load 10,000 comments with this tree and with ``before_src``, alternating."""
    runs: dict[str, list[float]] = {"before": [], "now": []}
    for _ in range(repeats):
        for label, src in (("before", before_src), ("now", REPO / "src")):
            env = dict(os.environ, PYTHONPATH=str(src))
            out = subprocess.run([sys.executable, "-c", _LOAD_SCRIPT], env=env, check=True, capture_output=True, text=True)
            runs[label].append(json.loads(out.stdout.strip().splitlines()[-1])["seconds"])
    return {label: {"seconds": [round(x, 2) for x in xs], "median_s": round(sorted(xs)[len(xs) // 2], 2),
                    "comments_per_second": round(10_000 / sorted(xs)[len(xs) // 2])} for label, xs in runs.items()}


def _real_comments() -> list[str]:
    if not REAL.exists():
        return []
    import pandas as pd

    return pd.read_csv(REAL)["FFT answer"].dropna().astype(str).tolist()


def _blanked(texts: list[str], spans: list[list[tuple[int, int, str]]], kinds: set[str] | None = None) -> list[str]:
    """What a method blanked in real comments, with a little context, for a person to judge."""
    out = []
    for text, found in zip(texts, spans):
        for start, end, kind in found:
            if kinds is None or kind in kinds:
                out.append(f"{kind}: {text[start:end]!r} in ...{text[max(0, start - 40):end + 30]!r}...")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presidio-python", help="Python of a virtualenv with presidio-analyzer and a spaCy model.")
    parser.add_argument("--loading-before", type=Path, help="src folder of an earlier checkout to time loading against.")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "redaction.json")
    args = parser.parse_args()
    titles = redaction._titles_lower()

    def not_titles(fp_examples: dict) -> int:
        """Wrongly blanked words other than titles (Presidio blanks "Dr Patel" whole; the rules keep "Dr")."""
        return sum(n for word, n in fp_examples.items() if word.lower().rstrip(".") not in titles)

    items = load_items()
    texts = [item.text for item in items]
    real = _real_comments()
    bulk = (real * (THROUGHPUT_N // max(len(real), 1) + 1))[:THROUGHPUT_N] if real else (texts * 40)[:THROUGHPUT_N]
    in_list = lambda word: word.lower() in redaction._first_names()  # noqa: E731
    methods: dict[str, dict] = {}
    per_method_spans: dict[str, list] = {}
    for name, module in (("rules_before", _baseline()), ("rules", redaction)):
        spans = _spans(module, texts)
        per_method_spans[name] = spans
        _throughput(module, bulk[:500])  # warm up (word lists, regex caches)
        rate = max(_throughput(module, bulk) for _ in range(3))
        real_spans = _spans(module, real)
        methods[name] = score(items, [[(s, e) for s, e, _ in sp] for sp in spans], in_list) | {
            "comments_per_second": round(rate),
            "real_comments": len(real),
            "real_spans_blanked": sum(len(s) for s in real_spans),
            "real_names_blanked": _blanked(real, real_spans, {"name"}),
        }
    for m in methods.values():
        m["false_positive_words_other_than_titles"] = not_titles(m["false_positive_examples"])
    if args.presidio_python:
        spans, _, model = _presidio(args.presidio_python, texts)
        bulk_spans, seconds, _ = _presidio(args.presidio_python, bulk)
        real_spans = bulk_spans[:len(real)] if real else []
        methods["presidio"] = score(items, [[(s, e) for s, e, _ in sp] for sp in spans], in_list) | {
            "comments_per_second": round(len(bulk) / seconds), "model": model, "real_comments": len(real),
            "real_spans_blanked": sum(len(s) for s in real_spans),
            "real_names_blanked": _blanked(real, real_spans, {"PERSON"}),
        }
        combined = [sorted(set(r) | {(s, e, k) for s, e, k in p if k == "PERSON"})
                    for r, p in zip(per_method_spans["rules"], spans)]
        methods["rules+presidio"] = score(items, [[(s, e) for s, e, _ in sp] for sp in combined], in_list) | {
            "comments_per_second": round(1 / (1 / methods["rules"]["comments_per_second"] + seconds / len(bulk))),
        }
    for m in methods.values():
        m.setdefault("false_positive_words_other_than_titles", not_titles(m["false_positive_examples"]))
    result = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "command": "python benchmarks/redaction.py" + (" --presidio-python PATH" if args.presidio_python else ""),
        "eval_set": {"comments": len(items), "details": {k: sum(1 for i in items for d in i.details if d[2] == k)
                                                          for k in KINDS},
                     "comments_without_personal_data": sum(1 for i in items if not i.details)},
        "throughput_comments": len(bulk),
        "methods": methods,
    }
    if args.loading_before:
        result["loading_10000"] = _loading(args.loading_before)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")

    names = list(methods)
    print(f"{len(items)} labelled comments; throughput on {len(bulk):,} comments")
    print(f"{'':28}" + "".join(f"{n:>16}" for n in names))
    for kind in KINDS:
        cells = []
        for n in names:
            m = methods[n]
            cells.append(f"{m['caught'].get(kind, 0)}/{m['total'].get(kind, 0)} {m['recall'][kind]:.0%}")
        print(f"recall {kind:21}" + "".join(f"{c:>16}" for c in cells))
    print(f"{'untitled, not in name list':28}" + "".join(
        f"{methods[n]['untitled_not_in_name_list']['recall']:>16.0%}" for n in names))
    print(f"{'false-positive words':28}" + "".join(
        f"{methods[n]['false_positive_words']:>7} ({methods[n]['false_positive_rate']:.2%})" for n in names))
    print(f"{'  of which not titles':28}" + "".join(
        f"{methods[n]['false_positive_words_other_than_titles']:>16}" for n in names))
    print(f"{'clean comments changed':28}" + "".join(
        f"{methods[n]['of_those_changed']:>12}/{methods[n]['comments_without_personal_data']}" for n in names))
    print(f"{'comments/s':28}" + "".join(f"{methods[n]['comments_per_second']:>16,}" for n in names))
    if real:
        print(f"{'real comments: names blanked':28}" + "".join(
            f"{len(methods[n]['real_names_blanked']) if 'real_names_blanked' in methods[n] else '-':>16}"
            for n in names))
    if "loading_10000" in result:
        load = result["loading_10000"]
        print(f"loading 10,000 comments: before {load['before']['median_s']} s, now {load['now']['median_s']} s "
              f"(median of {len(load['now']['seconds'])})")
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
