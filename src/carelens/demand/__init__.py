"""carelens.demand: NHP's demand model method, vectorised, plus capacity (beds, theatres, clinic rooms).

Public interface (kept stable for the Spark runner and benchmarks)::

    params = load_params(path)                       # -> Params (ParamsError naming the field)
    data = load_data(root, dataset=None, fyear=None)  # NHP parquet layout or simple layout -> TrustData
    result = run_model(params, data, runs=256, workers=2, seed=None, progress=True)  # -> Results
    frame = run_one(params, data, model_run)          # one run, deterministic given (seed, model_run)
    summarise(result)                                 # pod, measure, baseline, principal, p10, p50, p90
"""

from carelens.demand.data import TrustData, load_data
from carelens.demand.engine import Engine, seed_for
from carelens.demand.keys import MEASURES, STEPS
from carelens.demand.params import DEFAULT_CAPACITY, Params, load_params, params_from_dict, schema
from carelens.demand.runner import Results, run_model, run_one
from carelens.demand.summary import avoided, capacity, capacity_totals, per_run, summarise, waterfall

__all__ = [
    "DEFAULT_CAPACITY", "MEASURES", "STEPS", "Engine", "Params", "Results", "TrustData", "avoided", "capacity",
    "capacity_totals", "load_data", "load_params", "params_from_dict", "per_run", "run_model", "run_one",
    "schema", "seed_for", "summarise", "waterfall",
]
