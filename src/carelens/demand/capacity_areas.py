"""Capacity inputs of a run: bed days by ward (functional) area and procedures by theatre area.

NHP stops at activity; carelens turns each run's activity into beds, theatres and clinic rooms
(``summary.py``). What that needs from a run is computed here, per spell, so its uncertainty is the
runs' own: a spell's bed days split over its bed areas by ``group_pcnt`` (equal shares where all
are 0), and its procedures counted in their theatre areas. A spell converted to a day case counts
its one bed day in the day-case area of its ward (NHP's remap, ``_functional_area_beds``).

Clinic rooms need no preparation: they follow from outpatient attendances by output key.

A trust without NHP's area tables (the simple layout, where they are optional) still gets beds and
theatres: each spell's bed days go to one area made from its own columns (children or adults,
day case, maternity, elective or not, same day or overnight: the ward types the capacity
assumptions know), and a spell with a procedure (``has_procedure``) to a day-surgery or general
theatre (:func:`areas_from_spells`). Coarser than NHP's areas, and said so in the scenario's
warnings, but beds a planner can read rather than none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from carelens.demand.cells import codes_of, flag, text_of
from carelens.demand.data import TrustData


def daycase_area_of(area: str) -> str:
    """NHP's remap of a converted day case's bed area (inpatients.py: _functional_area_beds)."""
    if "daycase" in area:
        return area
    return re.sub(r"^(paediatric|adult)_[^_]*_([^_]*)_.*$", r"\1_daycase_\2", area)


def areas_from_spells(ip: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Bed and theatre area tables (NHP's columns) made from the spells themselves, for data
    without ``ip_functional_areas_beds`` / ``ip_functional_areas_procedures``."""
    rn = ip["rn"].to_numpy()
    pod = text_of(ip["pod"])
    group = np.char.lower(text_of(ip["group"]).astype(str))
    daycase = np.isin(pod, ["ip_elective_daycase", "ip_regular_day_attender"])
    who = np.where(ip["age"].to_numpy(np.int64) < 18, "paediatric", "adult").astype(object)
    kind = np.where(np.char.find(group, "non") >= 0, "nonelective", "elective").astype(object)
    stay = np.where(ip["speldur"].to_numpy(np.int64) > 0, "nonzerolos", "zerolos").astype(object)
    area = np.where(daycase, who + "_daycase_wards", who + "_" + kind + "_wards_" + stay)
    area = np.where(~daycase & (group == "maternity"), "maternity_wards_" + stay, area)
    beds = pd.DataFrame({"rn": rn, "functional_area": area.astype(object), "group_pcnt": 1.0})
    has = flag(ip, "has_procedure")
    theatres = pd.DataFrame({"rn": rn[has], "functional_area": np.where(daycase[has], "theatre_day", "theatre_general"),
                             "count": 1.0})
    return beds, theatres


