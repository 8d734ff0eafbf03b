//! `corsd rtk` kinematic on the simulated pair of `corsd simulate --rover`: a rover walking
//! through a forest plot (light canopy, three dense stands that block every satellite) against
//! the station. Every fixed epoch is within 2 cm (3D) of the truth trajectory, no fix is wrong,
//! and the fix comes back after each canopy gap: the time to refix per gap is printed.

use std::collections::BTreeMap;
use std::process::Command;

use corsd::gnss::time::Gpst;

/// Largest 3D error of a fixed epoch against the truth (m).
const FIXED_ERROR_M: f64 = 0.02;

struct Truth {
    pos: [f64; 3],
    canopy: String,
}

fn run(args: &[&str]) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_corsd"))
        .args(args)
        .output()
        .expect("run corsd");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "corsd {}: {err}", args.join(" "));
    (String::from_utf8_lossy(&out.stdout).to_string(), err)
}

#[test]
fn kinematic_rtk_on_the_simulated_forest_walk() {
    let dir = std::env::temp_dir().join(format!("corsd-rtk-sim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = |n: &str| dir.join(n).to_string_lossy().to_string();
    let (base, rover, truth) = (path("base.rtcm3"), path("rover.rtcm3"), path("truth.csv"));
    let (_, sim) = run(&[
        "simulate",
        "--systems",
        "GECJ",
        "--noise",
        "--rover",
        &rover,
        "--truth",
        &truth,
        "-o",
        &base,
    ]);
    eprint!("{sim}");
    let text = std::fs::read_to_string(&truth).expect("truth file");
    // The station's coordinate is in the truth file's first line: the simulated ARP is exact.
    let base_pos = text
        .lines()
        .next()
        .and_then(|l| l.split("ARP ECEF ").nth(1))
        .and_then(|r| r.split(' ').next())
        .expect("station coordinate in the truth header")
        .to_string();
    let mut rows: BTreeMap<i64, Truth> = BTreeMap::new();
    for l in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let n = |i: usize| f[i].parse::<f64>().expect("a number");
        let t = Gpst::from_week_tow(n(0) as i64, n(1));
        rows.insert(
            t.secs(),
            Truth {
                pos: [n(2), n(3), n(4)],
                canopy: f[5].to_string(),
            },
        );
    }
    let started = std::time::Instant::now();
    let (out, err) = run(&[
        "rtk",
        &rover,
        "--base",
        &base,
        "--base-pos",
        &base_pos,
        "--mode",
        "kinematic",
        "--json",
        "--date",
        "2026-03-01",
    ]);
    let elapsed = started.elapsed().as_secs_f64();
    eprint!("{err}");
    // (fixed, 3D error) per solution, by time.
    let mut sol: BTreeMap<i64, (bool, f64)> = BTreeMap::new();
    for l in out.lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("a JSON solution");
        let t = v["time"]["secs"].as_i64().expect("time");
        let p: Vec<f64> = v["position"]
            .as_array()
            .expect("position")
            .iter()
            .map(|x| x.as_f64().expect("a coordinate"))
            .collect();
        let tr = &rows
            .get(&t)
            .unwrap_or_else(|| panic!("solution at {t} outside the truth"))
            .pos;
        let e = ((p[0] - tr[0]).powi(2) + (p[1] - tr[1]).powi(2) + (p[2] - tr[2]).powi(2)).sqrt();
        sol.insert(t, (v["quality"] == "Fixed", e));
    }
    // Fix rate and error per canopy.
    let mut per: BTreeMap<&str, (usize, usize, usize, f64, f64)> = BTreeMap::new();
    for (t, r) in &rows {
        let c = per.entry(r.canopy.as_str()).or_default();
        c.0 += 1;
        if let Some((fixed, e)) = sol.get(t) {
            c.1 += 1;
            if *fixed {
                c.2 += 1;
                c.3 += e * e;
                c.4 = c.4.max(*e);
            }
        }
    }
    for (canopy, (n, solved, fixed, sum2, worst)) in &per {
        eprintln!(
            "{canopy}: {n} epochs, {solved} solutions, {fixed} fixed ({:.1} %), fixed 3D RMS {:.1} mm, worst {:.1} mm",
            100.0 * *fixed as f64 / (*n).max(1) as f64,
            1e3 * (sum2 / (*fixed).max(1) as f64).sqrt(),
            1e3 * worst
        );
    }
    let fixed: Vec<f64> = sol.values().filter(|s| s.0).map(|s| s.1).collect();
    let wrong = fixed.iter().filter(|e| **e > FIXED_ERROR_M).count();
    let worst = fixed.iter().copied().fold(0.0, f64::max);
    eprintln!(
        "{} solutions, {} fixed, {wrong} beyond {} cm, worst {:.1} mm; {:.0} epochs/s (this build)",
        sol.len(),
        fixed.len(),
        FIXED_ERROR_M * 100.0,
        worst * 1e3,
        rows.len() as f64 / elapsed
    );
    assert_eq!(wrong, 0, "fixed epochs beyond {FIXED_ERROR_M} m");
    // The dense stands: from the first epoch with satellites again to the first fix.
    let times: Vec<i64> = rows.keys().copied().collect();
    let t0 = times[0];
    let mut refix = Vec::new();
    for w in times.windows(2) {
        if rows[&w[0]].canopy == "dense" && rows[&w[1]].canopy != "dense" {
            let next_gap = times
                .iter()
                .find(|t| **t > w[1] && rows[t].canopy == "dense")
                .copied()
                .unwrap_or(i64::MAX);
            let first_fix = sol
                .range(w[1]..next_gap)
                .find(|(_, s)| s.0)
                .map(|(t, _)| *t);
            let start = times
                .iter()
                .rev()
                .find(|t| **t < w[1] && rows[t].canopy != "dense")
                .map_or(0, |t| t + 1);
            eprintln!(
                "canopy gap {} s – {} s ({} s): {}",
                start - t0,
                w[1] - t0,
                w[1] - start,
                match first_fix {
                    Some(f) => format!("fixed again {} s after the satellites return", f - w[1]),
                    None => "no fix before the next gap".into(),
                }
            );
            refix.push(first_fix.map(|f| f - w[1]));
        }
    }
    assert_eq!(refix.len(), 3, "three dense stands");
    assert!(
        refix.iter().all(Option::is_some),
        "a gap without a refix: {refix:?}"
    );
    // Under open sky the engine holds the fix.
    let (n, _, f, _, _) = per["open"];
    assert!(f as f64 >= 0.95 * n as f64, "open sky: {f} of {n} fixed");
    let _ = std::fs::remove_dir_all(&dir);
}
