//! The embedded NTRIP caster with real clients on 127.0.0.1: RTKLIB `str2str` (v1) receives the
//! mountpoint's frames byte-identical to what corsd framed; pygnssutils' `gnssntripclient` (v2)
//! reads the sourcetable and the stream; wrong credentials get 401 in the client's version.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::servers::{Daemon, curl, free_port, run_daemon, str2str_read, temp_dir};

const STR24: &str = "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3";

fn start(dir: &std::path::Path, port: u16, health: &str) -> Daemon {
    std::fs::write(dir.join("users"), "crew:secret\n").unwrap();
    let cfg = dir.join("corsd.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"data_dir = "{d}"
[station]
name = "STR2"
position = {{ x = -4467075.2780, y = 2683011.8519, z = -3667007.0103 }}
country = "AUS"
[[source]]
kind = "file"
name = "rx"
path = "{file}"
speed = 20.0
loop = true
[health]
listen = "{health}"
[[caster]]
listen = "127.0.0.1:{port}"
credentials_file = "users"
[[caster.mount]]
name = "ALL"
# The recording's own frames, 1006 included, byte for byte.
coordinates = "receiver"
[[caster.mount]]
name = "MSM"
messages = "1074(1),1124(1),1006(10)"
users = ["crew"]
[[caster.mount]]
name = "OLD"
messages = "1004(1),1012(1),1006(10)"
"#,
            d = dir.display(),
            file = common::data_file(STR24).display()
        ),
    )
    .unwrap();
    run_daemon(dir, &std::fs::read_to_string(&cfg).unwrap(), port)
}

fn ask(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).to_string()
}

