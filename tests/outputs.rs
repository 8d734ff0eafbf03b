//! The correction feed beyond the embedded caster, with real peers on 127.0.0.1:
//! * pushes to a remote caster: corsd A pushes STR24 with NTRIP v1 (SOURCE) and v2 (POST,
//!   chunked) into relay mountpoints of corsd B's caster, and RTKLIB `str2str` reads both back
//!   as an NTRIP client, byte-identical to the recording; `str2str` itself, as an NTRIP server,
//!   pushes into a third relay mount. (Debian's `str2str` 2.4.3 cannot be the remote caster: its
//!   `ntripc://` caster is output-only and it has no NTRIP 2.) A wrong password is refused and
//!   shown in A's /healthz and status page;
//! * a TCP server output with its own message set, an RTCM 2.3 TCP output, and a serial output
//!   into a `socat` pty pair (a radio modem) that vanishes and comes back.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::frames;
use common::servers::{
    assert_no_console_errors, chromium, curl, free_port, require, run_daemon, socat_pair,
    str2str_read, temp_dir,
};

const STR24: &str = "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3";

fn station(dir: &std::path::Path, health: &str) -> String {
    format!(
        r#"data_dir = "{d}"
[station]
name = "STR2"
position = {{ x = -4467075.2780, y = 2683011.8519, z = -3667007.0103 }}
country = "AUS"
[health]
listen = "{health}"
"#,
        d = dir.display()
    )
}

#[test]
fn pushes_v1_and_v2_through_a_remote_caster_reach_str2str_unchanged() {
    let dir_b = temp_dir("push-remote");
    let dir_a = temp_dir("push-station");
    let (port_b, port_a) = (free_port(), free_port());
    std::fs::write(dir_b.join("users"), "up:uppass\n").unwrap();
    let remote = format!(
        r#"{}[[source]]
kind = "simulate"
name = "idle"
[[caster]]
listen = "127.0.0.1:{port_b}"
credentials_file = "users"
[[caster.mount]]
name = "UP1"
relay_user = "up"
[[caster.mount]]
name = "UP2"
relay_user = "up"
[[caster.mount]]
name = "UP3"
relay_user = "up"
[[caster.mount]]
name = "UP4"
relay_user = "up"
"#,
        station(&dir_b, &format!("127.0.0.1:{}", free_port()))
    );
    let _b = run_daemon(&dir_b, &remote, port_b);
    std::fs::write(dir_a.join("pw"), "uppass\n").unwrap();
    std::fs::write(dir_a.join("wrong"), "guess\n").unwrap();
    let health_a = format!("127.0.0.1:{}", free_port());
    let station_a = format!(
        r#"{}[[source]]
kind = "file"
name = "rx"
path = "{file}"
speed = 20.0
loop = true
[[caster]]
listen = "127.0.0.1:{port_a}"
[[caster.mount]]
name = "ALL"
# The recording's own frames, 1006 included, byte for byte.
coordinates = "receiver"
[[push]]
name = "v1"
address = "127.0.0.1:{port_b}"
mount = "UP1"
password_file = "pw"
coordinates = "receiver"
[[push]]
name = "v2"
address = "127.0.0.1:{port_b}"
mount = "UP2"
version = 2
user = "up"
password_file = "pw"
coordinates = "receiver"
[[push]]
name = "badpw"
address = "127.0.0.1:{port_b}"
mount = "UP4"
password_file = "wrong"
"#,
        station(&dir_a, &health_a),
        file = common::data_file(STR24).display()
    );
    let _a = run_daemon(&dir_a, &station_a, port_a);
    // str2str as an NTRIP server: from A's own mountpoint into B's UP3.
    let mut relay = Command::new(require("str2str", "rtklib"))
        .arg("-in")
        .arg(format!("ntrip://127.0.0.1:{port_a}/ALL"))
        .arg("-out")
        .arg(format!("ntrips://:uppass@127.0.0.1:{port_b}/UP3"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let outs: Vec<_> = ["UP1", "UP2", "UP3"]
        .iter()
        .map(|m| dir_b.join(format!("{m}.rtcm3")))
        .collect();
    let mut readers: Vec<_> = ["UP1", "UP2", "UP3"]
        .iter()
        .zip(&outs)
        .map(|(m, o)| str2str_read(port_b, m, o))
        .collect();
    std::thread::sleep(Duration::from_secs(8));
    for r in readers.iter_mut().chain(std::iter::once(&mut relay)) {
        let _ = r.kill();
        let _ = r.wait();
    }
    for (m, o) in ["v1 push (UP1)", "v2 push (UP2)", "str2str push (UP3)"]
        .iter()
        .zip(&outs)
    {
        common::assert_run_of_recording(&std::fs::read(o).unwrap_or_default(), STR24, m);
    }
    // The wrong password: refused by B, told in A's /healthz (and logged once).
    let (_, status) = curl(&[&format!("http://{health_a}/healthz")]);
    let v: serde_json::Value = serde_json::from_str(&status).expect(&status);
    let pushes = v["pushes"].as_array().expect("pushes in /healthz");
    assert_eq!(pushes[0]["state"], "streaming", "{status}");
    assert_eq!(pushes[1]["state"], "streaming", "{status}");
    assert!(
        pushes[2]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("Bad Password")),
        "{status}"
    );
    let log = std::fs::read_to_string(dir_a.join("log")).unwrap();
    assert_eq!(
        log.matches("push refused by the remote caster").count(),
        1,
        "{log}"
    );
    assert!(
        !log.contains("uppass") && !log.contains("guess"),
        "a password in the log"
    );
    let (_, metrics) = curl(&[&format!("http://{health_a}/metrics")]);
    assert!(
        metrics.contains("corsd_push_streaming{station=\"STR2\",push=\"v1\"} 1"),
        "{metrics}"
    );
    // The status page shows each push's state and why a refused one is refused.
    let (dom, console) = chromium(
        &dir_a.join("profile"),
        &["--dump-dom"],
        &format!("http://{health_a}/"),
    );
    assert_no_console_errors(&[&console]);
    assert!(
        dom.contains("<td>push v1</td><td class=\"ok\">streaming</td>"),
        "{dom}"
    );
    assert!(
        dom.contains("<td>push badpw</td>") && dom.contains("Bad Password"),
        "{dom}"
    );
    let _ = std::fs::remove_dir_all(&dir_a);
    let _ = std::fs::remove_dir_all(&dir_b);
}

/// Read from a TCP output for `secs` seconds.
fn read_tcp(port: u16, secs: u64) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(secs) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    data
}