@dataclass
class CapacityAreas:
    """Which bed and theatre areas each spell uses, and with what weight."""

    bed_areas: pd.DataFrame  # sitetret, functional_area per bed area
    bed_rows: np.ndarray  # per bed row: its spell
    bed_area: np.ndarray  # per bed row: its area
    bed_area_as_daycase: np.ndarray  # per bed row: its area if the spell becomes a day case
    weight: np.ndarray  # per bed row: share of the spell's bed days
    beds_identity: bool  # one bed row per spell, in spell order, whole spell in one area (fast path)
    theatre_areas: pd.DataFrame  # sitetret, functional_area per theatre area
    theatre_rows: np.ndarray  # per procedure row: its spell
    theatre_area: np.ndarray  # per procedure row: its area
    procedures: np.ndarray  # per procedure row: procedures per admission

    @classmethod
    def of(cls, ip: pd.DataFrame, rn_pos: pd.Index, data: TrustData) -> "CapacityAreas":
        """From the spells ``ip`` (``rn_pos``: their ids in row order) and the two area tables."""
        site_code, sites = codes_of(ip["sitetret"])
        beds = data["ip_functional_areas_beds"]
        procs = data["ip_functional_areas_procedures"]
        if not len(beds) or not len(procs):
            own_beds, own_procs = areas_from_spells(ip)
            beds = beds if len(beds) else own_beds
            procs = procs if len(procs) else own_procs
        # beds: a spell's bed days split over its areas by group_pcnt (equal shares if all are 0)
        rows = rn_pos.get_indexer(beds["rn"].to_numpy())
        ok = rows >= 0
        rows = rows[ok]
        pct = np.nan_to_num(beds["group_pcnt"].to_numpy(float)[ok])
        tot = np.bincount(rows, weights=pct, minlength=len(ip))
        cnt = np.bincount(rows, minlength=len(ip))
        weight = np.where(tot[rows] > 0, pct / np.where(tot[rows] > 0, tot[rows], 1.0), 1.0 / np.maximum(cnt[rows], 1))
        acode, anames = codes_of(beds["functional_area"])
        acode = acode[ok]
        # a spell converted to a day case counts its bed day in the day-case area (NHP's remap)
        names = list(dict.fromkeys([*anames, *(daycase_area_of(a) for a in anames)]))
        pos = {a: i for i, a in enumerate(names)}
        own = np.array([pos[a] for a in anames], np.int64)
        dca = np.array([pos[daycase_area_of(a)] for a in anames], np.int64)
        keys = np.concatenate([site_code[rows] * len(names) + own[acode], site_code[rows] * len(names) + dca[acode]])
        code, uniq = pd.factorize(keys)
        bed_areas = pd.DataFrame({"sitetret": sites[uniq // len(names)],
                                  "functional_area": np.asarray(names, dtype=object)[uniq % len(names)]})
        identity = bool(len(rows) == len(ip) and np.array_equal(rows, np.arange(len(ip))) and np.all(weight == 1.0))
        # theatres: procedures by theatre area (count per admission)
        prow = rn_pos.get_indexer(procs["rn"].to_numpy())
        pok = prow >= 0
        prow = prow[pok]
        tcode, tnames = codes_of(procs["functional_area"])
        tkeys = site_code[prow] * max(len(tnames), 1) + tcode[pok]
        pcode, puniq = pd.factorize(tkeys)
        theatre_areas = pd.DataFrame({"sitetret": sites[puniq // max(len(tnames), 1)],
                                      "functional_area": tnames[puniq % max(len(tnames), 1)]})
        return cls(bed_areas, rows, code[:len(rows)].astype(np.int64), code[len(rows):].astype(np.int64), weight,
                   identity, theatre_areas, prow, pcode.astype(np.int64), procs["count"].to_numpy(float)[pok])

    def procedures_per_spell(self, n_spells: int) -> np.ndarray:
        """Procedures per admission of each spell, where the data has no has_procedure column."""
        return np.bincount(self.theatre_rows, weights=self.procedures, minlength=n_spells)

    def totals(self, beddays_row: np.ndarray, daycase_row: np.ndarray, adm_row: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
        """One run's bed days by bed area and procedures by theatre area, from per spell: bed days
        where it stays, bed days as a converted day case, and admissions."""
        n_areas = len(self.bed_areas)
        rows, code, dc_code, weight = self.bed_rows, self.bed_area, self.bed_area_as_daycase, self.weight
        if self.beds_identity:
            beds = np.bincount(code, weights=beddays_row, minlength=n_areas)
            dc = np.nonzero(daycase_row)[0]
            if len(dc):
                beds += np.bincount(dc_code[dc], weights=daycase_row[dc], minlength=n_areas)
        else:
            beds = np.bincount(code, weights=beddays_row[rows] * weight, minlength=n_areas)
            if daycase_row.any():
                beds += np.bincount(dc_code, weights=daycase_row[rows] * weight, minlength=n_areas)
        theatres = np.bincount(self.theatre_area, weights=adm_row[self.theatre_rows] * self.procedures,
                               minlength=len(self.theatre_areas))
        return beds, theatres
