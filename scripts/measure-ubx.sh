#!/usr/bin/env bash
# Whole-process speed of turning a u-blox log into RINEX, in the same run: `corsd replay LOG
# --rinex DIR` (which also positions every epoch) against RTKLIB `convbin -r ubx -od -os -n`,
# and pyubx2 decoding every frame (scripts/bench-pyubx2.py, one pass), on the two real logs of
# the data set (the 3.0 MB cold-start log, the 1.0 MB F9T log). Each figure is the median of
# RUNS whole-process runs with hyperfine (apt-get install hyperfine); pyubx2 runs twice.
#
#   scripts/measure-ubx.sh [RUNS]      (default 10; CORSD_BIN=path to time another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
data=${CORSD_TEST_DATA:-../shared/data}
bin=${CORSD_BIN:-target/release/corsd}
[[ -x $bin ]] || cargo build --release
for p in convbin hyperfine; do
    command -v $p >/dev/null || {
        echo "$p not found: apt-get install ${p/convbin/rtklib}" >&2
        exit 1
    }
done
py=.venv/bin/python
[[ -x $py ]] || {
    echo "no .venv with pyubx2: scripts/test.sh makes it" >&2
    exit 1
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for name in 16dBatt_no_interference_coldstart F9T-L2-5min; do
    src=$data/ubx/nav-solutions_data/$name.ubx.gz
    [[ -r $src ]] || {
        echo "missing $src: set CORSD_TEST_DATA to the shared data set" >&2
        exit 1
    }
    log=$work/$name.ubx
    gunzip -c "$src" >"$log"
    mkdir -p "$work/rinex-$name"
    echo "== $name: $(stat -c %s "$log") bytes"
    hyperfine -N --warmup 1 --runs "$runs" --style basic --export-json "$work/$name.json" \
        -n corsd "$bin replay $log --rinex $work/rinex-$name" \
        -n convbin "convbin -r ubx -od -os -o $work/$name.obs -n $work/$name.nav $log"
    hyperfine -N --runs 2 --style basic --export-json "$work/$name-py.json" \
        -n pyubx2 "$py scripts/bench-pyubx2.py $log 1"
    python3 - "$work/$name.json" "$work/$name-py.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for f in sys.argv[1:] for x in json.load(open(f))["results"]}
print(f"median s: corsd {r['corsd']:.3f}, convbin {r['convbin']:.3f} "
      f"({r['convbin'] / r['corsd']:.1f}x corsd), pyubx2 decoding alone {r['pyubx2']:.2f}")
PY
done
