//! `corsd replay` over several files at once: they run in parallel, and the output is the same
//! bytes as replaying them one by one, in the order given.

mod common;

use common::servers::{corsd, temp_dir};

const FILES: [&str; 3] = [
    "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3",
    "rtcm3/swift-nav_gnss-converters/week-rollover-STR24.rtcm3",
    "rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3",
];

fn replay(files: &[&str], pos: &std::path::Path) -> (String, String) {
    let out = corsd()
        .args(["replay", "--json", "--pos"])
        .arg(pos)
        .args(files.iter().map(|f| common::data_file(f)))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    let body: String = std::fs::read_to_string(pos)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('%'))
        .map(|l| format!("{l}\n"))
        .collect();
    (String::from_utf8(out.stdout).unwrap(), body)
}

#[test]
fn parallel_files_give_the_same_bytes_in_order() {
    let dir = temp_dir("replay-par");
    let (json_all, pos_all) = replay(&FILES, &dir.join("all.pos"));
    let mut json_one = String::new();
    let mut pos_one = String::new();
    for (i, f) in FILES.iter().enumerate() {
        let (j, p) = replay(&[f], &dir.join(format!("{i}.pos")));
        json_one.push_str(&j);
        pos_one.push_str(&p);
    }
    assert!(pos_all.lines().count() > 2000);
    assert_eq!(pos_all, pos_one);
    assert_eq!(json_all, json_one);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Doppler velocity of a static antenna (STR1, MSM7 with Doppler): the `station_position`
/// points carry ve/vn/vu, near zero.
#[test]
fn doppler_velocity_of_a_static_station_is_near_zero() {
    let dir = temp_dir("velocity");
    let out = corsd()
        .args(["replay", "--station", "STR1", "--series"])
        .arg(&dir)
        .arg(common::data_file(FILES[2]))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = common::servers::parse_lines(&common::servers::read_series(&dir));
    let mut sum2 = 0.0;
    let mut n = 0;
    for l in lines.iter().filter(|l| l.measurement == "station_position") {
        let get = |k: &str| l.fields.iter().find(|(f, _)| f == k).map(|x| x.1);
        if let (Some(e), Some(nn), Some(u)) = (get("ve"), get("vn"), get("vu")) {
            sum2 += e * e + nn * nn + u * u;
            n += 1;
        }
    }
    assert!(n > 1000, "{n} velocities");
    let rms = (sum2 / n as f64).sqrt();
    // Measured 0.018 m/s (3D RMS over 1 094 epochs).
    assert!(rms < 0.03, "3D velocity RMS {rms} m/s");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Code multipath and pseudorange corrections in the `satellite` points, on simulated streams
/// whose truth is known: without multipath the code-minus-carrier combination is flat (< 1 cm);
/// with the simulator's multipath it shows; the corrections carry only the atmosphere and the
/// group delays the simulator put in (metres, not kilometres).
#[test]
fn multipath_and_corrections_on_simulated_streams() {
    let dir = temp_dir("mp");
    let station = "--station-pos=-1327313.145,5921985.503,1955881.955";
    let mut stats = Vec::new();
    for (i, extra) in [&[][..], &["--multipath"][..]].iter().enumerate() {
        let file = dir.join(format!("s{i}.rtcm3"));
        let out = corsd()
            .args(["simulate", "--msm", "7", "--duration", "300", "-o"])
            .arg(&file)
            .args(*extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let series = dir.join(format!("series{i}"));
        let out = corsd()
            .args(["replay", "--date", "2026-03-01", station, "--series"])
            .arg(&series)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let lines = common::servers::parse_lines(&common::servers::read_series(&series));
        let field = |k: &str| -> Vec<f64> {
            lines
                .iter()
                .filter(|l| l.measurement == "satellite")
                .filter_map(|l| l.fields.iter().find(|(f, _)| f == k).map(|x| x.1))
                .collect()
        };
        let rms = |v: &[f64]| (v.iter().map(|x| x * x).sum::<f64>() / v.len().max(1) as f64).sqrt();
        let (mp, prc) = (field("mp_m"), field("prc_m"));
        assert!(
            mp.len() > 500 && prc.len() > 500,
            "{} mp, {} prc",
            mp.len(),
            prc.len()
        );
        assert!(
            prc.iter().all(|p| p.abs() < 100.0),
            "PRC beyond the atmosphere"
        );
        stats.push(rms(&mp));
    }
    assert!(
        stats[0] < 0.01,
        "multipath without multipath: {} m",
        stats[0]
    );
    // Measured: 0.048 m with the simulator's multipath, against < 0.01 m without.
    assert!(
        stats[1] > 0.02 && stats[1] > 5.0 * stats[0],
        "simulated multipath not seen: {stats:?} m"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A day of RINEX (Hatanaka-compressed, gzipped) with its navigation file through `corsd
/// replay`: every epoch solved, the RTKLIB `.pos` layout, the QC summary, the engine issue's bar
/// for ESBC GPS+BDS (1.5 m against the header position; RTKLIB 1.42 m).
#[test]
fn rinex_observations_and_navigation_replay() {
    let dir = temp_dir("replay-rinex");
    let pos = dir.join("esbc.pos");
    let d = "rinex/nav-solutions_data/ESBC00DNK_R_20201770000_01D";
    let out = corsd()
        .args(["replay", "--systems", "GC", "--mask", "5", "--pos"])
        .arg(&pos)
        .arg("--station-pos=3582105.2910,532589.7313,5232754.8054")
        .arg("--nav")
        .arg(common::data_file(&format!("{d}_MN.rnx.gz")))
        .arg(common::data_file(&format!("{d}_30S_MO.crx.gz")))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("2880 epochs, 2880 solutions"), "{err}");
    assert!(
        err.contains("epochs 2880 of 2880 expected at 30 s"),
        "{err}"
    );
    let rms: f64 = err
        .split("3D RMS from the station position: ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    assert!(rms <= 1.5, "{rms}");
    let text = std::fs::read_to_string(&pos).unwrap();
    assert!(text.contains("% ionos opt : Broadcast"));
    assert_eq!(text.lines().filter(|l| !l.starts_with('%')).count(), 2880);
    // Without navigation data the error says what to give.
    let out = corsd()
        .args(["replay"])
        .arg(common::data_file(&format!("{d}_30S_MO.crx.gz")))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give --nav FILE"));
    let _ = std::fs::remove_dir_all(&dir);
}
