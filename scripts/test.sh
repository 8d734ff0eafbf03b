#!/usr/bin/env bash
# Install what the tests need (idempotent: only what is missing), then run every test.
#
#   scripts/test.sh              install + cargo test over all targets (every binary runs, failures summed)
#   scripts/test.sh --install    install only
#   scripts/test.sh -- ARGS      extra arguments for cargo test (e.g. -- --test framing)
#
# Installs, on Debian: rtklib (str2str, convbin, rnx2rtkp), socat, victoria-metrics, influxdb 1.x,
# gpsd-clients (gpsdecode), ncompress (compress: .Z files to read back), chromium (headless, for the status page), python3-venv; and a venv in .venv with pyrtcm, pygnssutils, pyubx2 and hatanaka
# (the independent decoder, NTRIP client and CRX2RNX the tests compare against) and gnssrefl 4.2.3
# (the reflectometry `corsd reflect` is compared with; pure Python, runs offline on local orbits). The real recordings
# are read from ../shared/data (or $CORSD_TEST_DATA); they are never copied into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."

install_only=0
extra=()
while (($#)); do
  case $1 in
    --install) install_only=1 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "usage: scripts/test.sh [--install] [-- cargo-test-args...]" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '[test.sh] %s\n' "$*" >&2; }

# ---- Debian packages: program -> package
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have str2str          || need+=(rtklib)
have socat            || need+=(socat)
have victoria-metrics || [[ -x /usr/bin/victoria-metrics ]] || need+=(victoria-metrics)
have influxd          || [[ -x /usr/bin/influxd ]] || need+=(influxdb)
have gpsdecode        || need+=(gpsd-clients)
have compress         || need+=(ncompress)
have curl             || need+=(curl)
have chromium         || need+=(chromium fonts-dejavu-core)  # a font, or the page renders no text
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
if ((${#need[@]})); then
  sudo=()
  if [[ $(id -u) != 0 ]]; then
    have sudo || { log "need root (or sudo) to install: ${need[*]}"; exit 1; }
    sudo=(sudo)
  fi
  log "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# ---- Python oracle venv
PY_PKGS=(pyrtcm==1.2.1 pygnssutils==1.3.1 pyubx2==1.4.0 hatanaka==2.8.1)
if ! .venv/bin/python -c 'import pyrtcm, pygnssutils, pyubx2, hatanaka' 2>/dev/null; then
  log "creating .venv with ${PY_PKGS[*]}"
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check "${PY_PKGS[@]}"
fi
if ! .venv/bin/python -c 'import gnssrefl' 2>/dev/null; then
  log "installing gnssrefl==4.2.3 into .venv"
  .venv/bin/pip install -q --disable-pip-version-check gnssrefl==4.2.3
fi

((install_only)) && exit 0

# ---- test data
export CORSD_TEST_DATA=${CORSD_TEST_DATA:-$(cd .. && pwd)/shared/data}
[[ -f $CORSD_TEST_DATA/MANIFEST.md ]] || {
  log "test data not found at $CORSD_TEST_DATA: put the shared data beside the repository or set CORSD_TEST_DATA"
  exit 1
}

log "cargo test (data: $CORSD_TEST_DATA)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
cargo test --locked --all-targets --no-fail-fast "${extra[@]}" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
# One closing line over all test binaries (cargo prints one result line per binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$out"
exit "$status"
