//! A third-party rover against the caster (issue 21, item 5). `corsd run` serves base STR2
//! (week-rollover-STR24, Trimble MSM4) on two mounts: the receiver's MSM4, and legacy 1004/1012
//! made from it for older rovers. RTKLIB plays the rover: `str2str` pulls each mount as an NTRIP
//! client (sending GGA every 10 s) and records what it gets, `convbin` turns the recording into
//! RINEX, and `rnx2rtkp` solves STR1 (week-rollover-STR17, RINEX by `corsd replay --rinex`)
//! against it, kinematic, with the base position a rover gets: the recorded 1006, read back
//! from the RINEX header (`ant2-postype=rinexhead`). The baseline is the same `rnx2rtkp` on the
//! raw pair (STR24 through the same `convbin`) over the same span: the mount must not make it
//! worse.
//!
//! The recording covers about 12 min of data paced at 10× (epochs 0.1 s apart), across the GPS
//! week rollover. The mounts serve the receiver's own 1006 (`coordinates = "receiver"`), so that
//! the rover's base matches the raw pair's: the truth is SINEX STR1 moved by the datum offset of
//! that 1006 (1006 minus SINEX STR2, 1.57 m).
//!
//! The MSM4 mount is solved with GPS, Galileo, QZSS and BeiDou, like RTKLIB-RTK.md, where RTKLIB
//! 2.4.3 fixes about half the epochs (its BeiDou ambiguity resolution is what limits it). The
//! legacy mount carries GPS and GLONASS only; it is solved with both (GLONASS float, as 2.4.3
//! fixes GLONASS ambiguities only with matching inter-channel biases), where 2.4.3 fixes all.
//!
//! Debian's `rtkrcv` is not the rover here: for a network stream it resolves the RTCM3 time of
//! week against the computer's clock (rtksvr starts its decoders at `timeget()`), so 2018
//! observations land in a 2026 week that no ephemeris matches, and it has no option to say
//! otherwise; `convbin` takes the data's date (`-tr`).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::servers::{
    Daemon, free_port, read_series, replay_rinex, require, run_daemon, temp_dir,
};
use corsd::messages::rtcm3::{self, Message};
use nalgebra::Vector3;

const STR24: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR24.rtcm3";
const STR17: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3";
const ATX: &str = "antex/tomojitakasu_RTKLIB/igs05.atx";
/// SINEX (MANIFEST): STR1 is the rover, STR2 the station.
const STR1: [f64; 3] = [-4467103.2326, 2683039.4771, -3666948.7128];
const STR2: [f64; 3] = [-4467075.2780, 2683011.8519, -3667007.0103];
/// Data time is released this many times faster than real time.
const SPEED: f64 = 10.0;
/// How long the rovers record (wall time): 12 min of data at `SPEED`, past the rollover at 10 min.
const RECORD: Duration = Duration::from_secs(72);
/// The recordings' date for `convbin` (GPST).
const DATE: [&str; 2] = ["2018/07/14", "23:50:00"];
/// What a rover's GGA says: STR1, roughly.
const GGA_POS: [&str; 3] = ["-35.3156", "149.0100", "800"];
/// A fixed solution farther than this from the truth is a wrong fix (m).
const WRONG_FIX_M: f64 = 0.05;
/// Mean fixed error bounds (m), horizontal components and up.
const MEAN_H_M: f64 = 0.010;
const MEAN_U_M: f64 = 0.020;
/// How far a mount's mean fixed error may sit from the raw pair's (m), per component.
const MEAN_VS_RAW_M: f64 = 0.003;
/// How many percentage points of fixes a mount may lose against the raw pair.
const FIX_VS_RAW_PCT: f64 = 5.0;

const MSM4_SET: &str =
    "1006(10),1008(10),1019,1020,1042,1044,1045,1046,1230(10),1074(1),1084(1),1094(1),1124(1)";
const LEGACY_SET: &str = "1006(10),1008(10),1033(10),1019,1020,1230(10),1004(1),1012(1)";

/// One mount under test: name, message set, rnx2rtkp's system mask (1 GPS, 4 GLONASS,
/// 8 Galileo, 16 QZSS, 32 BeiDou), the fix rate floor (%) and the observation types it must carry.
struct Mount {
    name: &'static str,
    messages: &'static str,
    navsys: u32,
    fix_floor_pct: f64,
    obs_types: &'static [u16],
}

