//! End to end through the whole chain: `corsd simulate` (no noise) → RTCM3 bytes →
//! `corsd replay` (framing, decoding, ephemerides, epoch assembly, SPP) must find the simulated
//! station within 1 cm, for all systems together and for BeiDou alone (GEO/IGSO/MEO).

use std::process::Command;

/// The simulator's default station, Vientiane: 17.9757 N, 102.6331 E, 180 m.
fn vientiane() -> String {
    let (a, f) = (6_378_137.0f64, 1.0 / 298.257_223_563);
    let e2 = f * (2.0 - f);
    let (lat, lon, h) = (17.9757f64.to_radians(), 102.6331f64.to_radians(), 180.0);
    let n = a / (1.0 - e2 * lat.sin().powi(2)).sqrt();
    format!(
        "{:.4},{:.4},{:.4}",
        (n + h) * lat.cos() * lon.cos(),
        (n + h) * lat.cos() * lon.sin(),
        (n * (1.0 - e2) + h) * lat.sin()
    )
}

fn rms_of(stderr: &str) -> f64 {
    stderr
        .lines()
        .find_map(|l| l.split("3D RMS from the station position: ").nth(1))
        .and_then(|r| r.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no RMS in: {stderr}"))
}

#[test]
fn noise_free_simulation_gives_the_truth_within_1_cm() {
    let dir = std::env::temp_dir().join(format!("corsd-sim-truth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("vte1.rtcm3");
    let sim = Command::new(env!("CARGO_BIN_EXE_corsd"))
        .args(["simulate", "--msm", "7", "--duration", "120", "-o"])
        .arg(&file)
        .output()
        .expect("run corsd simulate");
    assert!(
        sim.status.success(),
        "{}",
        String::from_utf8_lossy(&sim.stderr)
    );
    for systems in ["GRECJ", "C"] {
        let out = Command::new(env!("CARGO_BIN_EXE_corsd"))
            .args([
                "replay",
                "--smoothing",
                "1",
                "--date",
                "2026-03-01",
                "--systems",
                systems,
            ])
            .arg(format!("--station-pos={}", vientiane()))
            .arg(&file)
            .output()
            .expect("run corsd replay");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        // An epoch is solved as soon as its last MSM arrives; the ephemerides of the first
        // epochs come after their observations, so the first few have too few orbits yet.
        assert!(err.contains("120 epochs, "), "{err}");
        let solved: u32 = err
            .split("120 epochs, ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        assert!(solved >= 112, "{systems}: {solved} solutions\n{err}");
        let rms = rms_of(&err);
        assert!(rms < 0.01, "{systems}: 3D RMS {rms} m");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The fixtures are what their README says: the same command gives the same bytes.
#[test]
fn fixtures_are_reproducible() {
    let dir = std::env::temp_dir().join(format!("corsd-fixtures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (name, args) in [
        (
            "bench-msm7.rtcm3",
            &[
                "--msm",
                "7",
                "--obs-only",
                "--duration",
                "300",
                "--seed",
                "7",
                "--noise",
            ][..],
        ),
        (
            "bench-mixed.rtcm3",
            &["--both-msm", "--duration", "300", "--seed", "7", "--noise"][..],
        ),
    ] {
        let out = dir.join(name);
        let st = Command::new(env!("CARGO_BIN_EXE_corsd"))
            .arg("simulate")
            .args(args)
            .arg("-o")
            .arg(&out)
            .output()
            .expect("run corsd simulate");
        assert!(st.status.success());
        let want = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures")
                .join(name),
        )
        .expect("fixture");
        assert!(
            std::fs::read(&out).expect("output") == want,
            "{name} differs from `corsd simulate {}`",
            args.join(" ")
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
