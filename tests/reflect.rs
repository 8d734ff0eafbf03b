//! `corsd reflect` (GNSS interferometric reflectometry) against gnssrefl 4.2.3 run on the same
//! day in the same test, against a simulated reflector of known height, and on bad input.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::servers::{corsd, temp_dir};

const ESBC: &str = "rinex/nav-solutions_data/ESBC00DNK_R_20201770000_01D_30S_MO.crx.gz";
const GRG: &str = "products/nav-solutions_data/GRG0MGXFIN_20201770000_01D_15M_ORB.SP3.gz";
/// The site's three reflectors by azimuth (degrees).
const SECTORS: [f64; 4] = [0.0, 120.0, 250.0, 360.0];
/// Per-sector medians agree within this (m).
const SECTOR_TOL_M: f64 = 0.02;
/// Arcs both keep agree within this (m)…
const MATCH_TOL_M: f64 = 0.03;
/// …for at least this share of them.
const MATCH_SHARE: f64 = 0.90;
/// Arcs are the same when their mid-times are this close (s).
const MATCH_DT_S: f64 = 600.0;

/// One accepted arc, from either program.
#[derive(Clone, Debug)]
struct Arc {
    sat: String,
    signal: String,
    /// Hours of the day.
    hour: f64,
    /// Azimuth at the arc's lowest elevation.
    az: f64,
    rh: f64,
}

fn venv_bin(name: &str) -> PathBuf {
    let p = common::venv_python().with_file_name(name);
    assert!(
        p.is_file(),
        "{} is missing: run scripts/test.sh --install (it installs gnssrefl 4.2.3 into .venv)",
        p.display()
    );
    p
}

fn gunzip(from: &Path, to: &Path) {
    use std::io::Read;
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(from).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    std::fs::write(to, text).unwrap();
}

/// gnssrefl's signal code → (system letter, signal name as corsd prints it).
fn gnssrefl_signal(freq: u32) -> Option<(char, &'static str)> {
    Some(match freq {
        1 => ('G', "L1"),
        20 => ('G', "L2C"),
        5 => ('G', "L5"),
        101 => ('R', "L1"),
        102 => ('R', "L2"),
        201 => ('E', "E1"),
        205 => ('E', "E5a"),
        206 => ('E', "E6"),
        207 => ('E', "E5b"),
        208 => ('E', "E5"),
        302 => ('C', "B1I"),
        306 => ('C', "B3I"),
        307 => ('C', "B2I"),
        _ => return None,
    })
}

/// Run rinex2snr, gnssir_input and gnssir offline in `dir`; the arcs and the seconds taken.
fn gnssrefl(dir: &Path) -> (Vec<Arc>, f64) {
    let (refl, orbits, exe) = (dir.join("refl"), dir.join("orbits"), dir.join("exe"));
    let sp3_dir = orbits.join("2020/sp3");
    for d in [&refl, &sp3_dir, &exe] {
        std::fs::create_dir_all(d).unwrap();
    }
    gunzip(
        &common::data_file(GRG),
        &sp3_dir.join("GRG0MGXFIN_20201770000_01D_15M_ORB.SP3"),
    );
    // gnssrefl expands Hatanaka files with an external CRX2RNX; hand it the plain file, made by
    // the hatanaka package of the same venv.
    let rnx = dir.join("ESBC00DNK_R_20201770000_01D_30S_MO.rnx");
    let out = Command::new(common::venv_python())
        .arg("-c")
        .arg(
            "import sys, hatanaka, pathlib; \
             pathlib.Path(sys.argv[2]).write_bytes(hatanaka.decompress(pathlib.Path(sys.argv[1]).read_bytes()))",
        )
        .arg(common::data_file(ESBC))
        .arg(&rnx)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = |name: &str, args: &[&str]| {
        let out = Command::new(venv_bin(name))
            .args(args)
            .current_dir(dir)
            .env("REFL_CODE", &refl)
            .env("ORBITS", &orbits)
            .env("EXE", &exe)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {text}");
        text
    };
    let start = Instant::now();
    let r = run(
        "rinex2snr",
        &["-input_file", rnx.to_str().unwrap(), "-orb", "grg"],
    );
    assert!(r.contains("SNR file was created"), "rinex2snr: {r}");
    // The header's APPROX POSITION as latitude, longitude, ellipsoidal height.
    let g = corsd::gnss::geodesy::ecef_to_geodetic(&nalgebra::Vector3::new(
        3582105.2910,
        532589.7313,
        5232754.8054,
    ));
    run(
        "gnssir_input",
        &[
            "esbc",
            "-lat",
            &g.lat.to_degrees().to_string(),
            "-lon",
            &g.lon.to_degrees().to_string(),
            "-height",
            &g.h.to_string(),
            "-allfreq",
            "T",
            "-Hortho",
            &g.h.to_string(),
        ],
    );
    run("gnssir", &["esbc", "2020", "177"]);
    let secs = start.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(refl.join("2020/results/esbc/177.txt")).unwrap();
    let mut arcs = Vec::new();
    for l in text.lines().filter(|l| !l.starts_with('%')) {
        let v: Vec<f64> = l
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if v.len() < 12 {
            continue;
        }
        let (sys, signal) = gnssrefl_signal(v[10] as u32).expect("a known gnssrefl frequency");
        arcs.push(Arc {
            sat: format!("{sys}{:02}", v[3] as u32 % 100),
            signal: signal.into(),
            hour: v[4],
            az: v[5],
            rh: v[2],
        });
    }
    (arcs, secs)
}

