#!/bin/bash
# the rest of benchmarks/results/demand_finish_commands.sh (its first run stopped at the 1M CLI step: the
# script was edited while it ran); the same commands
cd "$(git rev-parse --show-toplevel)"
PY=/work/main/.venv/bin/python
export CARELENS_SHARED_DATA=/work/shared/data
S=/work/shared/data/demand
BIG=benchmarks/.cache/synth_1000000_20261123_v2
la() { cut -d' ' -f1 /proc/loadavg; }
T="wall %e s, user %U s, sys %S s, max RSS %M KB"
echo "-- after, CLI end to end at 1M, load $(la)"
PYTHONPATH=src /usr/bin/time -f "$T" $PY -m carelens.cli.app demand run $BIG/params.json -d $BIG -o /tmp/df_cli_1m \
    --runs 256 2>&1 | grep -v warning | tail -2
echo "== 100k side by side with NHP (256 carelens runs, 8 NHP runs: its 256 extrapolated), load $(la)"
PYTHONPATH=src $PY benchmarks/demand.py --params $S/params-sample.json --data $S/nhp_synthetic --runs 256 --nhp-runs 8 \
    --out benchmarks/results/demand_finish_peer_100k.json 2>&1 | grep -E "^speed|^carelens|^NHP|agree|^peer" | tail -12
echo "== done $(date -u +%H:%M) load $(la)"