const MOUNTS: [Mount; 2] = [
    Mount {
        name: "STR2_MSM4",
        messages: MSM4_SET,
        navsys: 57,
        fix_floor_pct: 30.0,
        obs_types: &[1074, 1084, 1094, 1124],
    },
    Mount {
        name: "STR2_LEGACY",
        messages: LEGACY_SET,
        navsys: 5,
        fix_floor_pct: 90.0,
        obs_types: &[1004, 1012],
    },
];

/// The ARP of the first 1005/1006 in a recording.
fn arp_1006(rel: &str) -> [f64; 3] {
    for f in common::frames(&common::read_data(rel)) {
        if let Ok(Message::StationArp(a)) = rtcm3::decode(common::payload(&f)) {
            return [a.x_m, a.y_m, a.z_m];
        }
    }
    panic!("{rel}: no 1005/1006");
}

/// RTKLIB `str2str` as a rover's NTRIP client on `mount`, sending GGA every 10 s, recording
/// what it gets into `out`.
fn str2str_rover(port: u16, mount: &str, out: &Path) -> Child {
    Command::new(require("str2str", "rtklib"))
        .arg("-in")
        .arg(format!("ntrip://127.0.0.1:{port}/{mount}"))
        .arg("-out")
        .arg(format!("file://{}", out.display()))
        .arg("-p")
        .args(GGA_POS)
        .args(["-n", "10000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("str2str starts")
}

/// Stop a recorder with SIGTERM, so that it closes its file whole.
fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// `convbin` of an RTCM3 stream: (observations, navigation).
fn convbin(dir: &Path, input: &Path, name: &str) -> (PathBuf, PathBuf) {
    let obs = dir.join(format!("{name}.obs"));
    let nav = dir.join(format!("{name}.nav"));
    common::convbin(input, DATE, &["-od", "-os"], &obs, Some(&nav));
    (obs, nav)
}

/// The APPROX POSITION XYZ of a RINEX header, and the first and last epoch ("yyyy/mm/dd",
/// "hh:mm:ss").
fn rinex_span(obs: &Path) -> ([f64; 3], [String; 2], [String; 2]) {
    let text = std::fs::read_to_string(obs).unwrap();
    let approx: Vec<f64> = text
        .lines()
        .find(|l| l.contains("APPROX POSITION XYZ"))
        .unwrap_or_else(|| panic!("{}: no APPROX POSITION XYZ", obs.display()))
        .split_whitespace()
        .take(3)
        .map(|x| x.parse().unwrap())
        .collect();
    let epochs: Vec<[String; 2]> = text
        .lines()
        .filter(|l| l.starts_with("> "))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let sec = f[6].split('.').next().unwrap();
            [
                format!("{}/{}/{}", f[1], f[2], f[3]),
                format!("{}:{}:{:0>2}", f[4], f[5], sec),
            ]
        })
        .collect();
    let first = epochs.first().expect("observations").clone();
    let last = epochs.last().expect("observations").clone();
    ([approx[0], approx[1], approx[2]], first, last)
}

/// One epoch of an rnx2rtkp .pos file (xyz).
struct PosLine {
    xyz: Vector3<f64>,
    fixed: bool,
    nsat: f64,
}

/// Figures of a solution against the truth.
#[derive(Debug)]
struct Score {
    epochs: usize,
    fix_pct: f64,
    wrong: usize,
    mean_enu: Vector3<f64>,
    mean_nsat: f64,
}

