"""What the dashboard's "Run and keep" does, all of it away from the server's event loop.

Why everything and not only the Monte Carlo runs: getting a run ready takes seconds too (reading
a stored trust back from the store, making the synthetic trust: about 8 s on a busy machine, an
uploaded params file checked against the schema). Done in the page's reactive code, that blocks
every user's page, not only the planner's. So the page collects plain choices in a
:class:`NewScenario` (reading its inputs is quick) and :func:`run_and_keep` runs in the page's
worker thread: it readies the data and params, runs the scenario in a process of its own
(:class:`~carelens.demand.background.BackgroundRun`) and keeps it in the store.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from carelens.demand.background import BackgroundRun, Cancelled
from carelens.demand.data import TrustData
from carelens.demand.params import Params
from carelens.demand.scenario import Scenario
from carelens.errors import TableError

UPLOAD, SYNTHETIC = "upload", "synthetic"
#: The synthetic trust the page offers: the same every time (seeded), made once per server.
SYNTH_SPELLS = 20_000


@lru_cache(maxsize=1)
def synthetic_trust() -> tuple[TrustData, Params]:
    """The page's synthetic trust and its params (made on first use, then shared: it is read only)."""
    from carelens.demand.synth import synthetic_data

    return synthetic_data(SYNTH_SPELLS)


@dataclass
class NewScenario:
    """A planner's request, as plain values the page read from its inputs.

    ``source``: a stored trust's fingerprint, :data:`UPLOAD` or :data:`SYNTHETIC`; ``uploaded``:
    the upload already read (``carelens.demand.upload.Uploaded``); ``base``: the open scenario's
    params; ``params_file``: an uploaded params file (``(path, name)``); ``changes``: keyword
    arguments of :func:`carelens.demand.params.adjust`; ``options``: of
    :func:`carelens.demand.scenario.run_scenario` (name, runs, points, created_by)."""

    source: str
    store: str
    uploaded: Any = None
    base: Params | None = None
    params_file: tuple[str, str] | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def ready(self) -> tuple[Params, TrustData]:
        """The params (adjusted) and the data to run on; ``CarelensError`` naming what is wrong."""
        from carelens.demand.params import adjust, load_params, params_from_dict
        from carelens.demand.store import load_stored_data
        from carelens.demand.synth import sample_params

        base = self.base
        if self.source == UPLOAD:
            if self.uploaded is None:
                raise TableError("upload the trust's data first", field="data")
            data, base = self.uploaded.data, self.uploaded.params or base
        elif self.source == SYNTHETIC:
            data, sample = synthetic_trust()
            base = base or sample
        else:
            data = load_stored_data(self.store, self.source)
        if self.params_file is not None:
            path, name = self.params_file
            base = load_params(path, source=name or "uploaded params")
        if base is None:
            base = params_from_dict(sample_params(start_year=data.fyear or 2023), source="carelens sample params")
        return adjust(base, **self.changes), data


class Stopper:
    """Stops a run whether it is still getting ready or already in its process (the page's Stop)."""

    def __init__(self) -> None:
        self._stopped = threading.Event()
        self.run: BackgroundRun | None = None

    def stop(self) -> None:
        self._stopped.set()
        if self.run is not None:
            self.run.cancel()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def started(self, run: BackgroundRun) -> None:
        self.run = run
        if self.stopped:  # Stop pressed while the run was getting ready
            run.cancel()


def run_and_keep(request: NewScenario, stopper: Stopper, on_progress=None) -> Scenario:
    """The page's background job: ready the data and params, run in a process of its own, keep
    the scenario and its data in the store. ``Cancelled`` after ``stopper.stop()``."""
    from carelens.demand.store import save_scenario

    params, data = request.ready()
    if stopper.stopped:
        raise Cancelled("the projection was stopped")
    run = BackgroundRun(params, data, **request.options)
    stopper.started(run)
    scenario = run.wait(on_progress=on_progress)
    save_scenario(scenario, request.store, data)
    return scenario