#[test]
fn str2str_v1_gets_the_frames_byte_identical() {
    let dir = temp_dir("caster-v1");
    let port = free_port();
    let _d = start(&dir, port, &format!("127.0.0.1:{}", free_port()));
    let out = dir.join("got.rtcm3");
    let mut client = str2str_read(port, "ALL", &out);
    std::thread::sleep(Duration::from_secs(8));
    let _ = client.kill();
    let _ = client.wait();
    let got = std::fs::read(&out).unwrap();
    assert!(got.len() > 10_000, "{} bytes received", got.len());
    // What str2str wrote is whole frames, in order, a contiguous run of the recording's frames
    // (the file source loops, so the run may wrap around to the start).
    common::assert_run_of_recording(&got, STR24, "str2str on ALL");
    // The MSM mount needs credentials; with them only its message set arrives.
    let answer = ask(port, "GET /MSM HTTP/1.0\r\nUser-Agent: NTRIP test\r\n\r\n");
    assert!(
        answer.starts_with("HTTP/1.0 401 Unauthorized\r\n"),
        "{answer}"
    );
    let answer = ask(
        port,
        "GET /MSM HTTP/1.0\r\nUser-Agent: NTRIP test\r\nAuthorization: Basic Y3JldzpXUk9ORw==\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.0 401"), "{answer}");
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /MSM HTTP/1.0\r\nUser-Agent: NTRIP test\r\nAuthorization: Basic Y3JldzpzZWNyZXQ=\r\n\r\n").unwrap();
    // A rover reports its position in-band, as v1 rovers do.
    s.write_all(
        b"$GPGGA,010203.00,3520.00000,S,14900.00000,E,4,18,0.7,760.0,M,0.0,M,1.0,0000*6C\r\n",
    )
    .unwrap();
    let mut data = Vec::new();
    let t0 = Instant::now();
    let mut buf = [0u8; 8192];
    while t0.elapsed() < Duration::from_secs(4) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    assert!(data.starts_with(b"ICY 200 OK\r\n"));
    let types: std::collections::BTreeSet<u16> = corsd::framing::frames(&data[12..])
        .0
        .iter()
        .filter_map(|(_, b)| corsd::messages::rtcm3::message_number(&b[3..b.len() - 3]))
        .collect();
    assert!(
        types.contains(&1074) && types.iter().all(|t| [1074, 1124, 1006].contains(t)),
        "{types:?}"
    );
    // A mountpoint for old rovers asks for 1004/1012, which the receiver does not send: corsd
    // makes them from its MSM4, and both our decoder and rtcm-rs read them.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /OLD HTTP/1.0\r\nUser-Agent: NTRIP test\r\n\r\n")
        .unwrap();
    let mut data = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(6) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    assert!(data.starts_with(b"ICY 200 OK\r\n"));
    let mut legacy = std::collections::BTreeMap::<u16, usize>::new();
    for (_, b) in corsd::framing::frames(&data[12..]).0 {
        let payload = &b[3..b.len() - 3];
        let n = corsd::messages::rtcm3::message_number(payload).unwrap();
        assert!([1004, 1012, 1006].contains(&n), "{n}");
        assert!(corsd::messages::rtcm3::decode(payload).is_ok(), "{n}");
        let (_, frame) = rtcm_rs::next_msg_frame(&b);
        let v = serde_json::to_value(frame.expect("rtcm-rs frames it").get_message()).unwrap();
        assert!(
            v.to_string().contains(&format!("Msg{n}")),
            "rtcm-rs decodes {n}: {v}"
        );
        *legacy.entry(n).or_default() += 1;
    }
    assert!(
        legacy.get(&1004).copied().unwrap_or(0) >= 3
            && legacy.get(&1012).copied().unwrap_or(0) >= 3,
        "{legacy:?}"
    );
    let series = common::servers::read_series(&dir.join("series"));
    let rover = series
        .lines()
        .find(|l| l.starts_with("rover,client=crew,mountpoint=MSM "))
        .unwrap_or_else(|| panic!("no rover point"));
    assert!(
        rover.contains("fix=4i") && rover.contains("nsat=18i") && rover.contains("hdop=0.7"),
        "{rover}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pygnssutils_v2_reads_sourcetable_and_stream() {
    let dir = temp_dir("caster-v2");
    let port = free_port();
    let health = format!("127.0.0.1:{}", free_port());
    let _d = start(&dir, port, &health);
    std::thread::sleep(Duration::from_secs(2));
    // The sourcetable, v2 and v1.
    let v2 = ask(
        port,
        "GET / HTTP/1.1\r\nHost: x\r\nNtrip-Version: Ntrip/2.0\r\nUser-Agent: NTRIP test\r\n\r\n",
    );
    assert!(
        v2.starts_with("HTTP/1.1 200 OK\r\nNtrip-Version: Ntrip/2.0\r\n"),
        "{v2}"
    );
    assert!(v2.contains("Content-Type: gnss/sourcetable"), "{v2}");
    assert!(
        v2.contains("STR;ALL;STR2;RTCM 3.3;")
            && v2.contains("STR;MSM;STR2;RTCM 3.3;1074(1),1124(1),1006(10);2;"),
        "{v2}"
    );
    assert!(
        v2.contains(";AUS;-35.32;149.01;") && v2.contains("BDS"),
        "{v2}"
    );
    assert!(v2.trim_end().ends_with("ENDSOURCETABLE"), "{v2}");
    let v1 = ask(port, "GET / HTTP/1.0\r\nUser-Agent: NTRIP test\r\n\r\n");
    assert!(v1.starts_with("SOURCETABLE 200 OK\r\n"), "{v1}");
    let v2_401 = ask(
        port,
        "GET /MSM HTTP/1.1\r\nNtrip-Version: Ntrip/2.0\r\nUser-Agent: NTRIP test\r\n\r\n",
    );
    assert!(
        v2_401.starts_with("HTTP/1.1 401 Unauthorized\r\nNtrip-Version: Ntrip/2.0\r\n"),
        "{v2_401}"
    );
    // pygnssutils' client (its Python API: the 1.3.1 command line passes a bad argument), v2
    // with credentials: the sourcetable, then the stream into a file.
    let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    assert!(
        python.is_file(),
        "pygnssutils is not installed: run scripts/test.sh --install"
    );
    let script = dir.join("client.py");
    std::fs::write(
        &script,
        r#"import json, sys, time
from pygnssutils import GNSSNTRIPClient
port, out = int(sys.argv[1]), sys.argv[2]
st = GNSSNTRIPClient(verbosity=0)
st.run(server="127.0.0.1", port=port, mountpoint="", version="2.0", ntripuser="crew", ntrippassword="secret")
time.sleep(2)
table = st.settings.get("sourcetable", [])
st.stop()
with open(out, "wb") as f:
    c = GNSSNTRIPClient(verbosity=0)
    c.run(server="127.0.0.1", port=port, mountpoint="MSM", version="2.0", ntripuser="crew", ntrippassword="secret", output=f)
    time.sleep(6)
    c.stop()
print(json.dumps({"sourcetable": table}))
"#,
    )
    .unwrap();
    let out = dir.join("v2.rtcm3");
    let run = Command::new(python)
        .arg(&script)
        .arg(port.to_string())
        .arg(&out)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&run.stdout);
    let table: serde_json::Value =
        serde_json::from_str(printed.lines().last().unwrap_or("{}")).unwrap();
    let rows = table["sourcetable"].as_array().unwrap();
    let msm = rows
        .iter()
        .find(|r| r[0] == "MSM")
        .unwrap_or_else(|| panic!("{printed}"));
    assert_eq!(msm[3], "1074(1),1124(1),1006(10)");
    assert_eq!(msm[5], "GPS+BDS");
    assert_eq!(msm[14], "B");
    let got = std::fs::read(&out).unwrap_or_default();
    let (fr, stats) = corsd::framing::frames(&got);
    assert!(fr.len() > 20, "{} frames through pygnssutils", fr.len());
    assert_eq!(stats.rtcm3_crc_errors, 0);
    assert_eq!(
        stats.discarded_bytes, 0,
        "chunk framing leaked into the data"
    );
    let (_, metrics) = curl(&[&format!("http://{health}/metrics")]);
    assert!(
        metrics.contains("corsd_caster_refused_total{station=\"STR2\"} 1"),
        "{metrics}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
