"""Two or more scenarios side by side: what differs in their assumptions first, then activity by
point of delivery, beds, theatres and clinic rooms, each waterfall, and the years between.

Why the differences first: a board comparing "90% occupancy" with "85% occupancy" needs to see
at once that occupancy is the only thing that changed (or that the data or the number of runs
changed too, which would make the comparison unfair), before reading any figure.

Figures are each scenario's principal (mean of runs) and its P10 and P90, with every digit; the
workbook and pages round them (:mod:`carelens.demand.labels`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from carelens.demand.scenario import Scenario
from carelens.errors import ParamsError

#: Params keys that record how a file was made, not what it assumes (left out of the comparison),
#: and those shown first in words (the runs and seed a scenario actually ran with).
BOOKKEEPING = {"id", "app_version", "create_datetime", "user", "scenario", "seed", "model_runs"}
SHOWN = ("principal", "p10", "p90")


@dataclass
class Comparison:
    """``parameters``: parameter, one column per scenario (its value as text), ``differs``; the rows
    that differ first. The other frames: their keys, then ``"<scenario> | <statistic>"`` columns."""

    scenarios: list[Scenario]
    parameters: pd.DataFrame
    activity: pd.DataFrame
    capacity: pd.DataFrame
    waterfall: pd.DataFrame
    trajectories: pd.DataFrame

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]

    def differences(self) -> pd.DataFrame:
        """Only the parameters that differ."""
        return self.parameters[self.parameters["differs"]].drop(columns="differs").reset_index(drop=True)


def _text(value: Any) -> str:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return f"{value[0]:g} to {value[1]:g}"  # an 80% interval
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _flatten(node: Any, path: str, out: dict[str, str]) -> None:
    if isinstance(node, dict) and node:
        for key, value in node.items():
            _flatten(value, f"{path}.{key}" if path else str(key), out)
    else:
        out[path] = _text(node)


def parameter_values(scenario: Scenario) -> dict[str, str]:
    """Everything a scenario assumes, as ``dotted.key -> value in words``: what it ran on (data,
    runs, seed, years), every params value, and every capacity assumption in force."""
    values = {"Data": scenario.data_label, "Data fingerprint": scenario.data_fingerprint,
              "Monte Carlo runs": str(scenario.runs), "Seed": str(scenario.seed),
              "Projection years": ", ".join(str(y) for y in scenario.years if y > scenario.start_year),
              "carelens version": scenario.carelens_version}
    raw = {k: v for k, v in scenario.params.raw.items() if k not in BOOKKEEPING and k != "capacity"}
    _flatten(raw, "", values)
    _flatten(scenario.params.capacity, "capacity", values)
    return values


def _parameters(scenarios: list[Scenario]) -> pd.DataFrame:
    per = [parameter_values(s) for s in scenarios]
    keys = list(dict.fromkeys(k for p in per for k in p))
    frame = pd.DataFrame({"parameter": keys, **{s.name: [p.get(k, "(not set)") for k in keys]
                                                 for s, p in zip(scenarios, per)}})
    values = frame[[s.name for s in scenarios]]
    frame["differs"] = values.nunique(axis=1) > 1
    order = (~frame["differs"]).astype(int)  # stable: differences first, each group in params order
    return frame.assign(_order=order).sort_values("_order", kind="stable").drop(columns="_order").reset_index(
        drop=True)


def _side_by_side(scenarios: list[Scenario], frames: list[pd.DataFrame], keys: list[str],
                  stats: tuple[str, ...], baseline: bool) -> pd.DataFrame:
    """One row per key (in the order the scenarios give them); the baseline once (when every
    scenario ran on the same data) or per scenario, then each scenario's ``stats``."""
    same_data = len({s.data_fingerprint for s in scenarios}) == 1
    merged = pd.concat([frame[keys].astype(str) for frame in frames]).drop_duplicates().reset_index(drop=True)
    for i, (scenario, frame) in enumerate(zip(scenarios, frames)):
        cols = ["baseline", *stats] if baseline and not same_data else list(stats)
        part = frame[keys + cols].rename(columns={c: f"{scenario.name} | {c}" for c in cols})
        if baseline and same_data and i == 0:
            part.insert(len(keys), "baseline", frame["baseline"].to_numpy())
        part[keys] = part[keys].astype(str)
        merged = merged.merge(part, on=keys, how="left", sort=False)
    return merged


def compare(scenarios: list[Scenario]) -> Comparison:
    """Scenarios side by side (two or more, distinct names)."""
    if len(scenarios) < 2:
        raise ParamsError("compare at least two scenarios", field="scenarios")
    names = [s.name for s in scenarios]
    if len(set(names)) < len(names):
        raise ParamsError("a scenario is named twice", field="scenarios")
    activity = _side_by_side(scenarios, [s.tables["summary"] for s in scenarios], ["pod", "measure"], SHOWN, True)
    capacity = _side_by_side(scenarios, [s.tables["capacity_totals"] for s in scenarios], ["resource", "ward_type"],
                             SHOWN, True)
    waterfall = _side_by_side(scenarios, [s.tables["waterfall"] for s in scenarios], ["activity", "measure", "step"],
                              ("principal",), False)
    trajectories = _side_by_side(scenarios, [s.trajectories() for s in scenarios], ["activity", "measure", "year"],
                                 SHOWN, False).sort_values(["activity", "measure", "year"], kind="stable")
    return Comparison(scenarios=list(scenarios), parameters=_parameters(scenarios), activity=activity,
                      capacity=capacity, waterfall=waterfall, trajectories=trajectories.reset_index(drop=True))


def in_words(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """A side-by-side frame as people read it: codes in words, figures rounded, and headings such
    as "Occupancy 85%: P10 (low)" for the ``"<scenario> | p10"`` columns."""
    from carelens.demand.labels import heading, named, rounded

    figures = tuple(c for c in frame.columns if c not in keys)
    shown = named(rounded(frame, figures=figures), headings=False)
    shown.columns = [heading(c) if c in keys or " | " not in c else
                     f"{c.rsplit(' | ', 1)[0]}: {heading(c.rsplit(' | ', 1)[1])}" for c in shown.columns]
    return shown.rename(columns={"baseline": heading("baseline")})
