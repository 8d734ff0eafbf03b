#!/usr/bin/env bash
# Measure the live daemon's CPU and memory on a 1 Hz MSM7 station stream (issue: ≤ 1 % of one
# core, ≤ 30 MB RSS). A simulated 1 Hz MSM7 stream with ephemerides is replayed in real time
# (speed 1) through `corsd run`: framing, decoding, SPP, time series to files, raw archive and
# hourly RINEX — everything the daemon does per epoch.
#
#   scripts/measure-live.sh [SECONDS]      (default 120; builds the release binary if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-120}
bin=target/release/corsd
[[ -x $bin ]] || cargo build --release
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$bin" simulate --msm 7 --noise --duration $((secs + 120)) -o "$work/msm7.rtcm3" 2>/dev/null
cat >"$work/corsd.toml" <<TOML
data_dir = "$work"
[station]
name = "VTE1"
position = { x = -1327313.145, y = 5921985.503, z = 1955881.955 }
[[source]]
kind = "file"
name = "receiver"
path = "$work/msm7.rtcm3"
speed = 1.0
date = "2026-03-01"
[health]
listen = "127.0.0.1:0"
[archive]
TOML
"$bin" run -c "$work/corsd.toml" 2>"$work/log" &
pid=$!
sleep 10   # start-up and the first ephemerides
hz=$(getconf CLK_TCK)
read -r u0 s0 < <(awk '{print $14, $15}' /proc/$pid/stat)
sleep "$secs"
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$pid/stat)
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
cpu=$(echo "scale=3; 100 * ($u1 + $s1 - $u0 - $s0) / $hz / $secs" | bc)
echo "corsd run, 1 Hz MSM7 (5 GNSS), ${secs} s: CPU ${cpu} % of one core, RSS $((rss / 1024)) MB (peak $((hwm / 1024)) MB)"