/// `rnx2rtkp` kinematic (RTKLIB-RTK.md's options) of `rover` against `base` within `span`,
/// with the base position from the base's RINEX header.
fn rnx2rtkp(
    dir: &Path,
    name: &str,
    navsys: u32,
    rover: &(PathBuf, PathBuf),
    base: &(PathBuf, PathBuf),
    span: &([String; 2], [String; 2]),
) -> Vec<PosLine> {
    let conf = dir.join(format!("{name}.conf"));
    std::fs::write(
        &conf,
        format!(
            "pos1-posmode=kinematic\npos1-frequency=l1+2\npos1-soltype=forward\npos1-elmask=10\n\
             pos1-navsys={navsys}\npos2-armode=continuous\npos2-gloarmode=off\npos2-bdsarmode=on\n\
             ant1-anttype=*\nant2-anttype=*\nant2-postype=rinexhead\n\
             file-satantfile={atx}\nfile-rcvantfile={atx}\nout-solformat=xyz\n",
            atx = common::data_file(ATX).display()
        ),
    )
    .unwrap();
    let pos = dir.join(format!("{name}.pos"));
    let status = Command::new(require("rnx2rtkp", "rtklib"))
        .arg("-k")
        .arg(&conf)
        .arg("-ts")
        .args(&span.0)
        .arg("-te")
        .args(&span.1)
        .arg("-o")
        .arg(&pos)
        .args([&rover.0, &base.0, &rover.1, &base.1])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("rnx2rtkp runs");
    assert!(status.success(), "rnx2rtkp -k {}", conf.display());
    std::fs::read_to_string(&pos)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('%') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let num = |i: usize| -> f64 {
                f[i].parse()
                    .unwrap_or_else(|_| panic!("{}: {l}", pos.display()))
            };
            PosLine {
                xyz: Vector3::new(num(2), num(3), num(4)),
                fixed: f[5] == "1",
                nsat: num(6),
            }
        })
        .collect()
}

fn score(lines: &[PosLine], truth: &Vector3<f64>) -> Score {
    let errs: Vec<Vector3<f64>> = lines
        .iter()
        .filter(|l| l.fixed)
        .map(|l| corsd::gnss::geodesy::enu(truth, &l.xyz))
        .collect();
    let n = lines.len().max(1) as f64;
    Score {
        epochs: lines.len(),
        fix_pct: 100.0 * errs.len() as f64 / n,
        wrong: errs.iter().filter(|e| e.norm() > WRONG_FIX_M).count(),
        mean_enu: errs.iter().sum::<Vector3<f64>>() / errs.len().max(1) as f64,
        mean_nsat: lines.iter().map(|l| l.nsat).sum::<f64>() / n,
    }
}

fn row(name: &str, s: &Score) -> String {
    format!(
        "| {name} | {} | {:.1} | {} | {:+.1} {:+.1} {:+.1} | {:.1} |",
        s.epochs,
        s.fix_pct,
        s.wrong,
        s.mean_enu.x * 1e3,
        s.mean_enu.y * 1e3,
        s.mean_enu.z * 1e3,
        s.mean_nsat
    )
}

/// The message types of a recording, after checking it is whole RTCM3 frames.
fn message_types(path: &Path) -> BTreeSet<u16> {
    let bytes = std::fs::read(path).unwrap();
    let frames = common::frames(&bytes);
    let framed: usize = frames.iter().map(Vec::len).sum();
    // SIGTERM may cut the last frame short; everything before it is whole frames.
    assert!(
        bytes.len() - framed < 1100,
        "{}: {} of {} bytes outside frames",
        path.display(),
        bytes.len() - framed,
        bytes.len()
    );
    frames
        .iter()
        .map(|f| rtcm3::message_number(common::payload(f)).unwrap())
        .collect()
}

fn start_caster(dir: &Path) -> (Daemon, u16) {
    let caster = free_port();
    let mounts: String = MOUNTS
        .iter()
        .map(|m| {
            format!(
                "[[caster.mount]]\nname = \"{}\"\nmessages = \"{}\"\ncoordinates = \"receiver\"\n",
                m.name, m.messages
            )
        })
        .collect();
    let config = format!(
        r#"data_dir = "{d}"
[station]
name = "STR2"
position = {{ x = {sx}, y = {sy}, z = {sz} }}

[[source]]
kind = "file"
name = "rx"
path = "{base}"
speed = {SPEED}

[health]
listen = "127.0.0.1:{health}"

[[caster]]
listen = "127.0.0.1:{caster}"
{mounts}"#,
        d = dir.display(),
        sx = STR2[0],
        sy = STR2[1],
        sz = STR2[2],
        base = common::data_file(STR24).display(),
        health = free_port(),
    );
    (run_daemon(dir, &config, caster), caster)
}

