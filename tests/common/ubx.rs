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
    // gpsd's regression log of a NEO-M8T (RAWX of the M8 generation), after its comment header.
    ("ubx/gpsd/ublox-neo-m8t.log", 314),
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
from pyubx2.exceptions import UBXStreamError
def attrs(m):
    return {k: v for k, v in m.__dict__.items() if not k.startswith('_')}
def frames(r):
    try:
        yield from r
    except UBXStreamError as e:
        # A recording cut inside its last frame.
        print(f"end of stream inside a frame: {e}", file=sys.stderr)
with open(sys.argv[1], 'rb') as f:
    # quitonerror=2: a frame pyubx2 cannot parse stops the test instead of vanishing.
    r = UBXReader(f, protfilter=UBX_PROTOCOL, quitonerror=2)
    for raw, m in frames(r):
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

/// A text file, gunzipped when it is gzip.
fn read_text(path: &Path) -> String {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return String::from_utf8(raw).unwrap();
    }
    let mut s = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&raw[..]), &mut s).unwrap();
    s
}

/// A RINEX 3 observation file read for comparison: per epoch (ms since the GPS epoch), per
/// satellite (`G05`), per observation type (`C1C`) the value and its loss-of-lock indicator.
#[derive(Debug, Default)]
pub struct ObsFile {
    pub types: std::collections::BTreeMap<char, Vec<String>>,
    pub epochs: std::collections::BTreeMap<i64, ObsEpoch>,
}

pub type ObsEpoch =
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, (f64, u8)>>;

/// Read a RINEX 3 observation file (plain or gzipped) with nothing of corsd's.
pub fn read_rinex_obs(path: &Path) -> ObsFile {
    let text = read_text(path);
    let mut f = ObsFile::default();
    let mut lines = text.lines();
    let mut last_sys = ' ';
    for l in lines.by_ref() {
        let label = l.get(60..).unwrap_or("").trim();
        if label == "SYS / # / OBS TYPES" {
            let sys = l.chars().next().unwrap_or(' ');
            if sys != ' ' {
                last_sys = sys;
            }
            let list = f.types.entry(last_sys).or_default();
            list.extend(l[7..60].split_whitespace().map(str::to_string));
        }
        if label == "END OF HEADER" {
            break;
        }
    }
    let mut current: Option<i64> = None;
    for l in lines {
        if let Some(rest) = l.strip_prefix('>') {
            let v: Vec<&str> = rest.split_whitespace().collect();
            let n = |i: usize| v[i].parse::<f64>().unwrap();
            let date =
                chrono::NaiveDate::from_ymd_opt(n(0) as i32, n(1) as u32, n(2) as u32).unwrap();
            let days = (date - chrono::NaiveDate::from_ymd_opt(1980, 1, 6).unwrap()).num_days();
            let ms = days * 86_400_000
                + ((n(3) * 3600.0 + n(4) * 60.0) * 1000.0) as i64
                + (n(5) * 1000.0).round() as i64;
            f.epochs.entry(ms).or_default();
            current = Some(ms);
            continue;
        }
        let (Some(t), Some(sat)) = (current, l.get(0..3)) else {
            continue;
        };
        let sys = sat.chars().next().unwrap_or(' ');
        let Some(types) = f.types.get(&sys) else {
            continue;
        };
        let sat = sat.replace(' ', "0");
        let mut obs = std::collections::BTreeMap::new();
        for (k, ty) in types.iter().enumerate() {
            let start = 3 + 16 * k;
            let Some(field) = l.get(start..(start + 16).min(l.len())) else {
                break;
            };
            let value = field.get(..14.min(field.len())).unwrap_or("").trim();
            if value.is_empty() {
                continue;
            }
            let lli = field
                .get(14..15)
                .and_then(|c| c.trim().parse::<u8>().ok())
                .unwrap_or(0);
            obs.insert(ty.clone(), (value.parse::<f64>().unwrap(), lli));
        }
        f.epochs.get_mut(&t).unwrap().insert(sat, obs);
    }
    f
}

/// RTKLIB 2.4.3's `convbin` from a UBX file to RINEX 3.04 observations with Doppler and C/N0
/// (and navigation into `nav` when given).
pub fn convbin_ubx(input: &Path, obs: &Path, nav: Option<&Path>) {
    let mut cmd = std::process::Command::new(super::servers::require("convbin", "rtklib"));
    cmd.args(["-r", "ubx", "-v", "3.04", "-od", "-os", "-o"])
        .arg(obs);
    if let Some(nav) = nav {
        cmd.arg("-n").arg(nav);
    }
    let out = cmd.arg(input).output().expect("start convbin");
    assert!(
        out.status.success(),
        "convbin -r ubx {}: {}",
        input.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every epoch corsd makes from a UBX recording, written by corsd's RINEX writer into `dir`;
/// the file's path and the receiver state at the end.
pub fn corsd_rinex(dir: &Path, rel: &str) -> (PathBuf, corsd::messages::ubx::UbxReceiver) {
    use corsd::messages::ubx::{self, UbxEvent, UbxReceiver};
    let data = read_ubx(rel);
    let mut framer = corsd::framing::Framer::new();
    framer.push(&data);
    framer.finish();
    let mut rx = UbxReceiver::new(None);
    let station = corsd::rinex::write::StationInfo {
        name: "UBX1".into(),
        ..Default::default()
    };
    let mut w = corsd::rinex::write::ObsWriter::create(dir, station, "").unwrap();
    while let Some(f) = framer.next_frame() {
        let Ok(m) = ubx::decode_frame(f.bytes) else {
            continue;
        };
        if let Some(UbxEvent::Epoch(e)) = rx.push(&m) {
            w.write(&e).unwrap();
        }
    }
    let path = w.close().unwrap().expect("epochs written");
    (path, rx)
}

/// One record of a RINEX 3 navigation file: the satellite (`G05`), its epoch (as written,
/// year … second) and every number after it in order (blank fields `None`).
#[derive(Clone, Debug)]
pub struct NavRec {
    pub sat: String,
    pub epoch: [i64; 6],
    pub values: Vec<Option<f64>>,
}

/// Read the records of a RINEX 3 navigation file (plain or gzipped) with nothing of corsd's.
pub fn read_rinex_nav(path: &Path) -> Vec<NavRec> {
    let text = read_text(path);
    let num = |f: &str| {
        let f = f.trim();
        (!f.is_empty()).then(|| f.replace(['D', 'd'], "E").parse::<f64>().unwrap())
    };
    let fields = |l: &str, from: usize| -> Vec<Option<f64>> {
        (0..4)
            .map(|k| from + 19 * k)
            .take_while(|&s| s < l.len())
            .map(|s| num(&l[s..(s + 19).min(l.len())]))
            .collect()
    };
    let mut out: Vec<NavRec> = Vec::new();
    let mut in_header = true;
    for l in text.lines() {
        if in_header {
            in_header = !l.get(60..).unwrap_or("").starts_with("END OF HEADER");
            continue;
        }
        if l.starts_with(|c: char| c.is_ascii_uppercase()) {
            let e: Vec<i64> = l[4..23]
                .split_whitespace()
                .map(|x| x.parse().unwrap())
                .collect();
            out.push(NavRec {
                sat: l[..3].replace(' ', "0"),
                epoch: [e[0], e[1], e[2], e[3], e[4], e[5]],
                values: fields(l, 23),
            });
        } else if let Some(r) = out.last_mut() {
            r.values.extend(fields(l, 4));
        }
    }
    out
}
