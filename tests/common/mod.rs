//! Shared helpers for the integration tests: where the real recordings are, and an independent
//! frame splitter (rtcm-rs's) so that decoder tests do not depend on our own framer.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod servers;

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
