//! PPP on the simulated station: `corsd simulate --products` writes a day of MSM7 observations
//! at 30 s and the precise products of its own satellites (SP3-d orbits, 30 s RINEX clocks,
//! ANTEX of its antennas), and `corsd survey` reads the stream directly and must find the
//! simulated marker within 5 mm (3D), and follow its zenith delay within 1 cm RMS: GPS, BeiDou (its GEO, IGSO and MEO satellites, with the
//! 30 s BeiDou clocks the real products lack), GPS+BeiDou and Galileo. The observations carry
//! code and phase noise and everything the PPP model removes (tide, wind-up, antenna offsets
//! and variations, Shapiro, relativity, a troposphere of known zenith delay): see
//! src/simulate/precise.rs for what the simulation shares with the estimator.
//!
//! Also: the survey of the real ESBC day with `--systems C` says that the products lack 30 s
//! BeiDou clocks and that the IAC SP3's 15 min BeiDou clocks are too coarse.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::servers::{corsd, temp_dir};
use corsd::gnss::geodesy::Geodetic;
use nalgebra::Vector3;

/// Vientiane: BeiDou's GEO and IGSO satellites are high in the sky.
const STATION: (f64, f64, f64) = (17.9757, 102.6331, 180.0);
/// The simulation's default first epoch (`corsd simulate --start`), which dates the stream.
const DATE: &str = "2026-03-01";
/// The station must come out within this of the truth (m, 3D).
const BAR_M: f64 = 0.005;
/// The estimated zenith delay must follow the simulated one within this RMS (m).
const ZTD_BAR_M: f64 = 0.01;

struct Day {
    obs: PathBuf,
    sp3: PathBuf,
    clk: PathBuf,
    atx: PathBuf,
}

/// One simulated day of the station with its products, made once per test.
fn simulate(dir: &Path, systems: &str) -> Day {
    let obs = dir.join("sim.rtcm");
    let products = dir.join("products");
    let started = Instant::now();
    let out = corsd()
        .args(["simulate", "--name", "SIMU", "--station"])
        .arg(format!("{},{},{}", STATION.0, STATION.1, STATION.2))
        .args(["--duration", "86400", "--interval", "30", "--msm", "7"])
        .args(["--systems", systems, "--noise", "--products"])
        .arg(&products)
        .arg("-o")
        .arg(&obs)
        .output()
        .expect("corsd runs");
    assert!(
        out.status.success(),
        "corsd simulate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "simulated 24 h at 30 s ({systems}) with products in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Day {
        obs,
        sp3: products.join("SIMU.sp3"),
        clk: products.join("SIMU.clk"),
        atx: products.join("SIMU.atx"),
    }
}

/// The survey's coordinate and ZTD series for `systems`, and its error against the truth (m).
fn survey(day: &Day, systems: &str, dir: &Path) -> (f64, serde_json::Value, PathBuf) {
    let series = dir.join(format!("series-{systems}.csv"));
    let started = Instant::now();
    let out = corsd()
        .arg("survey")
        .arg(&day.obs)
        .arg("--sp3")
        .arg(&day.sp3)
        .arg("--clk")
        .arg(&day.clk)
        .arg("--atx")
        .arg(&day.atx)
        .args(["--systems", systems, "--date", DATE, "--json", "--series"])
        .arg(&series)
        .output()
        .expect("corsd runs");
    assert!(
        out.status.success(),
        "corsd survey --systems {systems}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let got = Vector3::new(
        j["x"].as_f64().unwrap(),
        j["y"].as_f64().unwrap(),
        j["z"].as_f64().unwrap(),
    );
    let truth = Geodetic::from_degrees(STATION.0, STATION.1, STATION.2).to_ecef();
    let err = (got - truth).norm();
    eprintln!(
        "PPP {systems}: {:.1} mm from the truth (sigmas {:.1} {:.1} {:.1} mm), {:.1} satellites, {:.1} s",
        err * 1e3,
        j["sx"].as_f64().unwrap_or(f64::NAN) * 1e3,
        j["sy"].as_f64().unwrap_or(f64::NAN) * 1e3,
        j["sz"].as_f64().unwrap_or(f64::NAN) * 1e3,
        j["nsat_mean"].as_f64().unwrap_or(f64::NAN),
        started.elapsed().as_secs_f64()
    );
    (err, j, series)
}

/// RMS (m) of the survey's ZTD series against the simulated zenith delay after the first hour.
fn ztd_rms(series: &Path) -> f64 {
    let truth = Geodetic::from_degrees(STATION.0, STATION.1, STATION.2).to_ecef();
    let text = std::fs::read_to_string(series).expect("the series file");
    let mut first: Option<chrono::NaiveDateTime> = None;
    let mut sq = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let t = chrono::NaiveDateTime::parse_from_str(f[0], "%Y-%m-%dT%H:%M:%S").unwrap();
        // The stream starts at 00:00 UTC, which is 00:00:18 GPS time.
        let start = *first.get_or_insert(t.date().and_hms_opt(0, 0, 18).unwrap());
        let elapsed = (t - start).num_seconds() as f64;
        if elapsed < 3600.0 {
            continue;
        }
        let ztd: f64 = f[8].parse().unwrap();
        let want = corsd::simulate::precise::zenith_total(&truth, elapsed);
        sq.push((ztd - want).powi(2));
    }
    assert!(
        !sq.is_empty(),
        "no ZTD after the first hour in {}",
        series.display()
    );
    (sq.iter().sum::<f64>() / sq.len() as f64).sqrt()
}

#[test]
fn simulated_day_gps_within_5_mm() {
    let dir = temp_dir("ppp-sim-g");
    let day = simulate(&dir, "G");
    let (err, j, series) = survey(&day, "G", &dir);
    assert!(
        err < BAR_M,
        "GPS PPP {:.1} mm from the simulated truth: {j}",
        err * 1e3
    );
    let rms = ztd_rms(&series);
    eprintln!(
        "ZTD against the simulated one after the first hour: RMS {:.1} mm",
        rms * 1e3
    );
    assert!(rms < ZTD_BAR_M, "ZTD RMS {:.1} mm", rms * 1e3);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn simulated_day_beidou_gps_galileo_within_5_mm() {
    let dir = temp_dir("ppp-sim-ce");
    let day = simulate(&dir, "GEC");
    for systems in ["C", "GC", "E"] {
        let (err, j, _) = survey(&day, systems, &dir);
        assert!(
            err < BAR_M,
            "{systems} PPP {:.1} mm from the simulated truth: {j}",
            err * 1e3
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn real_products_lack_30_s_beidou_clocks() {
    let data = |rel: &str| common::data_file(rel);
    let out = corsd()
        .arg("survey")
        .arg(data(
            "rinex/nav-solutions_data/ESBC00DNK_R_20201770000_01D_30S_MO.crx.gz",
        ))
        .arg("--sp3")
        .arg(data("products/nav-solutions_data/Sta21114.sp3.gz"))
        .arg("--clk")
        .arg(data(
            "products/nav-solutions_data/GRG0MGXFIN_20201770000_01D_30S_CLK.CLK.gz",
        ))
        .arg("--atx")
        .arg(data("antex/tomojitakasu_RTKLIB/igs05.atx"))
        .args(["--systems", "C", "--hours", "1"])
        .output()
        .expect("corsd runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a BeiDou survey without BeiDou clocks ran: {err}"
    );
    for needle in [
        "BeiDou PPP needs 30 s BeiDou satellite clocks",
        "(--clk) lack",
        "IAC",
        "every 15 min, too coarse",
    ] {
        assert!(err.contains(needle), "{needle:?} not in: {err}");
    }
}
