//! The u-blox recordings and pyubx2 (the independent decoder from PyPI), for the UBX tests.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The UBX recordings: path in the data set, and the bytes before the first frame that belong
/// to no frame (the F9T capture starts with gpsd's JSON greeting).
pub const UBX_FILES: &[(&str, u64)] = &[
    (
        "ubx/nav-solutions_data/16dBatt_no_interference_coldstart.ubx.gz",
        0,
    ),
    ("ubx/nav-solutions_data/F9T-L2-5min.ubx.gz", 644),
    ("ubx/semuconsulting_pyubx2/pygpsdata-RXMRAWX.log", 0),
];

pub const COLDSTART: &str = "ubx/nav-solutions_data/16dBatt_no_interference_coldstart.ubx.gz";
pub const F9T: &str = "ubx/nav-solutions_data/F9T-L2-5min.ubx.gz";
pub const RAWX_LOG: &str = "ubx/semuconsulting_pyubx2/pygpsdata-RXMRAWX.log";
/// gpsd's ZED-F9P log with GPS, Galileo, BeiDou and GLONASS SFRBX.
pub const GPSD_F9P_SFRBX: &str = "ubx/gpsd/ublox-zed-f9p-sfrbx.log";

/// A recording's bytes, gunzipped when it ends in `.gz`.
pub fn read_ubx(rel: &str) -> Vec<u8> {
    let raw = super::read_data(rel);
    if !rel.ends_with(".gz") {
        return raw;
    }
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&raw[..]), &mut out)
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
    out
}

/// A recording written out as a plain file in `dir` (for the peer programs), its path.
pub fn plain_copy(dir: &Path, rel: &str) -> PathBuf {
    let name = Path::new(rel)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("input")
        .trim_end_matches(".gz")
        .to_string();
    let p = dir.join(name);
    std::fs::write(&p, read_ubx(rel)).unwrap();
    p
}

/// pyubx2's decode of every UBX frame of a file, found by pyubx2's own reader: one JSON object
/// per frame with `class`, `id`, `len`, `identity` and its attributes. Bitfields come twice:
/// parsed into their named bits, and whole (as an integer, little-endian) under their own name.
pub fn pyubx2_decode(path: &Path) -> Vec<Value> {
    let script = r#"
import sys, json
from pyubx2 import UBXReader, UBX_PROTOCOL
def attrs(m):
    return {k: v for k, v in m.__dict__.items() if not k.startswith('_')}
with open(sys.argv[1], 'rb') as f:
    # quitonerror=2: a frame pyubx2 cannot parse stops the test instead of vanishing.
    r = UBXReader(f, protfilter=UBX_PROTOCOL, quitonerror=2)
    for raw, m in r:
        d = {'class': raw[2], 'id': raw[3], 'len': len(raw) - 8, 'identity': m.identity}
        d.update({k: v for k, v in attrs(m).items() if not isinstance(v, bytes)})
        try:
            whole = UBXReader.parse(raw, parsebitfield=False)
            d.update({k: int.from_bytes(v, 'little') for k, v in attrs(whole).items() if isinstance(v, bytes)})
        except Exception as e:
            # pyubx2 1.4.0 cannot read SEC-OSNMA's bitfields whole; its bits are above.
            d['whole_error'] = str(e)
        print(json.dumps(d))
"#;
    let out = std::process::Command::new(super::venv_python())
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("start the venv python");
    assert!(
        out.status.success(),
        "pyubx2 failed on {}: {} (scripts/test.sh installs pyubx2 into .venv)",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("pyubx2 JSON"))
        .collect()
}
