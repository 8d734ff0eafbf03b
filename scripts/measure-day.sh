#!/usr/bin/env bash
# Measure a day-long replay (issue: a 24 h 1 Hz MSM7 stream to .pos + RINEX in under 30 s) and
# the QC report of the same day (under 10 s).
# A simulated day of 1 Hz MSM7 with ephemerides (166 MB) goes through `corsd replay` with the
# solution file and the RINEX observation and navigation files; wall time and peak memory are
# printed.
#
#   scripts/measure-day.sh [SECONDS]      (default 86400; builds the release binary if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-86400}
bin=target/release/corsd
[[ -x $bin ]] || cargo build --release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" simulate --msm 7 --noise --duration "$secs" -o "$work/day.rtcm3" 2>/dev/null
ls -l "$work/day.rtcm3"
/usr/bin/time -f "replay: %e s wall, %M kB peak RSS, %P CPU" \
    "$bin" replay "$work/day.rtcm3" --date 2026-03-01 --station VTE1 --country LAO \
    --pos "$work/day.pos" --rinex "$work"
ls -l "$work"
/usr/bin/time -f "report: %e s wall, %M kB peak RSS, %P CPU" \
    "$bin" report "$work/day.rtcm3" --date 2026-03-01 --station VTE1 -o "$work/day.html"
ls -l "$work/day.html"
