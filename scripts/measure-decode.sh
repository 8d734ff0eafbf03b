#!/usr/bin/env bash
# Whole-process speed of `corsd decode` (text lines and --json) against RTKLIB `convbin`
# converting the same bytes to RINEX, in the same run. Goal: text at least 3x and JSON at least
# 1.5x as fast as convbin.
#
# The input is made here, in a temporary directory, from the real MSM recordings of the shared
# data set (swift-nav STR24/STR17 and sept, MSM4 and MSM7 of five GNSS with their ephemerides and
# station messages), concatenated over and over up to 46.7 MB. Every program reads the same file;
# corsd's output and convbin's RINEX go to /dev/null, so that only the work is timed, not a disk.
# Each figure is the median of RUNS whole-process runs (start-up included), with hyperfine when it
# is installed (apt-get install hyperfine), else with /usr/bin/time in turn.
#
#   scripts/measure-decode.sh [RUNS]      (default 5; builds the release binary if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
data=${CORSD_TEST_DATA:-../shared/data}
bin=target/release/corsd
[[ -x $bin ]] || cargo build --release
command -v convbin >/dev/null || {
    echo "convbin not found: install RTKLIB (apt-get install rtklib)" >&2
    exit 1
}
src=$data/rtcm3/swift-nav_gnss-converters
inputs=("$src/dropped-packets-STR24.rtcm3" "$src/week-rollover-STR24.rtcm3"
    "$src/week-rollover-STR17.rtcm3" "$src/sept.rtcm")
for f in "${inputs[@]}"; do
    [[ -r $f ]] || {
        echo "missing $f: set CORSD_TEST_DATA to the shared data set" >&2
        exit 1
    }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
in=$work/msm.rtcm3
want=46700000
: >"$in"
while (($(stat -c %s "$in") < want)); do
    for f in "${inputs[@]}"; do
        (($(stat -c %s "$in") < want)) && cat "$f" >>"$in"
    done
done
bytes=$(stat -c %s "$in")
echo "input: $bytes bytes of RTCM3 ($(basename -a "${inputs[@]}" | paste -sd " "))"

names=(convbin text json)
cmds=("convbin -r rtcm3 -o /dev/null -n /dev/null $in"
    "$bin decode $in"
    "$bin decode --json $in")

medians=()
if command -v hyperfine >/dev/null; then
    args=()
    for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
    hyperfine -N --warmup 1 --runs "$runs" --style basic --export-json "$work/times.json" "${args[@]}"
    for i in "${!names[@]}"; do
        medians+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["median"])' "$work/times.json" "$i")")
    done
else
    # In turn (convbin, text, json, convbin, …) so that a change in machine load hits all three.
    for ((r = 0; r <= runs; r++)); do
        for i in "${!names[@]}"; do
            # shellcheck disable=SC2086 # the command lines are split on purpose
            /usr/bin/time -f %e -o "$work/t" ${cmds[$i]} >/dev/null 2>&1
            ((r > 0)) && cat "$work/t" >>"$work/${names[$i]}"
        done
    done
    for i in "${!names[@]}"; do
        medians+=("$(sort -n "$work/${names[$i]}" | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}')")
    done
fi

echo
printf '%-8s %10s %10s %14s\n' "" "median s" "MB/s" "convbin/this"
for i in "${!names[@]}"; do
    awk -v n="${names[$i]}" -v t="${medians[$i]}" -v c="${medians[0]}" -v b="$bytes" \
        'BEGIN { printf "%-8s %10.3f %10.1f %13.2fx\n", n, t, b / t / 1e6, c / t }'
done
