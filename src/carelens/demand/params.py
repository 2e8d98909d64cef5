"""Scenario parameters: NHP's params JSON, validated against a published JSON schema.

Why a schema file: trusts edit these files by hand (or export them from NHP's inputs app); a schema
published inside the package lets them validate in their editor and gives one clear message naming
the field that is wrong, instead of a crash deep inside a Monte Carlo run.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from carelens.errors import ParamsError

SCHEMA_FILE = "params.schema.json"
#: The most Monte Carlo runs one scenario may ask for (``model_runs``, ``--runs``): every run keeps a
#: dense (output key x measure) array, so a typo such as 1000000000 would exhaust memory after
#: minutes of work instead of being refused at once. NHP's own scenarios use 256.
MAX_RUNS = 4096

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


def _check_intervals(node: Any, path: list[str], source: str) -> None:
    """Every ``[lo, hi]`` pair must have lo <= hi: NHP silently draws nonsense otherwise."""
    if isinstance(node, dict):
        for key, value in node.items():
            _check_intervals(value, [*path, str(key)], source)
    elif isinstance(node, list) and len(node) == 2 and all(isinstance(v, (int, float)) for v in node):
        if node[0] > node[1]:
            raise ParamsError(f"interval has lo {node[0]} > hi {node[1]}", file=source, field=".".join(path))


def _check_finite(node: Any, path: list[str], source: str) -> None:
    """JSON readers accept ``NaN`` and ``Infinity`` (and ``1e400`` becomes infinity); no assumption
    can be either, and a schema's bounds do not catch NaN (every comparison with it is false)."""
    if isinstance(node, dict):
        for key, value in node.items():
            _check_finite(value, [*path, str(key)], source)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _check_finite(value, [*path, str(i)], source)
    elif isinstance(node, float) and not math.isfinite(node):
        raise ParamsError(f"{node} is not a number carelens can use", file=source, field=".".join(path))


def _first_error(validator: jsonschema.Draft202012Validator, instance: Any, source: str, prefix: str = "") -> None:
    """Raise the schema's first error (the shallowest) as one ``ParamsError`` naming the field; the
    schema's description of a bound says why it is there (e.g. occupancy 0 means infinite beds)."""
    errors = sorted(validator.iter_errors(instance), key=lambda e: (len(list(e.absolute_path)), str(e.message)))
    if not errors:
        return
    err = errors[0]
    field = ".".join(str(p) for p in err.absolute_path)
    field = (prefix + field if field else prefix.rstrip(".")) if prefix else (field or "(top level)")
    why = err.schema.get("description") if isinstance(err.schema, dict) else None
    bound = err.validator in ("exclusiveMinimum", "minimum", "maximum")
    message = f"{err.message} ({why})" if why and bound else err.message
    raise ParamsError(message, file=source, field=field)


def _capacity_validator() -> jsonschema.Draft202012Validator:
    full = schema()
    return jsonschema.Draft202012Validator({"$defs": full["$defs"], **full["properties"]["capacity"]})


def check_capacity(capacity: dict[str, Any], source: str) -> None:
    """Capacity assumptions checked against the published schema (``ParamsError`` naming the field):
    occupancy and utilisation above 0 and at most 1 (0 would mean infinite beds), days open at least 1,
    numbers that are numbers (a text "0.9" is refused, not read)."""
    _check_finite(capacity, ["capacity"], source)
    _first_error(_capacity_validator(), capacity, source, prefix="capacity.")


def params_from_dict(
    raw: dict[str, Any], *, source: str = "<params>", capacity: dict[str, Any] | None = None
) -> Params:
    """Validate a params mapping and return :class:`Params` (``ParamsError`` naming the field)."""
    if not isinstance(raw, dict):
        raise ParamsError("must be a JSON object", file=source)
    _check_finite(raw, [], source)
    _first_error(jsonschema.Draft202012Validator(schema()), raw, source)
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
    if capacity is not None:
        if not isinstance(capacity, dict):
            raise ParamsError("capacity assumptions must be a JSON object", file=source, field="capacity")
        check_capacity(capacity, source)
    cap = _merge(DEFAULT_CAPACITY, capacity or {})
    cap = _merge(cap, raw.get("capacity", {}))
    return Params(raw=raw, capacity=cap, source=source)


