#!/usr/bin/env bash
# Measure what the integrity monitor costs the live daemon (issue: ≤ 2 % of one core and
# ≤ 5 MB of memory at 1 Hz with one check receiver). `corsd run` replays base STR2
# (week-rollover-STR24, 1 Hz MSM4) as the station source with a caster mount, twice on the same
# data: without a monitor, then with STR1 (week-rollover-STR17, 1 Hz MSM7) as the check receiver
# solved against the mount. Per run: VmHWM (peak) and the median of VmRSS sampled every 5 s
# over the second half (steady), from /proc; CPU as utime+stime per hour of data.
#
#   scripts/measure-monitor.sh [SPEED]   (default 1: real time, 19 min per run; the CPU per
#                                         data hour does not depend on the pace)
set -euo pipefail
cd "$(dirname "$0")/.."
speed=${1:-1}
data=${CORSD_TEST_DATA:-../shared/data}
data=$(cd "$data" && pwd)
base=$data/rtcm3/swift-nav_gnss-converters/week-rollover-STR24.rtcm3
check=$data/rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3
atx=$data/antex/tomojitakasu_RTKLIB/igs05.atx
span_s=1148 # both recordings: 19 min 8 s
bin=${CORSD_BIN:-target/release/corsd}
[[ -x $bin ]] || cargo build --release
work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
hz=$(getconf CLK_TCK)

run() { # $1: with or without
	local dir=$work/$1
	mkdir -p "$dir"
	cat >"$dir/corsd.toml" <<TOML
data_dir = "$dir"
[station]
name = "STR2"
position = { x = -4467075.2780, y = 2683011.8519, z = -3667007.0103 }
antenna = "LEIAR25.R3      NONE"
atx = "$atx"
[[source]]
kind = "file"
name = "rx"
path = "$base"
speed = $speed
[health]
listen = "127.0.0.1:0"
[[caster]]
listen = "127.0.0.1:0"
[[caster.mount]]
name = "STR2_MSM4"
messages = "1006(10),1008(10),1019,1020,1042,1044,1045,1046,1230(10),1074(1),1084(1),1094(1),1124(1)"
TOML
	if [[ $1 == with ]]; then
		cat >>"$dir/corsd.toml" <<TOML
[[monitor]]
name = "STR1"
mount = "STR2_MSM4"
position = { x = -4467103.2326, y = 2683039.4771, z = -3666948.7128 }
max_wait_s = 20
[monitor.source]
kind = "file"
path = "$check"
speed = $speed
TOML
	fi
	"$bin" run -c "$dir/corsd.toml" 2>"$dir/log" &
	pid=$!
	local secs n=0
	secs=$(echo "$span_s / $speed" | bc)
	: >"$dir/rss"
	while ((n * 5 < secs)); do
		sleep 5
		n=$((n + 1))
		((n * 5 > secs / 2)) && awk '/VmRSS/ {print $2}' /proc/$pid/status >>"$dir/rss"
	done
	local u s hwm rss
	read -r u s < <(awk '{print $14, $15}' /proc/$pid/stat)
	hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
	rss=$(sort -n "$dir/rss" | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
	local cpu_h
	cpu_h=$(echo "scale=1; ($u + $s) / $hz * 3600 / $span_s" | bc)
	echo "$1 monitor: VmHWM $((hwm / 1024)) MB, steady VmRSS $((rss / 1024)) MB ($rss kB), CPU $cpu_h s per data hour"
	echo "$1 $hwm $rss $cpu_h" >>"$work/figures"
}

run without
run with
awk '
	$1 == "without" { h0 = $2; r0 = $3; c0 = $4 }
	$1 == "with" { h1 = $2; r1 = $3; c1 = $4 }
	END {
		printf "the monitor adds: VmHWM %+.1f MB, steady VmRSS %+.1f MB, CPU %+.1f s per data hour = %.2f %% of one core at 1 Hz\n",
			(h1 - h0) / 1024, (r1 - r0) / 1024, c1 - c0, (c1 - c0) / 36
	}' "$work/figures"
