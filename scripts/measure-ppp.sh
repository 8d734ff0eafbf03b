#!/usr/bin/env bash
# Whole-process speed of `corsd survey` (PPP-static) against RTKLIB 2.4.3 `rnx2rtkp` ppp-static on
# the real ESBC day of the shared data set (2020-06-25, 24 h at 30 s, GPS, GRG final orbits of
# days 176+177 and 30 s clocks, igs05.atx), in the same run, with RTKLIB-RTK.md's options.
# Goal: corsd in at most a tenth of rnx2rtkp's time.
#
# rnx2rtkp reads plain RINEX and products, written here once (it cannot read Hatanaka, and it
# decompresses .gz next to the input); corsd reads the compressed Hatanaka file and the gzipped
# products themselves, decompression and CRINEX decoding included. Each figure is the median of
# RUNS whole-process runs after one warm-up (wall clock, and CPU time user + system).
#
#   scripts/measure-ppp.sh [RUNS]      (default 5; builds the release binary if needed)
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
obs=$data/rinex/nav-solutions_data/ESBC00DNK_R_20201770000_01D_30S_MO.crx.gz
nav=$data/rinex/nav-solutions_data/ESBC00DNK_R_20201770000_01D_MN.rnx.gz
p=$data/products/nav-solutions_data
sp3a=$p/GRG0MGXFIN_20201760000_01D_15M_ORB.SP3.gz
sp3b=$p/GRG0MGXFIN_20201770000_01D_15M_ORB.SP3.gz
clk=$p/GRG0MGXFIN_20201770000_01D_30S_CLK.CLK.gz
atx=$data/antex/tomojitakasu_RTKLIB/igs05.atx
for f in "$obs" "$nav" "$sp3a" "$sp3b" "$clk" "$atx"; do
    [[ -r $f ]] || {
        echo "missing $f: set CORSD_TEST_DATA to the shared data set" >&2
        exit 1
    }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
crx=$(command -v crx2rnx || true)
[[ -z $crx && -x .venv/bin/crx2rnx ]] && crx=.venv/bin/crx2rnx
[[ -n $crx ]] || {
    echo "crx2rnx not found (pip install hatanaka, or RNXCMP): rnx2rtkp needs plain RINEX" >&2
    exit 1
}
zcat "$obs" | "$crx" - >"$work/esbc.obs"
zcat "$nav" >"$work/esbc.nav"
zcat "$sp3a" >"$work/a.sp3"
zcat "$sp3b" >"$work/b.sp3"
zcat "$clk" >"$work/c.clk"
cat >"$work/ppp.conf" <<CONF
pos1-posmode=ppp-static
pos1-frequency=l1+2
pos1-elmask=10
pos1-navsys=1
pos1-ionoopt=dual-freq
pos1-tropopt=est-ztd
pos1-tidecorr=1
pos1-sateph=precise
pos1-posopt1=on
pos1-posopt2=on
pos1-posopt3=on
pos1-posopt4=on
pos2-armode=off
ant1-anttype=*
out-solformat=xyz
file-satantfile=$atx
file-rcvantfile=$atx
CONF

# median of the whole-process wall and CPU seconds of a command over $runs runs, after one
# warm-up; microsecond clocks (time(1) prints hundredths, a tenth of a corsd run)
measure() {
    python3 - "$runs" "$@" <<'PY'
import resource, statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
def run():
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
run()
walls, cpus = zip(*(run() for _ in range(runs)))
print(f"{statistics.median(walls):.3f} {statistics.median(cpus):.3f}")
PY
}
read -r cw cc < <(measure "$bin" survey "$obs" --sp3 "$sp3a" "$sp3b" --clk "$clk" --atx "$atx" \
    --sat-antex outdated-ok --json)
read -r rw rc < <(measure rnx2rtkp -k "$work/ppp.conf" -o "$work/r.pos" "$work/esbc.obs" \
    "$work/esbc.nav" "$work/a.sp3" "$work/b.sp3" "$work/c.clk")
echo "corsd survey (release, reads CRINEX.gz): wall $cw s, CPU $cc s"
echo "rnx2rtkp ppp-static (plain RINEX):       wall $rw s, CPU $rc s"
awk -v a="$rw" -v b="$cw" -v c="$rc" -v d="$cc" \
    'BEGIN {printf "rnx2rtkp / corsd: %.1fx by wall clock, %.1fx by CPU time\n", a/b, c/d}'
