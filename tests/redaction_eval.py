"""Read the labelled redaction set (tests/data/redaction_eval.txt) and score a redactor on it.

Shared by tests/unit/test_redaction_eval.py (recall floors) and benchmarks/redaction.py (the
side-by-side table in BENCHMARKS.md), so both measure the same thing the same way:

- a labelled detail is *caught* when every letter and digit in it lies inside some blanked span,
  whatever kind the redactor called it (a name half blanked, "van der [name]", still leaks);
- a *false positive* is a word outside every labelled detail that a blanked span touches; the
  false-positive rate is those words over all words outside labelled details, and we also count
  the comments without any personal detail that were changed at all.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

EVAL_FILE = Path(__file__).parent / "data" / "redaction_eval.txt"
KINDS = ("nhs", "phone", "email", "postcode", "titled", "untitled")
_MARK = re.compile(r"\[\[(?P<kind>\w+):(?P<text>.+?)\]\]")
_WORDS = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")

Spans = list[tuple[int, int]]


@dataclass(frozen=True)
class Item:
    text: str
    details: tuple[tuple[int, int, str], ...]  # (start, end, kind)


def parse_line(line: str) -> Item:
    """``Dr [[titled:Patel]] was kind`` -> text "Dr Patel was kind" with one titled span."""
    out, details, pos = [], [], 0
    length = 0
    for m in _MARK.finditer(line):
        before = line[pos:m.start()]
        out.append(before)
        length += len(before)
        if m["kind"] not in KINDS:
            raise ValueError(f"unknown kind {m['kind']!r} in {line!r}")
        details.append((length, length + len(m["text"]), m["kind"]))
        out.append(m["text"])
        length += len(m["text"])
        pos = m.end()
    out.append(line[pos:])
    return Item("".join(out), tuple(details))


def load_items(path: Path = EVAL_FILE) -> list[Item]:
    return [parse_line(line) for line in path.read_text("utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _covered(start: int, end: int, text: str, spans: Spans) -> bool:
    return all(any(s <= i < e for s, e in spans) for i in range(start, end) if text[i].isalnum())


def score(items: Iterable[Item], predicted: Iterable[Spans], names_in_gazetteer: Callable[[str], bool] | None = None) -> dict:
    """Recall per kind, false-positive rate, and the leaked / wrongly blanked examples."""
    caught: Counter = Counter()
    total: Counter = Counter()
    leaked: list[str] = []
    fp_words, clean_words, clean_comments, touched_comments = 0, 0, 0, 0
    fp_examples: Counter = Counter()
    outside_caught = outside_total = 0
    for item, spans in zip(items, predicted):
        spans = list(spans)
        for start, end, kind in item.details:
            total[kind] += 1
            hit = _covered(start, end, item.text, spans)
            caught[kind] += hit
            if not hit:
                leaked.append(f"{kind}: {item.text[start:end]!r} in {item.text!r}")
            if kind == "untitled" and names_in_gazetteer is not None:
                first = item.text[start:end].split()[0]
                if not names_in_gazetteer(first):
                    outside_total += 1
                    outside_caught += hit
        touched = False
        for w in _WORDS.finditer(item.text):
            if any(s < w.end() and w.start() < e for s, e, _ in item.details):
                continue
            clean_words += 1
            if any(s < w.end() and w.start() < e for s, e in spans):
                fp_words += 1
                fp_examples[w.group(0)] += 1
                touched = True
        if not item.details:
            clean_comments += 1
            touched_comments += touched
    recall = {k: (caught[k] / total[k] if total[k] else None) for k in KINDS}
    out = {
        "recall": recall,
        "caught": dict(caught),
        "total": dict(total),
        "false_positive_words": fp_words,
        "words_without_personal_data": clean_words,
        "false_positive_rate": fp_words / clean_words if clean_words else 0.0,
        "comments_without_personal_data": clean_comments,
        "of_those_changed": touched_comments,
        "false_positive_examples": dict(fp_examples.most_common()),
        "leaked": leaked,
    }
    if names_in_gazetteer is not None:
        out["untitled_not_in_name_list"] = {"caught": outside_caught, "total": outside_total,
                                            "recall": outside_caught / outside_total if outside_total else None}
    return out
