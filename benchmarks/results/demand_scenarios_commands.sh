#!/bin/bash
# Issue 15's demand benchmarks (BENCHMARKS.md, "After scenarios became things"); run under
# flock /tmp/carelens-bench.lock, with the code before the change in /tmp/ds-before/src.
cd "$(git rev-parse --show-toplevel)"
PY=${PY:-.venv/bin/python}
export CARELENS_SHARED_DATA=/work/shared/data
S=/work/shared/data/demand
la() { cut -d' ' -f1 /proc/loadavg; }
echo "== 100k before/after (demand.py carelens side), $(date -u +%H:%M) load $(la)"
PYTHONPATH=src $PY benchmarks/demand_before_after.py --before /tmp/ds-before/src --after src --pairs 4 \
    --out benchmarks/results/demand_scenarios_before_after.json
echo "== CLI end to end, 100k, 256 runs"
for side in before after; do
  src=$([ $side = before ] && echo /tmp/ds-before/src || echo src)
  for i in 1 2; do
    echo "-- $side $i load $(la)"
    PYTHONPATH=$src /usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M KB" $PY -m carelens.cli.app demand run $S/params-sample.json -d $S/nhp_synthetic -o /tmp/ds_cli_$side --runs 256 2>&1 | grep -v warning | tail -2
  done
done
echo "-- after, --name --db (keeps the data), load $(la)"
rm -f /tmp/ds_bench_store.duckdb
PYTHONPATH=src /usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M KB" $PY -m carelens.cli.app demand run $S/params-sample.json -d $S/nhp_synthetic -o /tmp/ds_cli_named --runs 256 --name bench --db /tmp/ds_bench_store.duckdb 2>&1 | grep -v warning | tail -3
echo "-- after, --years 4, load $(la)"
PYTHONPATH=src /usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M KB" $PY -m carelens.cli.app demand run $S/params-sample.json -d $S/nhp_synthetic -o /tmp/ds_cli_years --runs 256 --years 4 2>&1 | grep -v warning | tail -2
echo "== 1M, 256 runs (demand.py --big --skip-peer), load $(la)"
for side in before after; do
  src=$([ $side = before ] && echo /tmp/ds-before/src || echo src)
  echo "-- $side load $(la)"
  PYTHONPATH=$src $PY benchmarks/demand.py --big --skip-peer --params benchmarks/.cache/synth_1000000_20261123_v2/params.json \
     2>&1 | grep -E "^carelens|wall" | tail -3
done
echo "-- after, CLI end to end at 1M, load $(la)"
PYTHONPATH=src /usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M KB" $PY -m carelens.cli.app demand run benchmarks/.cache/synth_1000000_20261123_v2/params.json -d benchmarks/.cache/synth_1000000_20261123_v2 -o /tmp/ds_cli_1m --runs 256 2>&1 | grep -v warning | tail -2
echo "== done $(date -u +%H:%M) load $(la)"
