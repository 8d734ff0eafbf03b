//! `corsd rtk` on the real pair of Mount Stromlo stations (MANIFEST): rover STR1
//! (week-rollover-STR17, Septentrio MSM7) against base STR2 (week-rollover-STR24, Trimble MSM4),
//! about 70 m apart, across the GPS week rollover, with igs05.atx; and the same with the roles
//! swapped. Truth is the IGS SINEX coordinates of both stations. RTKLIB 2.4.3's `rnx2rtkp` runs
//! on the same pair in the same test (RINEX written by `corsd replay --rinex`, which dates the
//! epochs after the rollover correctly) with the configuration of RTKLIB-RTK.md, and both are
//! scored and printed side by side.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::servers::{corsd, replay_rinex, require, temp_dir};
use nalgebra::Vector3;

const STR17: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3";
const STR24: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR24.rtcm3";
const ATX: &str = "antex/tomojitakasu_RTKLIB/igs05.atx";
/// SINEX (IGS14, GPS week 2131) coordinates.
const STR1: [f64; 3] = [-4467103.2326, 2683039.4771, -3666948.7128];
const STR2: [f64; 3] = [-4467075.2780, 2683011.8519, -3667007.0103];
/// The GPS week rollover inside the recordings, as the .pos files write it.
const ROLLOVER: &str = "2018/07/15 00:00:00.000";

/// One epoch of a .pos file.
struct PosLine {
    time: String,
    secs: f64,
    xyz: Vector3<f64>,
    fixed: bool,
}

fn read_pos(path: &Path) -> Vec<PosLine> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.starts_with('%') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let hms: Vec<f64> = f[1].split(':').map(|x| x.parse().unwrap()).collect();
            let day: f64 = f[0][8..10].parse().unwrap();
            PosLine {
                time: format!("{} {}", f[0], f[1]),
                secs: day * 86_400.0 + hms[0] * 3600.0 + hms[1] * 60.0 + hms[2],
                xyz: Vector3::new(
                    f[2].parse().unwrap(),
                    f[3].parse().unwrap(),
                    f[4].parse().unwrap(),
                ),
                fixed: f[5] == "1",
            }
        })
        .collect()
}

/// Figures of a solution file against the truth.
#[derive(Debug)]
struct Score {
    epochs: usize,
    fix_before: f64,
    fix_after: f64,
    fix_all: f64,
    first_fix_s: f64,
    /// Longest run of epochs without a fix within a minute of the rollover (s).
    rollover_gap_s: f64,
    wrong: usize,
    mean_enu_mm: Vector3<f64>,
}

fn score(lines: &[PosLine], truth: [f64; 3]) -> Score {
    let truth = Vector3::from(truth);
    let rate = |sel: &dyn Fn(&PosLine) -> bool| {
        let v: Vec<&PosLine> = lines.iter().filter(|l| sel(l)).collect();
        v.iter().filter(|l| l.fixed).count() as f64 / v.len().max(1) as f64
    };
    let fixed: Vec<&PosLine> = lines.iter().filter(|l| l.fixed).collect();
    let errs: Vec<Vector3<f64>> = fixed
        .iter()
        .map(|l| corsd::gnss::geodesy::enu(&truth, &l.xyz))
        .collect();
    let mean = errs.iter().sum::<Vector3<f64>>() / errs.len().max(1) as f64 * 1000.0;
    let t_roll = lines
        .iter()
        .find(|l| l.time.as_str() >= ROLLOVER)
        .map_or(f64::NAN, |l| l.secs);
    let mut gap: f64 = 0.0;
    let mut last_fix = None;
    for l in lines.iter().filter(|l| (l.secs - t_roll).abs() <= 60.0) {
        if l.fixed {
            if let Some(t) = last_fix {
                gap = gap.max(l.secs - t - 1.0);
            }
            last_fix = Some(l.secs);
        }
    }
    Score {
        epochs: lines.len(),
        fix_before: rate(&|l| l.time.as_str() < ROLLOVER),
        fix_after: rate(&|l| l.time.as_str() >= ROLLOVER),
        fix_all: rate(&|_| true),
        first_fix_s: fixed
            .first()
            .map_or(f64::INFINITY, |f| f.secs - lines[0].secs),
        rollover_gap_s: gap,
        wrong: errs.iter().filter(|e| e.norm() > 0.05).count(),
        mean_enu_mm: mean,
    }
}

