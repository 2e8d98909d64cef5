#!/bin/bash
# Issue 15 finished (BENCHMARKS.md, "After demand-finish"): the engine learnt beds without NHP's area
# tables and warnings for params the data cannot take; the same results for NHP-shaped data, the same
# speed, NHP side by side. Run under nice and flock /tmp/carelens-bench.lock, with main's src in
# /tmp/df-before/src (git -C /work/main archive main src | tar -x -C /tmp/df-before).
cd "$(git rev-parse --show-toplevel)"
PY=${PY:-/work/main/.venv/bin/python}
export CARELENS_SHARED_DATA=/work/shared/data
S=/work/shared/data/demand
BIG=benchmarks/.cache/synth_1000000_20261123_v2
la() { cut -d' ' -f1 /proc/loadavg; }
T="wall %e s, user %U s, sys %S s, max RSS %M KB"
echo "== same results, $(date -u +%H:%M) load $(la)"
PYTHONPATH=/tmp/df-before/src $PY benchmarks/demand_same_results.py save /tmp/df_before.npz
PYTHONPATH=src $PY benchmarks/demand_same_results.py save /tmp/df_after.npz
PYTHONPATH=src $PY benchmarks/demand_same_results.py compare /tmp/df_before.npz /tmp/df_after.npz
echo "== 100k, 256 runs, before/after pairs, load $(la)"
PYTHONPATH=src $PY benchmarks/demand_before_after.py --before /tmp/df-before/src --after src --pairs 4 \
    --out benchmarks/results/demand_finish_before_after.json
echo "== CLI end to end, 100k, 256 runs"
for side in before after; do
  src=$([ $side = before ] && echo /tmp/df-before/src || echo src)
  for i in 1 2; do
    echo "-- $side $i load $(la)"
    PYTHONPATH=$src /usr/bin/time -f "$T" $PY -m carelens.cli.app demand run $S/params-sample.json \
        -d $S/nhp_synthetic -o /tmp/df_cli_$side --runs 256 2>&1 | grep -v warning | tail -2
  done
done
echo "== 100k side by side with NHP (256 carelens runs, 8 NHP runs: its 256 extrapolated), load $(la)"
PYTHONPATH=src $PY benchmarks/demand.py --params $S/params-sample.json --data $S/nhp_synthetic --runs 256 --nhp-runs 8 \
    --out benchmarks/results/demand_finish_peer_100k.json \
    2>&1 | grep -E "^speed|^carelens|^NHP|agree" | tail -8
echo "== 1M, 256 runs (demand.py --big --skip-peer), load $(la)"
for side in before after; do
  src=$([ $side = before ] && echo /tmp/df-before/src || echo src)
  echo "-- $side load $(la)"
  PYTHONPATH=$src $PY benchmarks/demand.py --big --skip-peer --params $BIG/params.json 2>&1 \
      | grep -E "^carelens|wall|peak" | tail -3
done
echo "-- after, CLI end to end at 1M, load $(la)"
PYTHONPATH=src /usr/bin/time -f "$T" $PY -m carelens.cli.app demand run $BIG/params.json -d $BIG -o /tmp/df_cli_1m \
    --runs 256 2>&1 | grep -v warning | tail -2
echo "== done $(date -u +%H:%M) load $(la)"
