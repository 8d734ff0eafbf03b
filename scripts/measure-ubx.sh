#!/usr/bin/env bash
# Whole-process speed of turning a u-blox log into RINEX, in the same run: `corsd replay LOG
# --rinex DIR` (which also positions every epoch) against RTKLIB `convbin -r ubx -od -os -n`,
# and pyubx2 decoding every frame (scripts/bench-pyubx2.py, one pass), on the two real logs of
# the data set (the 3.0 MB cold-start log, the 1.0 MB F9T log). Each figure is the median of
# RUNS whole-process runs (wall clock, start-up included, outputs to a temporary directory),
# taken in turn so that a change in machine load hits all three; pyubx2 runs twice.
#
#   scripts/measure-ubx.sh [RUNS]      (default 10; CORSD_BIN=path to time another binary)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
data=${CORSD_TEST_DATA:-../shared/data}
bin=${CORSD_BIN:-target/release/corsd}
[[ -x $bin ]] || cargo build --release
command -v convbin >/dev/null || {
    echo "convbin not found: install RTKLIB (apt-get install rtklib)" >&2
    exit 1
}
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
    python3 - "$runs" "$bin replay $log --rinex $work/rinex-$name" \
        "convbin -r ubx -od -os -o $work/$name.obs -n $work/$name.nav $log" \
        "$py scripts/bench-pyubx2.py $log 1" <<'PY'
import statistics, subprocess, sys, time
runs, cmds = int(sys.argv[1]), sys.argv[2:]
times = [[] for _ in cmds]
for r in range(runs + 1):
    for i, c in enumerate(cmds):
        if i == 2 and r > 2:
            continue
        t0 = time.perf_counter()
        subprocess.run(c.split(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r > 0:
            times[i].append(time.perf_counter() - t0)
corsd, convbin, py = (statistics.median(t) for t in times)
print(f"median s: corsd {corsd:.3f}, convbin {convbin:.3f} ({convbin / corsd:.1f}x corsd), "
      f"pyubx2 decoding alone {py:.2f}")
PY
done