/// `corsd rtk` with `extra` arguments; returns the .pos lines, the JSON lines, stderr and the
/// whole-process time (s).
fn run_corsd(
    dir: &Path,
    name: &str,
    rover: &str,
    base: &str,
    base_pos: [f64; 3],
    extra: &[&str],
) -> (Vec<PosLine>, Vec<serde_json::Value>, String, f64) {
    let pos = dir.join(format!("{name}.pos"));
    let started = Instant::now();
    let out = corsd()
        .arg("rtk")
        .arg(common::data_file(rover))
        .arg("--base")
        .arg(common::data_file(base))
        .arg(format!(
            "--base-pos={},{},{}",
            base_pos[0], base_pos[1], base_pos[2]
        ))
        .arg("--atx")
        .arg(common::data_file(ATX))
        .arg("--pos")
        .arg(&pos)
        .arg("--json")
        .args(extra)
        .output()
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "corsd rtk {name}: {err}");
    let json = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON solution"))
        .collect();
    (read_pos(&pos), json, err, secs)
}

/// Share of fixed epochs whose fixed double differences include BeiDou.
fn beidou_fixed_share(json: &[serde_json::Value]) -> f64 {
    let fixed: Vec<&serde_json::Value> = json.iter().filter(|j| j["quality"] == "Fixed").collect();
    let with = fixed
        .iter()
        .filter(|j| {
            j["fixed_systems"]
                .as_array()
                .is_some_and(|a| a.iter().any(|s| s == "Beidou"))
        })
        .count();
    with as f64 / fixed.len().max(1) as f64
}

/// RTKLIB 2.4.3 on the pair with RTKLIB-RTK.md's configuration; returns its .pos lines and the
/// whole-process time (s).
fn run_rtklib(
    dir: &Path,
    name: &str,
    rover: &(PathBuf, PathBuf),
    base: &(PathBuf, PathBuf),
    base_pos: [f64; 3],
) -> (Vec<PosLine>, f64) {
    let conf = dir.join(format!("{name}.conf"));
    std::fs::write(
        &conf,
        format!(
            "pos1-posmode=kinematic\npos1-frequency=l1+2\npos1-soltype=forward\npos1-elmask=10\n\
             pos1-navsys=57\npos2-armode=continuous\npos2-gloarmode=off\npos2-bdsarmode=on\n\
             ant1-anttype=*\nant2-anttype=*\nant2-postype=xyz\nant2-pos1={}\nant2-pos2={}\n\
             ant2-pos3={}\nfile-satantfile={atx}\nfile-rcvantfile={atx}\nout-solformat=xyz\n",
            base_pos[0],
            base_pos[1],
            base_pos[2],
            atx = common::data_file(ATX).display()
        ),
    )
    .unwrap();
    let pos = dir.join(format!("{name}.pos"));
    let started = Instant::now();
    let status = std::process::Command::new(require("rnx2rtkp", "rtklib"))
        .arg("-k")
        .arg(&conf)
        .arg("-o")
        .arg(&pos)
        .args([&rover.0, &base.0, &rover.1, &base.1])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("rnx2rtkp runs");
    let secs = started.elapsed().as_secs_f64();
    assert!(status.success(), "rnx2rtkp -k {}", conf.display());
    (read_pos(&pos), secs)
}

fn row(name: &str, s: &Score, secs: f64) -> String {
    format!(
        "| {name} | {:.1} ({:.1} / {:.1}) | {:.0} | {} | {:+.1} {:+.1} {:+.1} | {:.0} |",
        100.0 * s.fix_all,
        100.0 * s.fix_before,
        100.0 * s.fix_after,
        s.first_fix_s,
        s.wrong,
        s.mean_enu_mm.x,
        s.mean_enu_mm.y,
        s.mean_enu_mm.z,
        s.epochs as f64 / secs
    )
}

