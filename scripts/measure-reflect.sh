#!/usr/bin/env bash
# Measure `corsd reflect` on the ESBC day (2020-06-25, 24 h at 30 s, GRG SP3) against gnssrefl
# 4.2.3's whole process (rinex2snr + gnssir_input + gnssir) on the same day in the same run
# (issue: corsd at least 10× faster). gnssrefl runs offline in a scratch directory with the SP3
# where it looks for it; it gets the plain RINEX (it would call an external CRX2RNX for the
# Hatanaka file), corsd reads the .crx.gz itself.
#
#   scripts/measure-reflect.sh      (builds the release binary if needed; venv from scripts/test.sh --install)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${CORSD_TEST_DATA:-$(cd .. && pwd)/shared/data}
obs=$data/rinex/nav-solutions_data/ESBC00DNK_R_20201770000_01D_30S_MO.crx.gz
sp3=$data/products/nav-solutions_data/GRG0MGXFIN_20201770000_01D_15M_ORB.SP3.gz
bin=target/release/corsd
[[ -x $bin ]] || cargo build --release
[[ -x .venv/bin/gnssir ]] || { echo "gnssrefl missing: run scripts/test.sh --install" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/refl" "$work/orbits/2020/sp3" "$work/exe"
gzip -dc "$sp3" > "$work/orbits/2020/sp3/GRG0MGXFIN_20201770000_01D_15M_ORB.SP3"
rnx=$work/ESBC00DNK_R_20201770000_01D_30S_MO.rnx
.venv/bin/python -c 'import sys, hatanaka, pathlib; pathlib.Path(sys.argv[2]).write_bytes(hatanaka.decompress(pathlib.Path(sys.argv[1]).read_bytes()))' "$obs" "$rnx"

now() { date +%s.%N; }
t0=$(now)
for i in 1 2 3; do
  "$bin" reflect "$obs" --sp3 "$sp3" --azim 0,120,250,360 --json > "$work/corsd.json" 2> "$work/corsd.txt"
done
t1=$(now)
(
  cd "$work"
  export REFL_CODE=$work/refl ORBITS=$work/orbits EXE=$work/exe
  "$OLDPWD/.venv/bin/rinex2snr" -input_file "$rnx" -orb grg > r2s.log 2>&1
  "$OLDPWD/.venv/bin/gnssir_input" esbc -lat 55.4935627650526 -lon 8.456821388720853 -height 59.4765 \
      -allfreq T -Hortho 59.4765 > gi.log 2>&1
  "$OLDPWD/.venv/bin/gnssir" esbc 2020 177 > gir.log 2>&1
)
t2=$(now)
cat "$work/corsd.txt"
corsd_s=$(echo "($t1 - $t0) / 3" | bc -l)
gnssrefl_s=$(echo "$t2 - $t1" | bc -l)
printf 'corsd reflect: %.2f s (mean of 3)   gnssrefl rinex2snr + gnssir: %.2f s   ratio %.1fx\n' \
  "$corsd_s" "$gnssrefl_s" "$(echo "$gnssrefl_s / $corsd_s" | bc -l)"
printf 'arcs kept: corsd %d, gnssrefl %d\n' "$(wc -l < "$work/corsd.json")" \
  "$(grep -vc '^%' "$work/refl/2020/results/esbc/177.txt")"