/// Read a pty end for `secs` seconds (non-blocking reads in a loop).
fn read_pty(path: &std::path::Path, secs: u64) -> Vec<u8> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .unwrap();
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(secs) {
        match f.read(&mut buf) {
            Ok(n) if n > 0 => data.extend_from_slice(&buf[..n]),
            _ => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    data
}

#[test]
fn tcp_rtcm2_and_serial_outputs() {
    let dir = temp_dir("outputs");
    let (p_set, p_rtcm2) = (free_port(), free_port());
    let health = format!("127.0.0.1:{}", free_port());
    let (mut socat, radio, modem) = socat_pair(&dir, "radio", "modem");
    let config = format!(
        r#"{}[[source]]
kind = "file"
name = "rx"
path = "{file}"
speed = 20.0
loop = true
[[output]]
kind = "tcp-server"
name = "lan"
listen = "127.0.0.1:{p_set}"
messages = "1074(1),1124(1),1006(10)"
[[output]]
kind = "tcp-server"
name = "gis"
listen = "127.0.0.1:{p_rtcm2}"
format = "rtcm2"
rtcm2_station = 7
[[output]]
kind = "serial"
name = "radio"
path = "{radio}"
baud = 38400
messages = "1004(1),1012(1),1006(10)"
"#,
        station(&dir, &health),
        file = common::data_file(STR24).display(),
        radio = radio.display()
    );
    let _d = run_daemon(&dir, &config, p_set);
    // The TCP output: only its message set, whole frames.
    let got = read_tcp(p_set, 5);
    let mut seen = std::collections::BTreeSet::new();
    for f in frames(&got) {
        let n = corsd::messages::rtcm3::message_number(&f[3..f.len() - 3]).unwrap();
        seen.insert(n);
    }
    assert!(seen.contains(&1074) && seen.contains(&1124), "{seen:?}");
    assert!(
        seen.iter().all(|n| [1074, 1124, 1006].contains(n)),
        "{seen:?}"
    );
    // The RTCM 2.3 output: types 1, 3 and 31 with the configured station ID, parity good.
    let got = read_tcp(p_rtcm2, 6);
    let mut dec = corsd::feeds::rtcm2::Decoder::new();
    let msgs = dec.push(&got);
    assert_eq!(dec.parity_errors, 0);
    let types: std::collections::BTreeSet<u8> = msgs.iter().map(|m| m.header.msg_type).collect();
    assert!(types.contains(&1) && types.contains(&31), "{types:?}");
    assert!(msgs.iter().all(|m| m.header.station == 7));
    // The radio: legacy observations through the pty.
    let got = read_pty(&modem, 4);
    let legacy: std::collections::BTreeSet<u16> = frames(&got)
        .iter()
        .map(|f| corsd::messages::rtcm3::message_number(&f[3..f.len() - 3]).unwrap())
        .collect();
    assert!(
        legacy.contains(&1004) && legacy.contains(&1012),
        "{legacy:?}"
    );
    // The radio's USB adapter is pulled: the output notices, and reopens when it is back.
    let _ = socat.kill();
    let _ = socat.wait();
    // Meanwhile /healthz names the radio, down, with why.
    let radio_part = || {
        let (code, body) = curl(&[&format!("http://{health}/healthz")]);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let part = v["parts"]
            .as_array()
            .and_then(|ps| {
                ps.iter()
                    .find(|p| p["kind"] == "output" && p["name"] == "radio")
            })
            .cloned()
            .unwrap_or_default();
        (code, part)
    };
    let t0 = Instant::now();
    loop {
        let (code, part) = radio_part();
        if code == 503 && part["ok"] == false {
            assert_eq!(part["state"], "closed", "{part}");
            assert!(
                part["last_error"]
                    .as_str()
                    .is_some_and(|e| e.contains(&radio.display().to_string())),
                "{part}"
            );
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "/healthz does not show the radio gone: {code} {part}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (mut socat, _, modem) = socat_pair(&dir, "radio", "modem");
    let t0 = Instant::now();
    let mut again = Vec::new();
    while again.len() < 1000 && t0.elapsed() < Duration::from_secs(15) {
        again.extend(read_pty(&modem, 1));
    }
    assert!(again.len() >= 1000, "the radio output did not come back");
    assert_eq!(radio_part().1["ok"], true);
    let (_, metrics) = curl(&[&format!("http://{health}/metrics")]);
    assert!(
        metrics.contains("corsd_output_faults_total{station=\"STR2\",output=\"radio\"} 1"),
        "{metrics}"
    );
    let log = std::fs::read_to_string(dir.join("log")).unwrap();
    assert!(log.contains("serial port lost"), "{log}");
    let _ = socat.kill();
    let _ = socat.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