/// The acceptance bars of a kinematic run.
fn assert_bars(name: &str, s: &Score, json: &[serde_json::Value]) {
    assert!(s.epochs >= 1100, "{name}: {} epochs", s.epochs);
    assert!(
        s.fix_before >= 0.997 && s.fix_after >= 0.997,
        "{name}: fixed {:.4} before and {:.4} after the rollover",
        s.fix_before,
        s.fix_after
    );
    assert!(
        s.first_fix_s <= 1.0,
        "{name}: first fix after {} s",
        s.first_fix_s
    );
    assert!(
        s.rollover_gap_s <= 2.0,
        "{name}: {} s without a fix across the rollover",
        s.rollover_gap_s
    );
    assert_eq!(s.wrong, 0, "{name}: wrong fixes");
    let m = s.mean_enu_mm;
    assert!(
        m.x.abs() <= 5.0 && m.y.abs() <= 5.0 && m.z.abs() <= 10.0,
        "{name}: mean fixed error E {:.1} N {:.1} U {:.1} mm",
        m.x,
        m.y,
        m.z
    );
    let bds = beidou_fixed_share(json);
    assert!(
        bds >= 0.99,
        "{name}: BeiDou fixed in {:.3} of fixed epochs",
        bds
    );
}

/// The static final coordinate, from the last solution, against the truth.
fn assert_static(name: &str, lines: &[PosLine], truth: [f64; 3]) {
    let last = lines.last().expect("a static solution");
    assert!(last.fixed, "{name}: static solution not fixed at the end");
    let e = corsd::gnss::geodesy::enu(&Vector3::from(truth), &last.xyz) * 1000.0;
    eprintln!(
        "{name}: static final E {:+.1} N {:+.1} U {:+.1} mm",
        e.x, e.y, e.z
    );
    assert!(
        (e.x * e.x + e.y * e.y).sqrt() <= 5.0 && e.z.abs() <= 10.0,
        "{name}: static final E {:.1} N {:.1} U {:.1} mm",
        e.x,
        e.y,
        e.z
    );
}

/// Rover against base, kinematic and static, and RTKLIB on the same pair in the same run.
fn pair(tag: &str, rover: (&str, &str, [f64; 3]), base: (&str, &str, [f64; 3])) {
    let (rover_file, rover_name, rover_truth) = rover;
    let (base_file, base_name, base_truth) = base;
    let dir = temp_dir(&format!("rtk-{}", rover_name.to_lowercase()));
    let (lines, json, err, secs) = run_corsd(&dir, "corsd", rover_file, base_file, base_truth, &[]);
    let s = score(&lines, rover_truth);
    let (st, _, _, _) = run_corsd(
        &dir,
        "static",
        rover_file,
        base_file,
        base_truth,
        &["--mode", "static"],
    );
    let rover_obs = replay_rinex(&dir, rover_file, rover_name);
    let base_obs = replay_rinex(&dir, base_file, base_name);
    let (peer, peer_secs) = run_rtklib(&dir, "rnx2rtkp", &rover_obs, &base_obs, base_truth);
    let p = score(&peer, rover_truth);
    eprintln!("{err}");
    eprintln!(
        "| {tag} | fixed % (before / after rollover) | first fix s | wrong fixes | mean fixed E N U mm | epochs/s (this build) |"
    );
    eprintln!("|---|---|---|---|---|---|");
    eprintln!("{}", row("corsd rtk, kinematic", &s, secs));
    eprintln!(
        "{}",
        row("RTKLIB 2.4.3 rnx2rtkp, continuous AR", &p, peer_secs)
    );
    assert!(p.epochs >= 1100, "rnx2rtkp solved {} epochs", p.epochs);
    assert_bars(&format!("{rover_name} rover"), &s, &json);
    assert_static(&format!("{rover_name} rover static"), &st, rover_truth);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn str1_rover_against_str2_base_beats_rtklib() {
    pair(
        "STR1 rover, STR2 base",
        (STR17, "STR1", STR1),
        (STR24, "STR2", STR2),
    );
}

#[test]
fn str2_rover_against_str1_base_beats_rtklib() {
    pair(
        "STR2 rover, STR1 base",
        (STR24, "STR2", STR2),
        (STR17, "STR1", STR1),
    );
}