/// `corsd reflect --json`: the accepted arcs, stderr, seconds taken.
fn reflect(args: &[&str]) -> (Vec<Arc>, String, f64) {
    let start = Instant::now();
    let out = corsd().arg("reflect").args(args).output().unwrap();
    let secs = start.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "corsd reflect {args:?}: {err}");
    let mut arcs = Vec::new();
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        let time = v["time"].as_str().unwrap();
        let t = chrono::DateTime::parse_from_rfc3339(time).unwrap();
        use chrono::Timelike;
        // GPS time of day, as gnssrefl keeps it (18 leap seconds in 2020).
        let hour = (t.num_seconds_from_midnight() as f64 + 18.0) / 3600.0;
        arcs.push(Arc {
            sat: v["sat"].as_str().unwrap().into(),
            signal: v["signal"].as_str().unwrap().into(),
            hour,
            az: v["az_low"].as_f64().unwrap(),
            rh: v["rh"].as_f64().unwrap(),
        });
    }
    (arcs, err, secs)
}

fn reflect_fails(args: &[&str]) -> String {
    let out = corsd().arg("reflect").args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "corsd reflect {args:?} should fail: {err}"
    );
    assert!(out.stdout.is_empty(), "a failure prints no arcs");
    err
}

fn sector_medians(arcs: &[Arc]) -> Vec<(usize, f64)> {
    SECTORS
        .windows(2)
        .map(|w| {
            let mut v: Vec<f64> = arcs
                .iter()
                .filter(|a| a.az >= w[0] && a.az < w[1])
                .map(|a| a.rh)
                .collect();
            let n = v.len();
            (n, corsd::gnss::median(&mut v).unwrap_or(f64::NAN))
        })
        .collect()
}

#[test]
fn esbc_day_agrees_with_gnssrefl() {
    let dir = temp_dir("reflect-esbc");
    let (theirs, their_s) = gnssrefl(&dir);
    let (ours, summary, our_s) = reflect(&[
        common::data_file(ESBC).to_str().unwrap(),
        "--sp3",
        common::data_file(GRG).to_str().unwrap(),
        "--azim",
        "0,120,250,360",
        "--json",
    ]);
    eprintln!("{summary}");
    assert!(
        summary.contains("no orbits for BeiDou"),
        "the SP3 has no BeiDou, and the summary says so: {summary}"
    );
    let (a, b) = (sector_medians(&ours), sector_medians(&theirs));
    eprintln!("sector      corsd (arcs, median)   gnssrefl (arcs, median)");
    for (i, w) in SECTORS.windows(2).enumerate() {
        eprintln!(
            "{:>3}–{:<3}   {:>4} {:>8.3}        {:>4} {:>8.3}",
            w[0], w[1], a[i].0, a[i].1, b[i].0, b[i].1
        );
    }
    for (i, ((_, m1), (_, m2))) in a.iter().zip(&b).enumerate() {
        assert!(
            (m1 - m2).abs() <= SECTOR_TOL_M,
            "sector {i}: corsd {m1:.3} m, gnssrefl {m2:.3} m"
        );
    }
    let ratio = ours.len() as f64 / theirs.len() as f64;
    eprintln!(
        "arcs kept: corsd {}, gnssrefl {} ({:+.0} %)",
        ours.len(),
        theirs.len(),
        (ratio - 1.0) * 100.0
    );
    assert!(
        (0.75..=1.25).contains(&ratio),
        "arc counts differ by more than 25 %"
    );
    let mut per_signal: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let (mut matched, mut close) = (0usize, 0usize);
    for o in &ours {
        per_signal
            .entry(format!("{} {}", &o.sat[..1], o.signal))
            .or_default()
            .0 += 1;
        let twin = theirs
            .iter()
            .filter(|t| t.sat == o.sat && t.signal == o.signal)
            .min_by(|x, y| (x.hour - o.hour).abs().total_cmp(&(y.hour - o.hour).abs()));
        if let Some(t) = twin
            && (t.hour - o.hour).abs() * 3600.0 <= MATCH_DT_S
        {
            matched += 1;
            if (t.rh - o.rh).abs() <= MATCH_TOL_M {
                close += 1;
            }
        }
    }
    for t in &theirs {
        per_signal
            .entry(format!("{} {}", &t.sat[..1], t.signal))
            .or_default()
            .1 += 1;
    }
    eprintln!("signal   corsd gnssrefl");
    for (s, (n1, n2)) in &per_signal {
        eprintln!("{s:<8} {n1:>5} {n2:>8}");
    }
    let share = close as f64 / matched.max(1) as f64;
    eprintln!(
        "matched arcs {matched}: {close} within {MATCH_TOL_M} m ({:.1} %)",
        share * 100.0
    );
    eprintln!("time: corsd {our_s:.2} s (debug build), gnssrefl rinex2snr + gnssir {their_s:.2} s");
    assert!(
        matched as f64 >= 0.75 * theirs.len() as f64,
        "too few arcs matched: {matched}"
    );
    assert!(
        share >= MATCH_SHARE,
        "only {:.1} % of matched arcs agree",
        share * 100.0
    );
}

