"""Scenario parameters: NHP's params JSON, validated against a published JSON schema.

Why a schema file: trusts edit these files by hand (or export them from NHP's inputs app); a schema
published inside the package lets them validate in their editor and gives one clear message naming
the field that is wrong, instead of a crash deep inside a Monte Carlo run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from carelens.errors import ParamsError

SCHEMA_FILE = "params.schema.json"

#: Capacity assumptions used when the params carry no ``capacity`` key. Documented in docs/demand.md.
DEFAULT_CAPACITY: dict[str, Any] = {
    "days_open": {"overnight": 365, "daycase": 250},
    "target_occupancy": {
        "adult_elective": 0.85,
        "adult_nonelective": 0.92,
        "paediatric": 0.80,
        "maternity": 0.75,
        "daycase": 0.85,
        "other": 0.90,
    },
    "theatre": {
        "hours_per_procedure": {"theatre_day": 1.0, "theatre_general": 2.0, "default": 1.5},
        "hours_per_year": 2500.0,
        "utilisation": 0.85,
    },
    "clinic": {
        "minutes_per_attendance": {"op_first": 30.0, "op_follow-up": 15.0, "op_procedure": 30.0},
        "hours_per_year": 2000.0,
        "utilisation": 0.85,
    },
    "health_status": {"life_expectancy_gain_per_year": 0.1, "min_age": 55},
}


def schema() -> dict[str, Any]:
    """The published JSON schema for params files (also shipped as ``params.schema.json``)."""
    text = resources.files("carelens.demand").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


@dataclass(frozen=True)
class Params:
    """A validated scenario: the raw NHP params plus the merged capacity assumptions."""

    raw: dict[str, Any]
    capacity: dict[str, Any] = field(default_factory=lambda: json.loads(json.dumps(DEFAULT_CAPACITY)))
    source: str = "<params>"

    @property
    def seed(self) -> int:
        return int(self.raw["seed"])

    @property
    def start_year(self) -> int:
        return int(self.raw["start_year"])

    @property
    def end_year(self) -> int:
        return int(self.raw["end_year"])

    @property
    def model_runs(self) -> int:
        return int(self.raw.get("model_runs", 256))

    def with_changes(self, **changes: Any) -> "Params":
        """A copy with top-level params keys replaced (e.g. for the dashboard's what-if edits)."""
        raw = json.loads(json.dumps(self.raw))
        raw.update(changes)
        return params_from_dict(raw, source=self.source, capacity=self.capacity)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _path_of(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def _check_intervals(node: Any, path: list[str], source: str) -> None:
    """Every ``[lo, hi]`` pair must have lo <= hi: NHP silently draws nonsense otherwise."""
    if isinstance(node, dict):
        for key, value in node.items():
            _check_intervals(value, [*path, str(key)], source)
    elif isinstance(node, list) and len(node) == 2 and all(isinstance(v, (int, float)) for v in node):
        if node[0] > node[1]:
            raise ParamsError(f"interval has lo {node[0]} > hi {node[1]}", file=source, field=".".join(path))


def params_from_dict(
    raw: dict[str, Any], *, source: str = "<params>", capacity: dict[str, Any] | None = None
) -> Params:
    """Validate a params mapping and return :class:`Params` (``ParamsError`` naming the field)."""
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(raw), key=lambda e: (len(list(e.absolute_path)), str(e.message)))
    if errors:
        err = errors[0]
        raise ParamsError(err.message, file=source, field=_path_of(err))
    _check_intervals({k: v for k, v in raw.items() if k != "capacity"}, [], source)
    if int(raw["end_year"]) < int(raw["start_year"]):
        raise ParamsError("end_year is before start_year", file=source, field="end_year")
    probs = raw["demographic_factors"]["variant_probabilities"]
    if abs(sum(probs.values()) - 1.0) > 1e-6:
        raise ParamsError(
            f"probabilities sum to {sum(probs.values()):.4f}, not 1",
            file=source,
            field="demographic_factors.variant_probabilities",
        )
    cap = _merge(DEFAULT_CAPACITY, capacity or {})
    cap = _merge(cap, raw.get("capacity", {}))
    return Params(raw=raw, capacity=cap, source=source)


def load_params(path: str | Path, capacity: str | Path | None = None) -> Params:
    """Read and validate an NHP params JSON file, optionally with a separate capacity JSON file."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParamsError("file not found", file=str(path)) from None
    except json.JSONDecodeError as exc:
        raise ParamsError(f"not valid JSON: {exc.msg} (line {exc.lineno})", file=str(path)) from None
    if not isinstance(raw, dict):
        raise ParamsError("must be a JSON object", file=str(path))
    cap: dict[str, Any] | None = None
    if capacity is not None:
        cpath = Path(capacity)
        try:
            cap = json.loads(cpath.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError) as exc:
            raise ParamsError(f"cannot read capacity file: {exc}", file=str(cpath)) from None
        cap = cap.get("capacity", cap)
    return params_from_dict(raw, source=str(path), capacity=cap)
