//! Shared helpers for the integration tests: where the real recordings are, and an independent
//! frame splitter (rtcm-rs's) so that decoder tests do not depend on our own framer.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod servers;
pub mod ubx;

/// `../shared/data` beside the repository, or `CORSD_TEST_DATA`. A missing directory fails the
/// test with instructions: these recordings are the ground truth and are never skipped.
pub fn data_dir() -> PathBuf {
    let dir = std::env::var_os("CORSD_TEST_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    assert!(
        dir.join("MANIFEST.md").is_file(),
        "test data not found at {}: check out the shared data beside the repository \
         (../shared/data) or set CORSD_TEST_DATA to its path",
        dir.display()
    );
    dir
}

pub fn data_file(rel: &str) -> PathBuf {
    data_dir().join(rel)
}

pub fn read_data(rel: &str) -> Vec<u8> {
    let p = data_file(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// Every file in the data set that carries RTCM3 frames (pure or mixed with NMEA/UBX/HTTP).
pub const RTCM_FILES: &[&str] = &[
    "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3",
    "rtcm3/swift-nav_gnss-converters/week-rollover-STR24.rtcm3",
    "rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3",
    "rtcm3/swift-nav_gnss-converters/sept.rtcm",
    "rtcm3/semuconsulting_pygnssutils/ntrip_encode_none.bin",
    "rtcm3/semuconsulting_pygnssutils/ntrip_encode_chunked.bin",
    "rtcm3/semuconsulting_pygnssutils/pygpsdata-rtcm3.log",
    "rtcm3/semuconsulting_pyrtcm/pygpsdata-NTRIP-USCL00CHL0.log",
];

/// NMEA logs from gpsd's regression suite (each has a `.chk` beside it).
pub const NMEA_FILES: &[&str] = &[
    "nmea/gpsd/beidou-bd.log",
    "nmea/gpsd/beidou-gb.log",
    "nmea/gpsd/nmea-rtk.log",
    "nmea/gpsd/quectel-l76k-nmea.log",
    "nmea/gpsd/st-teseo-liv4f.log",
    "nmea/gpsd/ublox-zed-f9p-nmea.log",
    "nmea/gpsd/unicore-um621.log",
];

/// Whole RTCM3 frames (header + payload + CRC) of a byte stream, found by rtcm-rs's framer.
pub fn rtcm_rs_frames(mut data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let (consumed, frame) = rtcm_rs::next_msg_frame(data);
        if let Some(f) = frame {
            out.push(f.frame_data().to_vec());
        }
        if consumed == 0 {
            break;
        }
        data = &data[consumed..];
    }
    out
}

/// The payload of a whole frame.
pub fn payload(frame: &[u8]) -> &[u8] {
    &frame[3..frame.len() - 3]
}

/// Every frame of every RTCM file, with the file's name, found by rtcm-rs.
pub fn all_rtcm_frames() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    for f in RTCM_FILES {
        for fr in rtcm_rs_frames(&read_data(f)) {
            out.push((*f, fr));
        }
    }
    out
}

/// The Python interpreter of the test venv (pyrtcm, pygnssutils, hatanaka), made by scripts/test.sh.
pub fn venv_python() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        p.is_file(),
        "{} is missing: run scripts/test.sh once (it creates the venv with pyrtcm, pygnssutils and hatanaka)",
        p.display()
    );
    p
}