def load_params(path: str | Path, capacity: str | Path | None = None, source: str | None = None) -> Params:
    """Read and validate an NHP params JSON file, optionally with a separate capacity JSON file.

    ``source`` names the file in messages (e.g. an uploaded file's own name); default: the path."""
    path = Path(path)
    name = source or str(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParamsError("file not found", file=name) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        why = f"{exc.msg} (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
        raise ParamsError(f"not valid JSON: {why}", file=name) from None
    if not isinstance(raw, dict):
        raise ParamsError("must be a JSON object", file=name)
    cap: dict[str, Any] | None = None
    if capacity is not None:
        cpath = Path(capacity)
        try:
            cap = json.loads(cpath.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ParamsError("file not found", file=str(cpath)) from None
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            why = f"{exc.msg} (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
            raise ParamsError(f"cannot read capacity file: {why}", file=str(cpath)) from None
        if not isinstance(cap, dict):
            raise ParamsError("must be a JSON object", file=str(cpath))
        cap = cap.get("capacity", cap)
        check_capacity(cap, str(cpath))  # named by its own file, before the merge
    return params_from_dict(raw, source=name, capacity=cap)


def _map_intervals(node: Any, fn) -> Any:
    if isinstance(node, dict):
        return {k: _map_intervals(v, fn) for k, v in node.items()}
    if isinstance(node, list) and len(node) == 2 and all(isinstance(v, (int, float)) for v in node):
        return fn(node)
    return node


def scenario_defaults(params: Params) -> dict[str, Any]:
    """The main assumptions of a scenario as the dashboard shows them (for its controls)."""
    raw = params.raw
    ndg = [iv for iv in _intervals((raw.get("non-demographic_adjustment") or {}).get("values") or {})]
    lo = min((iv[0] for iv in ndg), default=1.0)
    hi = max((iv[1] for iv in ndg), default=1.0)
    return {
        "start_year": params.start_year, "end_year": params.end_year,
        "variants": list(raw["demographic_factors"]["variant_probabilities"]),
        "health_status_adjustment": bool(raw.get("health_status_adjustment", False)),
        "ndg_percent": (round(100 * (lo - 1), 2), round(100 * (hi - 1), 2)),
        "occupancy": params.capacity["target_occupancy"].get("adult_nonelective", 0.92),
        "theatre_utilisation": params.capacity["theatre"]["utilisation"],
        "clinic_utilisation": params.capacity["clinic"]["utilisation"],
    }


def _intervals(node: Any):
    if isinstance(node, dict):
        for v in node.values():
            yield from _intervals(v)
    elif isinstance(node, list) and len(node) == 2 and all(isinstance(v, (int, float)) for v in node):
        yield node


def adjust(params: Params, *, end_year: int | None = None, variant: str | None = None,
           health_status_adjustment: bool | None = None, ndg_percent: tuple[float, float] | None = None,
           strategy_scale: float | None = None, occupancy: float | None = None,
           theatre_utilisation: float | None = None, clinic_utilisation: float | None = None,
           runs: int | None = None) -> Params:
    """A what-if copy of a scenario with its main assumptions changed (validated again).

    - ``variant``: use this population projection in every run (None: the scenario's mix);
    - ``ndg_percent`` = (low, high) % a year: every non-demographic growth interval becomes
      [1 + low/100, 1 + high/100];
    - ``strategy_scale`` s: every activity-avoidance and efficiency factor f moves to 1 - s (1 - f)
      (0 switches them off, 1 keeps the scenario, 2 doubles their effect; clipped to [0, 1]);
    - ``occupancy``: target occupancy of every overnight ward type (day case wards keep theirs);
      ``theatre_utilisation``, ``clinic_utilisation``: shares of available hours used.
    """
    raw = json.loads(json.dumps(params.raw))
    cap = json.loads(json.dumps(params.capacity))
    if end_year is not None:
        raw["end_year"] = int(end_year)
    if runs is not None:
        raw["model_runs"] = int(runs)
    if variant:
        known = raw["demographic_factors"]["variant_probabilities"]
        if variant not in known:
            raise ParamsError(f"variant '{variant}' is not one of the scenario's ({', '.join(known)})",
                              file=params.source, field="demographic_factors.variant_probabilities")
        raw["demographic_factors"] = {"variant_probabilities": {variant: 1.0}}
    if health_status_adjustment is not None:
        raw["health_status_adjustment"] = bool(health_status_adjustment)
    if ndg_percent is not None:
        lo, hi = (1 + float(ndg_percent[0]) / 100, 1 + float(ndg_percent[1]) / 100)
        ndg = raw.setdefault("non-demographic_adjustment", {"value-type": "year-on-year-growth", "values": {}})
        ndg["values"] = _map_intervals(ndg.get("values") or {}, lambda _iv: [round(lo, 6), round(hi, 6)])
    if strategy_scale is not None:
        s = float(strategy_scale)

        def scale(iv: list[float]) -> list[float]:
            return [round(min(max(1 - s * (1 - v), 0.0), 1.0), 6) for v in iv]

        for section in ("activity_avoidance", "efficiencies"):
            if section in raw:
                raw[section] = _map_intervals(raw[section], scale)
    if occupancy is not None:
        for ward in cap["target_occupancy"]:
            if ward != "daycase":
                cap["target_occupancy"][ward] = float(occupancy)
    if theatre_utilisation is not None:
        cap["theatre"]["utilisation"] = float(theatre_utilisation)
    if clinic_utilisation is not None:
        cap["clinic"]["utilisation"] = float(clinic_utilisation)
    if runs is not None and not 0 <= int(runs) <= MAX_RUNS:
        raise ParamsError(f"must be between 0 and {MAX_RUNS:,}", file=params.source, field="model_runs")
    raw.pop("capacity", None)
    return params_from_dict(raw, source=params.source, capacity=cap)