/// A simulated station whose every signal's C/N0 carries a ground reflection from a known
/// height: every signal gives it back.
#[test]
fn simulated_reflector_is_recovered_on_every_signal() {
    const H: f64 = 2.35;
    let dir = temp_dir("reflect-sim");
    let file = dir.join("sim.rtcm3");
    let out = corsd()
        .args([
            "simulate",
            "--msm",
            "7",
            "--duration",
            "21600",
            "--interval",
            "10",
            "--systems",
            "GREC",
            "--reflector",
            &H.to_string(),
            "-o",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (arcs, summary, secs) = reflect(&[
        file.to_str().unwrap(),
        "--date",
        "2026-03-01",
        "--no-refraction",
        "--json",
    ]);
    eprintln!("{summary}corsd reflect: {secs:.2} s");
    let mut per: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for a in &arcs {
        per.entry(format!("{} {}", &a.sat[..1], a.signal))
            .or_default()
            .push(a.rh);
    }
    for sys in ['G', 'R', 'E', 'C'] {
        assert!(
            per.keys().any(|k| k.starts_with(sys)),
            "no arc kept for system {sys}: {summary}"
        );
    }
    for (sig, rh) in &per {
        let worst = rh.iter().map(|r| (r - H).abs()).fold(0.0, f64::max);
        eprintln!("{sig:<8} {:>3} arcs, worst error {:.4} m", rh.len(), worst);
        assert!(
            worst <= 0.01,
            "{sig}: an arc {worst:.3} m off the {H} m reflector"
        );
    }
}

#[test]
fn bad_input_is_named() {
    let dir = temp_dir("reflect-bad");
    // A RINEX file with code and phase but no SNR observables.
    let rnx = dir.join("nosnr.rnx");
    let mut text = String::from(
        "     3.04           OBSERVATION DATA    M                   RINEX VERSION / TYPE\n\
         \x20 3582105.2910   532589.7313  5232754.8054                  APPROX POSITION XYZ\n\
         G    2 C1C L1C                                              SYS / # / OBS TYPES\n\
         \x20                                                           END OF HEADER\n",
    );
    for i in 0..40 {
        text.push_str(&format!(
            "> 2020 06 25 00 {:02} {:>10.7}  0  1\nG05  22000000.000   115000000.000  \n",
            i / 2,
            (i % 2) as f64 * 30.0
        ));
    }
    std::fs::write(&rnx, text).unwrap();
    let sp3 = common::data_file(GRG);
    let err = reflect_fails(&[rnx.to_str().unwrap(), "--sp3", sp3.to_str().unwrap()]);
    assert!(err.contains("no SNR observables"), "{err}");

    // A small simulated stream for the rest.
    let sim = dir.join("sim.rtcm3");
    let out = corsd()
        .args([
            "simulate",
            "--msm",
            "7",
            "--duration",
            "3600",
            "--interval",
            "30",
            "--systems",
            "GE",
            "--reflector",
            "2",
            "-o",
        ])
        .arg(&sim)
        .output()
        .unwrap();
    assert!(out.status.success());
    let sim = sim.to_str().unwrap();
    let err = reflect_fails(&[sim, "--date", "2026-03-01", "--rh", "0.5,100"]);
    assert!(err.contains("resolves reflector heights up to"), "{err}");
    let err = reflect_fails(&[
        sim,
        "--date",
        "2026-03-01",
        "--position",
        "3582105.29,532589.73,9232754.81",
    ]);
    assert!(err.contains("station height"), "{err}");
    // A day the precise orbits cover for GPS, GLONASS and Galileo but not BeiDou.
    let day = dir.join("day.rtcm3");
    let out = corsd()
        .args([
            "simulate",
            "--msm",
            "7",
            "--duration",
            "3600",
            "--interval",
            "30",
            "--systems",
            "GC",
            "--obs-only",
            "--start",
            "2020-06-25T00:00:00Z",
            "-o",
        ])
        .arg(&day)
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = reflect_fails(&[
        day.to_str().unwrap(),
        "--date",
        "2020-06-25",
        "--systems",
        "GC",
        "--position",
        "3582105.2910,532589.7313,5232754.8054",
        "--sp3",
        sp3.to_str().unwrap(),
    ]);
    assert!(err.contains("no orbits for BeiDou"), "{err}");
    let err = reflect_fails(&[sim, "--date", "2026-03-01", "--elev", "30,10"]);
    assert!(err.contains("--elev"), "{err}");
}