/// Decode frames with pyrtcm (the independent Python decoder): one JSON object of its attributes
/// per frame, in order.
pub fn pyrtcm_decode(frames: &[Vec<u8>]) -> Vec<serde_json::Value> {
    use std::io::Write;
    let script = r#"
import sys, json
from pyrtcm import RTCMReader
for line in sys.stdin:
    m = RTCMReader.parse(bytes.fromhex(line.strip()))
    d = {k: v for k, v in m.__dict__.items() if not k.startswith('_')}
    print(json.dumps(d, default=str))
"#;
    let mut child = std::process::Command::new(venv_python())
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the venv python");
    let mut stdin = child.stdin.take().expect("stdin");
    let input: Vec<String> = frames
        .iter()
        .map(|f| f.iter().map(|b| format!("{b:02x}")).collect())
        .collect();
    // Write from another thread: pyrtcm's answers would fill the pipe before it reads them all.
    let writer = std::thread::spawn(move || {
        for hex in input {
            writeln!(stdin, "{hex}").expect("write to pyrtcm");
        }
    });
    let out = child.wait_with_output().expect("pyrtcm finished");
    writer.join().expect("writer thread");
    assert!(out.status.success(), "pyrtcm failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("pyrtcm JSON"))
        .collect()
}

/// Whole frames of a byte stream (corsd's framer; the recordings' own frames were checked
/// against rtcm-rs in the codec tests).
pub fn frames(data: &[u8]) -> Vec<Vec<u8>> {
    corsd::framing::frames(data)
        .0
        .into_iter()
        .map(|(_, b)| b)
        .collect()
}

/// `got` is whole frames only, a contiguous run of the frames of recording `rel` (which the
/// file source loops, so the run may wrap around to the start): byte-identical relaying.
pub fn assert_run_of_recording(got: &[u8], rel: &str, what: &str) {
    let source = frames(&read_data(rel));
    let received = frames(got);
    assert!(received.len() > 50, "{what}: {} frames", received.len());
    assert_eq!(
        received.concat().len(),
        got.len(),
        "{what}: partial frames or noise in the stream"
    );
    let start = source
        .iter()
        .position(|f| *f == received[0])
        .unwrap_or_else(|| panic!("{what}: the first frame is not from the recording"));
    for (i, f) in received.iter().enumerate() {
        assert_eq!(
            *f,
            source[(start + i) % source.len()],
            "{what}: frame {i} differs"
        );
    }
}

/// RTKLIB's `rnx2rtkp` in single mode on L1 with broadcast orbits and Saastamoinen: (epochs
/// solved, 3D RMS against `truth`). `iono` is RTKLIB's `ionoopt` (`brdc`, `off`), `navsys` its
/// system mask (1 GPS, 4 GLONASS, 8 Galileo, 16 QZSS, 32 BeiDou). The options go in a
/// configuration file: `-sys` on the command line alone leaves `ionoopt` at its default (off).
pub fn rtklib_spp(
    dir: &std::path::Path,
    obs: &std::path::Path,
    nav: &std::path::Path,
    (mask_deg, iono, navsys): (f64, &str, u32),
    truth: [f64; 3],
) -> (usize, f64) {
    let name = format!("rnx2rtkp-{mask_deg}-{iono}-{navsys}");
    let conf = dir.join(format!("{name}.conf"));
    std::fs::write(
        &conf,
        format!(
            "pos1-posmode=single\npos1-frequency=l1\npos1-elmask={mask_deg}\n\
             pos1-ionoopt={iono}\npos1-tropopt=saas\npos1-sateph=brdc\npos1-navsys={navsys}\n\
             out-solformat=xyz\n"
        ),
    )
    .unwrap();
    let pos = dir.join(format!("{name}.pos"));
    run_quiet(
        std::process::Command::new(servers::require("rnx2rtkp", "rtklib"))
            .arg("-k")
            .arg(&conf)
            .arg("-o")
            .arg(&pos)
            .arg(obs)
            .arg(nav),
        &format!("rnx2rtkp -k {}", conf.display()),
    );
    let squares: Vec<f64> = std::fs::read_to_string(&pos)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('%'))
        .map(|l| {
            let f: Vec<f64> = l
                .split_whitespace()
                .skip(2)
                .take(3)
                .map(|x| x.parse().unwrap())
                .collect();
            (0..3).map(|i| (f[i] - truth[i]).powi(2)).sum::<f64>()
        })
        .collect();
    (squares.len(), rms_of(&squares))
}

/// Root of the mean of squares (0 for none).
pub fn rms_of(squares: &[f64]) -> f64 {
    (squares.iter().sum::<f64>() / squares.len().max(1) as f64).sqrt()
}

/// RTKLIB's `convbin` from an RTCM3 recording to RINEX 3.03 observations (and navigation when
/// `nav` is given), told the data's date `tr` (GPST "YYYY/MM/DD", "hh:mm:ss") as it must be;
/// `opts` are further options (e.g. `-od -os` for Doppler and C/N0).
pub fn convbin(
    input: &std::path::Path,
    tr: [&str; 2],
    opts: &[&str],
    obs: &std::path::Path,
    nav: Option<&std::path::Path>,
) {
    let mut cmd = std::process::Command::new(servers::require("convbin", "rtklib"));
    cmd.args(["-r", "rtcm3", "-v", "3.03", "-tr", tr[0], tr[1]])
        .args(opts)
        .arg("-o")
        .arg(obs);
    if let Some(nav) = nav {
        cmd.arg("-n").arg(nav);
    }
    run_quiet(cmd.arg(input), &format!("convbin {}", input.display()));
}

/// Run a peer program with its output discarded; `what` names it when it fails.
fn run_quiet(cmd: &mut std::process::Command, what: &str) {
    let status = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(status.success(), "{what}");
}
