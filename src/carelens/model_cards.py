"""Model cards on disk: the ``card.json`` every capability writes beside its model file.

Cards collect figures straight from NumPy and pandas (counts, metrics, arrays of thresholds), so
one shared writer turns those into plain JSON rather than each capability failing on an
``np.float64`` or hand-converting every value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def card_json(card: dict) -> str:
    """The card as readable UTF-8 JSON (NumPy numbers as plain numbers, anything else as text)."""
    return json.dumps(card, ensure_ascii=False, indent=2, default=_plain)


def write_card(path: Path, card: dict) -> None:
    Path(path).write_text(card_json(card), encoding="utf-8")
