"""The Monte Carlo engine: NHP's method (nhp-model 6.x), vectorised.

:class:`Engine` prepares a trust's data and a scenario's params once and computes one Monte Carlo
run at a time. It only coordinates; each part of the method lives where it belongs:

- ``factors.py``: the growth factors every activity type shares (steps 1-9), per factor cell;
  ``Horizon`` holds what depends on the horizon year, so :meth:`Engine.for_year` is cheap.
- ``inpatients.py``, ``outpatients.py``, ``aae.py``: one module per activity type, each a typed
  dataclass prepared once with a ``baseline`` (run 0) and a ``run`` method.
- ``pooled.py``: what outpatients and A&E share (rows merged, Poissons per output key, avoidance
  per strategy combination); ``capacity_areas.py``: bed days and procedures by area per run.
- ``keys.py``: output keys, measures and waterfall steps; ``cells.py``: row -> cell helpers.

Why it is fast (and still NHP's method):
- Every growth factor is computed per *factor cell* (the few hundred combinations of the columns
  that factor looks at) and reaches the rows with one gather; interval draws are vectorised.
- Random steps are drawn on counts, never by copying rows: a Poisson-resampled row thinned by a
  binomial is a Poisson with the product of the rates, and the part thinned out an independent
  Poisson (Poisson splitting); a sum of independent Poissons is a Poisson. Outpatient and A&E rows
  feed only per-output-key totals, so their Poisson draws are made per output key (and per set of
  avoidance strategies for the avoided activity), which is the same distribution for every output.
  Inpatient spells keep per-spell draws, because each spell picks one efficiency strategy per run.
- Per-run random streams come from ``SeedSequence([scenario seed, model_run])`` only, so a run's
  result does not depend on which process or machine computes it. Each activity type draws from
  its own child stream, in the order inpatients, outpatients, A&E.

Where NHP's code does something the data README leaves open, this follows NHP (see
docs/demand-nhp-agreement.md, "NHP's method, precisely").
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import numpy as np

from carelens.demand.aae import AccidentAndEmergency
from carelens.demand.data import TrustData
from carelens.demand.factors import Horizon, unmatched_assumptions
from carelens.demand.inpatients import Inpatients
from carelens.demand.keys import MEASURES, STEPS, WATERFALL_MEASURES, OutputKeys
from carelens.demand.outpatients import Outpatients
from carelens.demand.params import Params
from carelens.errors import ParamsError


def release_memory() -> None:
    """Give the C heap's free memory back to the system (glibc keeps what preparation freed, and
    forked workers would each carry it); a no-op where there is no glibc."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def seed_for(seed: int, model_run: int) -> np.random.SeedSequence:
    """The run's random stream depends on (scenario seed, model_run) and nothing else."""
    return np.random.SeedSequence([int(seed), int(model_run)])


class Engine:
    """Data and params prepared once; :meth:`run` computes one Monte Carlo run.

    ``ip``, ``op`` and ``aae`` are the prepared activity types, ``capacity_areas`` the bed and
    theatre areas, ``keys`` the output keys (rows of each run's ``values``), ``warnings`` what the
    params asked for that the data cannot give (the CLI and the runner show them; nothing is
    dropped silently).
    """

    def __init__(self, params: Params, data: TrustData) -> None:
        self.params = params
        self.data = data
        self.horizon = Horizon.of(params, data)
        self.warnings: list[str] = []
        output_keys = OutputKeys(data)
        self.keys = output_keys.frame
        self.ip, self.capacity_areas = Inpatients.prepare(params, data, self.horizon, output_keys, self.warnings)
        self.op = Outpatients.prepare(params, data, self.horizon, output_keys, self.warnings)
        self.aae = AccidentAndEmergency.prepare(params, data, self.horizon, output_keys, self.warnings)
        self.warnings += unmatched_assumptions(params, data)
        self.bed_areas = self.capacity_areas.bed_areas
        self.theatre_areas = self.capacity_areas.theatre_areas
        # memory: the runs need only the cells and keys, not the per-row codes or frame copies
        output_keys.forget_rows()
        del output_keys
        release_memory()

    @property
    def start(self) -> int:
        """The baseline year (the data's year)."""
        return self.horizon.start

    @property
    def end(self) -> int:
        """The horizon year this engine projects to."""
        return self.horizon.end

    def for_year(self, end_year: int) -> "Engine":
        """This engine projecting to another horizon year (same data, strategies and seed).

        Only what depends on the horizon is recomputed: population ratios, health-status
        adjustment and the compounding of non-demographic growth. Used for fan charts, where
        each year is its own projection to that year with the scenario's assumptions in full.
        """
        if int(end_year) == self.end:
            return self
        if int(end_year) < self.start:
            raise ParamsError(f"year {end_year} is before start_year {self.start}", file=self.params.source,
                              field="end_year")
        other = copy.copy(self)
        other.params = Params(raw=dict(self.params.raw, end_year=int(end_year)), capacity=self.params.capacity,
                              source=self.params.source)
        other.horizon = self.horizon.to_year(int(end_year), other.params, self.data)
        for name in ("ip", "op", "aae"):
            act = getattr(self, name)
            setattr(other, name, replace(act, growth=act.growth.for_horizon(other.horizon)))
        return other

    def run(self, model_run: int) -> dict[str, Any]:
        """One Monte Carlo run -> dense arrays (values[key, measure], waterfall, capacity inputs)."""
        rng = np.random.default_rng(seed_for(self.params.seed, model_run))
        values = np.zeros((len(self.keys), len(MEASURES)))
        waterfall = {m: np.zeros(len(STEPS)) for m in WATERFALL_MEASURES}
        avoided: dict[tuple[str, str, str], float] = {}
        horizon = self.horizon
        if model_run == 0:
            spells = self.ip.baseline(values, waterfall)
            self.op.baseline(values, waterfall)
            self.aae.baseline(values, waterfall)
            beds, theatres = self.capacity_areas.totals(*spells)
            return {"model_run": 0, "variant": horizon.variants[horizon.base_variant], "values": values,
                    "waterfall": waterfall, "beddays_by_area": beds, "procedures_by_area": theatres,
                    "avoided": avoided}
        variant = int(rng.choice(len(horizon.variants), p=horizon.variant_p))
        ages = horizon.health.adjusted_ages(horizon.health.draw_h(rng)) if horizon.health is not None else None
        # one child stream per activity type; a new type would take a fourth, leaving these unchanged
        streams = [np.random.default_rng(s) for s in rng.bit_generator.seed_seq.spawn(3)]
        spells = self.ip.run(streams[0], variant, ages, values, waterfall, avoided)
        beds, theatres = self.capacity_areas.totals(*spells)
        self.op.run(streams[1], variant, ages, values, waterfall, avoided)
        self.aae.run(streams[2], variant, ages, values, waterfall, avoided)
        return {"model_run": model_run, "variant": horizon.variants[variant], "values": values,
                "waterfall": waterfall, "beddays_by_area": beds, "procedures_by_area": theatres,
                "avoided": avoided}
