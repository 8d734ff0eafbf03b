#!/usr/bin/env bash
# Whole-process speed of `corsd rtk` against RTKLIB 2.4.3 `rnx2rtkp` on the real pair of the
# shared data set (rover STR1 = week-rollover-STR17, base STR2 = week-rollover-STR24, igs05.atx,
# kinematic, continuous AR), in the same run. Goal: corsd at least 10x the epochs per second.
#
# rnx2rtkp reads RINEX, which `corsd replay --rinex` writes here from the same recordings (it
# dates the epochs after the GPS week rollover correctly, which convbin does not); corsd reads
# the RTCM3 recordings themselves, decoding included. Both solve GPS+Galileo+QZSS+BeiDou (RTKLIB's
# navsys 57, RTKLIB-RTK.md's configuration); corsd is also timed with GLONASS added (float).
# Each figure is the median of RUNS whole-process runs after one warm-up (wall clock, and CPU time
# user + system, which a busy machine disturbs less).
#
#   scripts/measure-rtk.sh [RUNS]      (default 5; builds the release binary if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
data=${CORSD_TEST_DATA:-../shared/data}
bin=target/release/corsd
[[ -x $bin ]] || cargo build --release
command -v rnx2rtkp >/dev/null || {
    echo "rnx2rtkp not found: install RTKLIB (apt-get install rtklib)" >&2
    exit 1
}
src=$data/rtcm3/swift-nav_gnss-converters
rover=$src/week-rollover-STR17.rtcm3
base=$src/week-rollover-STR24.rtcm3
atx=$data/antex/tomojitakasu_RTKLIB/igs05.atx
for f in "$rover" "$base" "$atx"; do
    [[ -r $f ]] || {
        echo "missing $f: set CORSD_TEST_DATA to the shared data set" >&2
        exit 1
    }
done
base_pos=-4467075.2780,2683011.8519,-3667007.0103

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" replay --station STR1 --rinex "$work/r" "$rover" >/dev/null 2>&1
"$bin" replay --station STR2 --rinex "$work/b" "$base" >/dev/null 2>&1
cat >"$work/peer.conf" <<CONF
pos1-posmode=kinematic
pos1-frequency=l1+2
pos1-soltype=forward
pos1-elmask=10
pos1-navsys=57
pos2-armode=continuous
pos2-gloarmode=off
pos2-bdsarmode=on
ant1-anttype=*
ant2-anttype=*
ant2-postype=xyz
ant2-pos1=-4467075.2780
ant2-pos2=2683011.8519
ant2-pos3=-3667007.0103
file-satantfile=$atx
file-rcvantfile=$atx
out-solformat=xyz
CONF

python3 - "$runs" "$work" "$bin" "$rover" "$base" "$base_pos" "$atx" <<'PY'
import glob, resource, statistics, subprocess, sys, time
runs, work, bin_, rover, base, base_pos, atx = sys.argv[1:8]
runs = int(runs)
rnx = lambda d, s: glob.glob(f"{work}/{d}/*_{s}.rnx")[0]
cmds = {
    "rnx2rtkp 2.4.3 (GECJ)": ["rnx2rtkp", "-x", "0", "-k", f"{work}/peer.conf", "-o", f"{work}/peer.pos",
                              rnx("r", "MO"), rnx("b", "MO"), rnx("r", "MN"), rnx("b", "MN")],
    "corsd rtk (GECJ)": [bin_, "rtk", rover, "--base", base, f"--base-pos={base_pos}", "--atx", atx,
                         "--systems", "GECJ", "--pos", f"{work}/corsd-gecj.pos"],
    "corsd rtk (GRECJ, GLONASS float)": [bin_, "rtk", rover, "--base", base, f"--base-pos={base_pos}",
                                         "--atx", atx, "--pos", f"{work}/corsd.pos"],
}
def run(cmd):
    # getrusage counts microseconds; os.times() only clock ticks (10 ms), a twentieth of a run.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu
print("| program | epochs | median wall s | epochs/s (wall) | median CPU s | epochs/s (CPU) |")
print("|---|---|---|---|---|---|")
rates = []
for name, cmd in cmds.items():
    run(cmd)  # warm-up: files in the page cache
    walls, cpus = zip(*(run(cmd) for _ in range(runs)))
    pos = cmd[cmd.index("-o") + 1] if "-o" in cmd else cmd[cmd.index("--pos") + 1]
    n = sum(1 for l in open(pos) if not l.startswith("%"))
    w, c = statistics.median(walls), statistics.median(cpus)
    rates.append((n / w, n / c))
    print(f"| {name} | {n} | {w:.3f} | {n / w:.0f} | {c:.3f} | {n / c:.0f} |")
for (name, _), r in list(zip(cmds.items(), rates))[1:]:
    print(f"{name}: {r[0] / rates[0][0]:.1f}x rnx2rtkp's epochs/s (wall), {r[1] / rates[0][1]:.1f}x (CPU)")
PY
