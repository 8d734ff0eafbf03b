#!/usr/bin/env bash
# Whole-process speed of `corsd rtk` against RTKLIB 2.4.3 `rnx2rtkp` on the real pair of the
# shared data set (rover STR1 = week-rollover-STR17, base STR2 = week-rollover-STR24, igs05.atx,
# kinematic, continuous AR), in the same run. Goal: corsd at least 10x the epochs per second.
#
# rnx2rtkp reads RINEX, which `corsd replay --rinex` writes here from the same recordings (it
# dates the epochs after the GPS week rollover correctly, which convbin does not); corsd reads
# the RTCM3 recordings themselves, decoding included. Both solve GPS+Galileo+QZSS+BeiDou (RTKLIB's
# navsys 57, RTKLIB-RTK.md's configuration); corsd is also timed with GLONASS added (float).
# Each figure is the median of RUNS whole-process runs, with hyperfine (apt-get install
# hyperfine), and is also given as CPU time (user + system), which a busy machine disturbs less.
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
command -v hyperfine >/dev/null || {
    echo "hyperfine not found: apt-get install hyperfine" >&2
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

names=(rnx2rtkp corsd-GECJ corsd-GRECJ)
cmds=("rnx2rtkp -x 0 -k $work/peer.conf -o $work/peer.pos $work/r/*_MO.rnx $work/b/*_MO.rnx $work/r/*_MN.rnx $work/b/*_MN.rnx"
    "$bin rtk $rover --base $base --base-pos=$base_pos --atx $atx --systems GECJ --pos $work/corsd-gecj.pos"
    "$bin rtk $rover --base $base --base-pos=$base_pos --atx $atx --pos $work/corsd.pos")
args=()
for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
hyperfine -N --warmup 1 --runs "$runs" --style basic --export-json "$work/times.json" "${args[@]}" >&2

epochs() { grep -vc '^%' "$1"; }
python3 - "$work/times.json" "$(epochs "$work/peer.pos")" "$(epochs "$work/corsd-gecj.pos")" "$(epochs "$work/corsd.pos")" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
eps = [int(x) for x in sys.argv[2:5]]
print("| program | epochs | median wall s | epochs/s (wall) | CPU s | epochs/s (CPU) |")
print("|---|---|---|---|---|---|")
rate = []
for r, n in zip(res, eps):
    cpu = r["user"] + r["system"]
    rate.append((n / r["median"], n / cpu))
    print(f"| {r['command']} | {n} | {r['median']:.3f} | {n / r['median']:.0f} | {cpu:.3f} | {n / cpu:.0f} |")
for i in (1, 2):
    print(f"{res[i]['command']}: {rate[i][0] / rate[0][0]:.1f}x rnx2rtkp's epochs/s (wall), {rate[i][1] / rate[0][1]:.1f}x (CPU)")
PY
