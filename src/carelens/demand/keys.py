"""What one run produces, and the output keys every activity type adds its results into.

A run's result is one dense array ``values[output key, measure]`` (plus the waterfall and capacity
inputs), never row-level data: this is what keeps the workers' memory and the results small. The
output keys are the distinct (pod, site, age group, sex, specialty) combinations of all three
activity types, plus the ones inpatient spells can be converted into (day case, outpatient
procedure, same-day emergency care), so a converted spell has a key to land in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carelens.demand.cells import factorize
from carelens.demand.data import TrustData

OUT_DIMS = ["pod", "sitetret", "age_group", "sex", "tretspef_grouped"]
MEASURES = ["admissions", "beddays", "procedures", "attendances", "tele_attendances", "ambulance", "walk-in"]
M = {m: i for i, m in enumerate(MEASURES)}
# the waterfall's steps, in the order NHP applies them (steps 1-9 are the growth factors)
STEPS = [
    "baseline", "demographic_adjustment", "health_status_adjustment", "expat", "repat_local",
    "repat_nonlocal", "baseline_adjustment", "waiting_list_adjustment", "non-demographic_adjustment",
    "inequalities", "model_interaction_term", "activity_avoidance", "efficiencies",
]
WATERFALL_MEASURES = [("ip", "admissions"), ("ip", "beddays"), ("op", "attendances"), ("aae", "arrivals")]
# where a converted inpatient spell goes: pod (and specialty) of its new output key
DAYCASE = {"pod": "ip_elective_daycase"}
OUTPATIENT_PROCEDURE = {"pod": "op_procedure"}
SDEC = {"pod": "aae_type-05", "tretspef_grouped": "Other"}


def fill_waterfall(line: np.ndarray, expected: np.ndarray, resampled: float, avoidance: float,
                   efficiencies: float = 0.0) -> None:
    """One run's waterfall line (``STEPS``) for one measure: the baseline and steps 1-9 from the
    expected totals after each growth step (``expected[0..9]``), then the change from Poisson
    resampling (NHP's model interaction term), from activity avoidance and from efficiencies."""
    line[0] = expected[0]
    line[1:10] = np.diff(expected)
    line[10] = resampled - expected[9]
    line[11] = avoidance
    line[12] = efficiencies


class OutputKeys:
    """The output keys of one trust's data, and each row's key.

    Rows are matched to keys per distinct combination of the output columns, not per row; the
    combinations of each frame are remembered until :meth:`forget_rows` (the end of preparation),
    because inpatients are matched several times (once per kind of conversion).
    """

    def __init__(self, data: TrustData) -> None:
        self._cache: dict[int, tuple[pd.DataFrame, np.ndarray, pd.DataFrame]] = {}
        frames = [self._cells(data[name])[1] for name in ("ip", "op", "aae")]
        ipc = self._cells(data["ip"])[1]
        frames += [ipc.assign(**DAYCASE), ipc.assign(**OUTPATIENT_PROCEDURE), ipc.assign(**SDEC)]
        keys = pd.concat(frames, ignore_index=True).drop_duplicates().sort_values(OUT_DIMS).reset_index(drop=True)
        self.frame = keys
        self._index = pd.MultiIndex.from_frame(keys)

    def __len__(self) -> int:
        return len(self.frame)

    def _cells(self, frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
        if id(frame) not in self._cache:  # the frame is kept with its cells, so its id is not reused
            codes, cells = factorize(frame, OUT_DIMS)
            self._cache[id(frame)] = (frame, codes, cells.astype(str))
        return self._cache[id(frame)][1], self._cache[id(frame)][2]

    def of(self, frame: pd.DataFrame, **override: str) -> np.ndarray:
        """Output key index per row, with ``override`` columns replaced (e.g. ``**DAYCASE``)."""
        codes, cells = self._cells(frame)
        cells = cells.assign(**override)
        idx = self._index.get_indexer(pd.MultiIndex.from_frame(cells[OUT_DIMS]))
        assert (idx >= 0).all()
        return idx[codes].astype(np.int64)

    def forget_rows(self) -> None:
        """Drop the per-row codes and frame copies: the runs need only the keys."""
        self._cache.clear()
