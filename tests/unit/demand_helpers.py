"""Tiny hand-made trusts for the demand engine's tests (simple layout, every number known)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

START, END = 2023, 2030


def write_tiny_trust(root: Path, *, ratio: float = 1.0, spells: int = 200, speldur: int = 3) -> Path:
    """One site, one specialty, every spell aged 50 / male; population grows by ``ratio``."""
    root.mkdir(parents=True, exist_ok=True)
    ip = pd.DataFrame({
        "rn": range(spells), "age": 50, "sex": 1, "speldur": speldur, "sitetret": "a",
        "pod": "ip_elective_admission", "group": "elective", "tretspef_grouped": "100", "hsagrp": "ordelec",
        "demog_type": "demographics", "is_wla": False, "is_main_icb": True, "age_group": "50-64",
    })
    ip.to_csv(root / "ip.csv", index=False)
    pd.DataFrame({
        "age": [50], "sex": [1], "sitetret": ["a"], "pod": ["op_first"], "group": ["first"],
        "type": ["adult_surgical"], "tretspef_grouped": ["100"], "hsagrp": ["op_adult_surgical_first"],
        "demog_type": ["demographics"], "attendances": [1000], "tele_attendances": [0], "is_main_icb": [True],
        "is_wla": [False], "age_group": ["50-64"], "is_first": [True], "is_gp_ref": [True],
    }).to_csv(root / "op.csv", index=False)
    pd.DataFrame({
        "age": [50], "sex": [1], "sitetret": ["a"], "pod": ["aae_type-01"], "group": ["walk-in"],
        "hsagrp": ["aae_adult_walk-in"], "demog_type": ["demographics"], "arrivals": [500],
        "is_main_icb": [True], "age_group": ["50-64"], "is_adult": [True], "tretspef_grouped": ["Other"],
        "is_frequent_attender": [True],
    }).to_parquet(root / "aae.parquet", index=False)
    pop = pd.DataFrame({"variant": ["principal"], "age": [50], "sex": [1]})
    for year in range(START, END + 1):
        pop[str(year)] = 1000.0 * (ratio if year == END else 1.0)
    pop.to_csv(root / "demographic_factors.csv", index=False)
    pd.DataFrame({"rn": range(spells), "functional_area": "adult_elective_surgical_nonzerolos",
                  "group_pcnt": 1.0}).to_csv(root / "ip_functional_areas_beds.csv", index=False)
    return root


def tiny_params(**extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "seed": 42, "start_year": START, "end_year": END, "model_runs": 10,
        "demographic_factors": {"variant_probabilities": {"principal": 1.0}},
        "health_status_adjustment": False,
    }
    params.update(extra)
    return params
