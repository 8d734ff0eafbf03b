//! `[receiver] kind = "ublox-f9"`: the UBX-CFG-VALSET frames corsd sends equal, byte for byte,
//! the frames pyubx2 (PyPI) builds for the same keys and values; a scripted receiver on a
//! socat pty pair answers every message (success), refuses the signals (ACK-NAK: the keys are
//! named, the base mode is still sent), or says nothing (timeout, named, the link streams on);
//! `check-config` names `[receiver]` mistakes by file, line and key.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::servers::{corsd, free_port, require, socat_pair, temp_dir};
use common::venv_python;
use corsd::messages::ubx::cfg::{
    BaseMode, BaseSetup, LAYER_BBR, LAYER_RAM, Port, Systems, base_plan,
};
use nalgebra::Vector3;

/// pyubx2's CFG-VALSET (no transaction) of each step, as hex.
fn pyubx2_frames(layers: u8, steps: &[Vec<(&str, i64)>]) -> Vec<String> {
    let spec = serde_json::to_string(steps).unwrap();
    let script = format!(
        r#"
import json, sys
from pyubx2 import UBXMessage
for step in json.loads(sys.argv[1]):
    print(UBXMessage.config_set({layers}, 0, [(k, v) for k, v in step]).serialize().hex())
"#
    );
    let out = Command::new(venv_python())
        .args(["-c", &script, &spec])
        .output()
        .expect("run pyubx2");
    assert!(
        out.status.success(),
        "pyubx2: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn valset_frames_equal_pyubx2_byte_for_byte() {
    let setups = [
        BaseSetup {
            port: Port::Usb,
            rate_ms: 1000,
            systems: Systems::default(),
            nmea: false,
            mode: BaseMode::Fixed {
                ecef: Vector3::new(-2694892.4604, -4297557.4689, 3854813.4285),
                accuracy_m: 0.02,
            },
            layers: LAYER_RAM | LAYER_BBR,
        },
        BaseSetup {
            port: Port::Uart1,
            rate_ms: 200,
            systems: Systems {
                glonass: false,
                qzss: false,
                ..Systems::default()
            },
            nmea: true,
            mode: BaseMode::SurveyIn {
                min_s: 600,
                accuracy_m: 1.5,
            },
            layers: LAYER_RAM,
        },
        BaseSetup {
            port: Port::Uart2,
            rate_ms: 5000,
            systems: Systems::default(),
            nmea: false,
            mode: BaseMode::Fixed {
                ecef: Vector3::new(-1.0e6 - 0.00004, 6.0e6 + 0.99996, -1.5e6 - 0.5),
                accuracy_m: 0.1,
            },
            layers: LAYER_RAM | LAYER_BBR,
        },
    ];
    let mut frames = 0;
    for s in &setups {
        let plan = base_plan(s);
        let steps: Vec<Vec<(&str, i64)>> = plan
            .iter()
            .map(|st| st.items.iter().map(|kv| (kv.key.name, kv.value)).collect())
            .collect();
        let theirs = pyubx2_frames(s.layers, &steps);
        assert_eq!(theirs.len(), plan.len());
        for (st, t) in plan.iter().zip(&theirs) {
            assert_eq!(hex(&st.frame(s.layers)), *t, "{} of {s:?}", st.purpose);
            frames += 1;
        }
    }
    assert_eq!(frames, 12);
}

/// The scripted receiver: reads UBX frames from `pty`, answers each CFG-VALSET as `mode` says
/// (`ack`, `nak-signals`, `silent`) and writes one line per VALSET received into `log`.
fn scripted_receiver(pty: &Path, mode: &str, log: &Path) -> Child {
    let script = r#"
import os, sys, termios, tty
pty, mode, log = sys.argv[1], sys.argv[2], sys.argv[3]
fd = os.open(pty, os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
def frame(cls, mid, payload):
    body = bytes([cls, mid, len(payload) & 0xFF, len(payload) >> 8]) + payload
    a = b = 0
    for x in body:
        a = (a + x) & 0xFF
        b = (b + a) & 0xFF
    return b'\xb5\x62' + body + bytes([a, b])
buf = b''
with open(log, 'w') as out:
    while True:
        buf += os.read(fd, 4096)
        while True:
            i = buf.find(b'\xb5\x62')
            if i < 0 or len(buf) < i + 8:
                break
            n = buf[i + 4] | buf[i + 5] << 8
            if len(buf) < i + 8 + n:
                break
            f, buf = buf[i:i + 8 + n], buf[i + 8 + n:]
            if f[2:4] != b'\x06\x8a':
                continue
            signals = (int.from_bytes(f[10:14], 'little') >> 16) == 0x1031
            out.write(f.hex() + '\n')
            out.flush()
            if mode == 'silent':
                continue
            ok = not (mode == 'nak-signals' and signals)
            os.write(fd, frame(0x05, 0x01 if ok else 0x00, b'\x06\x8a'))
"#;
    Command::new(venv_python())
        .arg("-c")
        .arg(script)
        .arg(pty)
        .arg(mode)
        .arg(log)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// `corsd run` with a serial source on `pty` and `[receiver]`; its log once `want` appears.
fn run_until(dir: &Path, pty: &Path, want: &str) -> String {
    let cfg = dir.join("corsd.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"data_dir = "{d}"
[station]
name = "F9P1"
position = {{ x = -2694892.4604, y = -4297557.4689, z = 3854813.4285 }}
[[source]]
kind = "serial"
name = "f9p"
path = "{pty}"
baud = 115200
[receiver]
kind = "ublox-f9"
port = "UART1"
[health]
listen = "127.0.0.1:{health}"
"#,
            d = dir.display(),
            pty = pty.display(),
            health = free_port()
        ),
    )
    .unwrap();
    let mut child = corsd()
        .args(["run", "-c"])
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("log")).unwrap())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let log = loop {
        let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
        if log.contains(want) || t0.elapsed() > Duration::from_secs(20) {
            break log;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    log
}

fn session(name: &str, mode: &str, want: &str) -> (String, Vec<String>) {
    require("socat", "socat");
    let dir = temp_dir(name);
    let (mut socat, a, b) = socat_pair(&dir, "corsd", "receiver");
    let got = dir.join("valsets");
    let mut rx = scripted_receiver(&b, mode, &got);
    // The script has the pty open before corsd writes.
    std::thread::sleep(Duration::from_millis(500));
    let log = run_until(&dir, &a, want);
    let _ = rx.kill();
    let _ = rx.wait();
    let _ = socat.kill();
    let _ = socat.wait();
    let valsets = std::fs::read_to_string(&got)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    (log, valsets)
}

#[test]
fn scripted_receiver_acknowledges_refuses_or_stays_silent() {
    let (log, valsets) = session("rx-ack", "ack", "every setting acknowledged");
    assert!(
        log.contains("receiver set up as a base: every setting acknowledged"),
        "{log}"
    );
    assert!(
        log.contains("outputs, measurement rate, signals, base mode"),
        "{log}"
    );
    assert_eq!(valsets.len(), 4, "{valsets:?}");
    // What arrived is what the plan makes (the fixed position of [station], on UART1).
    let plan = base_plan(&BaseSetup {
        port: Port::Uart1,
        rate_ms: 1000,
        systems: Systems::default(),
        nmea: false,
        mode: BaseMode::Fixed {
            ecef: Vector3::new(-2694892.4604, -4297557.4689, 3854813.4285),
            accuracy_m: 0.02,
        },
        layers: LAYER_RAM | LAYER_BBR,
    });
    for (st, got) in plan.iter().zip(&valsets) {
        assert_eq!(
            hex(&st.frame(LAYER_RAM | LAYER_BBR)),
            *got,
            "{}",
            st.purpose
        );
    }

    let (log, valsets) = session("rx-nak", "nak-signals", "refused the signals settings");
    assert!(
        log.contains("the receiver refused the signals settings (UBX-ACK-NAK to CFG-VALSET of CFG_SIGNAL_GPS_ENA=1, CFG_SIGNAL_GPS_L1CA_ENA=1"),
        "{log}"
    );
    // The base mode still went.
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(valsets.len(), 4, "{valsets:?}");
    assert!(!log.contains("every setting acknowledged"), "{log}");

    let (log, valsets) = session("rx-silent", "silent", "no answer from the receiver");
    assert!(
        log.contains("no answer from the receiver within 1.5 s to the outputs settings (CFG-VALSET of CFG_UART1OUTPROT_UBX=1"),
        "{log}"
    );
    assert!(
        log.contains("check that it is a u-blox F9 receiver"),
        "{log}"
    );
    // Silence stops the set-up after the first message.
    assert_eq!(valsets.len(), 1, "{valsets:?}");
}

#[test]
fn check_config_names_receiver_mistakes() {
    let dir = temp_dir("rx-check");
    let base = r#"[station]
name = "F9P1"
[[source]]
kind = "serial"
path = "/dev/ttyACM0"
baud = 115200
[[source]]
kind = "file"
name = "rec"
path = "corsd.toml"
[receiver]
"#;
    let cases = [
        (
            "kind = \"um980\"\n",
            "receiver.kind",
            "UM980 set-up is not built yet",
        ),
        (
            "kind = \"ublox-f9\"\nport = \"COM3\"\n",
            "receiver.port",
            "one of USB, UART1, UART2",
        ),
        (
            "kind = \"ublox-f9\"\nsource = \"rec\"\n",
            "receiver.source",
            "not a serial or tcp source",
        ),
        (
            "kind = \"ublox-f9\"\nmode = \"fixed\"\n",
            "receiver.mode",
            "needs [station] position",
        ),
        (
            "kind = \"ublox-f9\"\nsystems = [\"GPS\", \"Galileo\", \"IRNSS\"]\n",
            "receiver.systems",
            "\"IRNSS\"",
        ),
        (
            "kind = \"ublox-f9\"\nbaud = 9600\n",
            "baud",
            "unknown field",
        ),
    ];
    let header_lines = base.lines().count();
    for (tail, key, says) in cases {
        let cfg = dir.join("corsd.toml");
        std::fs::write(&cfg, format!("{base}{tail}")).unwrap();
        let out = corsd()
            .args(["check-config", "-c"])
            .arg(&cfg)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{tail}: accepted");
        let line = header_lines + tail.lines().count();
        let at = format!("{}:{line}: {key}: ", cfg.display());
        let at_kind = format!("{}:{}: {key}: ", cfg.display(), header_lines + 1);
        assert!(
            (err.contains(&at) || err.contains(&at_kind)) && err.contains(says),
            "{tail}: {err}"
        );
    }
    let good = format!(
        "{base}kind = \"ublox-f9\"\nmode = \"survey-in\"\nsystems = [\"GPS\", \"Galileo\"]\n"
    );
    let cfg = dir.join("corsd.toml");
    std::fs::write(&cfg, good).unwrap();
    let out = corsd()
        .args(["check-config", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