#[test]
fn rtklib_rover_fixes_on_the_msm4_and_the_legacy_mount() {
    let dir = temp_dir("monitor-interop");
    let (daemon, caster) = start_caster(&dir);
    let t0 = Instant::now();
    let recorders: Vec<(Child, PathBuf)> = MOUNTS
        .iter()
        .map(|m| {
            let out = dir.join(format!("{}.rtcm3", m.name));
            (str2str_rover(caster, m.name, &out), out)
        })
        .collect();
    // Meanwhile, what the rover's own receiver gives it, and the raw base for the baseline.
    let rover = replay_rinex(&dir, STR17, "STR1");
    let raw = convbin(&dir, &common::data_file(STR24), "raw");
    std::thread::sleep(RECORD.saturating_sub(t0.elapsed()));
    let recorded: Vec<PathBuf> = recorders
        .into_iter()
        .map(|(child, out)| {
            stop(child);
            out
        })
        .collect();
    drop(daemon);
    let series = read_series(&dir.join("series"));

    let served = arp_1006(STR24);
    let truth = Vector3::from(STR1) + Vector3::from(served) - Vector3::from(STR2);
    let mut table = vec![
        "| rnx2rtkp 2.4.3, STR1 rover | epochs | Q=1 % | wrong fixes | mean fixed E N U mm | mean sats |".to_string(),
        "|---|---|---|---|---|---|".to_string(),
    ];
    let mut failures = Vec::new();
    for (m, path) in MOUNTS.iter().zip(&recorded) {
        let types = message_types(path);
        let allowed: BTreeSet<u16> = m
            .messages
            .split(',')
            .map(|t| t.split('(').next().unwrap().parse().unwrap())
            .collect();
        assert!(
            types.is_subset(&allowed) && m.obs_types.iter().all(|t| types.contains(t)),
            "{}: served {types:?}",
            m.name
        );
        assert!(
            series.contains(&format!("rover,client=127.0.0.1,mountpoint={} ", m.name)),
            "{}: the caster did not record the rover's GGA",
            m.name
        );
        let base = convbin(&dir, path, m.name);
        let (approx, first, last) = rinex_span(&base.0);
        // The base position rnx2rtkp uses is the one the mount served.
        let off = (Vector3::from(approx) - Vector3::from(served)).norm();
        assert!(
            off < 1e-3,
            "{}: RINEX header {approx:?}, 1006 {served:?}",
            m.name
        );
        let span = (first, last);
        let got = score(
            &rnx2rtkp(&dir, m.name, m.navsys, &rover, &base, &span),
            &truth,
        );
        let baseline = score(
            &rnx2rtkp(
                &dir,
                &format!("raw-{}", m.name),
                m.navsys,
                &rover,
                &raw,
                &span,
            ),
            &truth,
        );
        table.push(row(&format!("{} (navsys {})", m.name, m.navsys), &got));
        table.push(row(
            &format!("raw pair, same span (navsys {})", m.navsys),
            &baseline,
        ));

        let mut check = |ok: bool, what: String| {
            if !ok {
                failures.push(format!("{}: {what}", m.name));
            }
        };
        check(
            got.epochs >= 300,
            format!(
                "{} epochs solved from {} to {}",
                got.epochs,
                span.0.join(" "),
                span.1.join(" ")
            ),
        );
        check(
            got.fix_pct >= m.fix_floor_pct,
            format!("{:.1} % Q=1, below {} %", got.fix_pct, m.fix_floor_pct),
        );
        check(
            got.fix_pct >= baseline.fix_pct - FIX_VS_RAW_PCT,
            format!(
                "{:.1} % Q=1 against {:.1} % on the raw pair",
                got.fix_pct, baseline.fix_pct
            ),
        );
        check(
            got.wrong == 0,
            format!("{} fixes over {WRONG_FIX_M} m", got.wrong),
        );
        let e = got.mean_enu;
        check(
            e.x.abs() <= MEAN_H_M && e.y.abs() <= MEAN_H_M && e.z.abs() <= MEAN_U_M,
            format!(
                "mean fixed error {:.1} {:.1} {:.1} mm",
                e.x * 1e3,
                e.y * 1e3,
                e.z * 1e3
            ),
        );
        let d = got.mean_enu - baseline.mean_enu;
        check(
            d.iter().all(|c| c.abs() <= MEAN_VS_RAW_M),
            format!(
                "mean fixed error {:.1} {:.1} {:.1} mm from the raw pair's",
                d.x * 1e3,
                d.y * 1e3,
                d.z * 1e3
            ),
        );
        // Every satellite the raw pair uses, the mount's rover uses too (GLONASS from 1012).
        check(
            got.mean_nsat >= baseline.mean_nsat - 0.5,
            format!(
                "{:.1} satellites against {:.1} on the raw pair",
                got.mean_nsat, baseline.mean_nsat
            ),
        );
    }
    eprintln!("{}", table.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}
