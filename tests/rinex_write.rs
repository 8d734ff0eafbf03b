//! RINEX 3.04 observation files written by `corsd replay --rinex`: read back, every value equals
//! the decoded stream within the format's resolution, and the same epochs, satellites and values
//! as RTKLIB's `convbin` (an independent RTCM3 → RINEX converter) writes from the same log.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::servers::{corsd, require, temp_dir};
use corsd::gnss::obs::Epoch;
use corsd::gnss::rinex::read_obs;

const STR24: &str = "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3";

type Key = (i64, char, u8, String);

/// (epoch second, system, prn, observation type) → value.
fn values(epochs: &[Epoch]) -> BTreeMap<Key, f64> {
    let mut m = BTreeMap::new();
    for e in epochs {
        for s in &e.sats {
            for sig in &s.signals {
                for (t, v) in [
                    ('C', sig.pseudorange_m),
                    ('L', sig.phase_cycles),
                    ('D', sig.doppler_hz),
                    ('S', sig.cn0_dbhz),
                ] {
                    if let Some(v) = v {
                        m.insert(
                            (
                                e.time.secs(),
                                s.sys.letter(),
                                s.prn,
                                format!("{t}{}", sig.code),
                            ),
                            v,
                        );
                    }
                }
            }
        }
    }
    m
}

fn ours(dir: &std::path::Path) -> Vec<Epoch> {
    let out = corsd()
        .args(["replay", "--station", "STR2", "--country", "AUS", "--rinex"])
        .arg(dir)
        .arg(common::data_file(STR24))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let name = "STR200AUS_R_20181932337_22M_01S_MO.rnx";
    assert!(err.contains(name), "{err}");
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    assert!(text.starts_with("     3.04           OBSERVATION DATA    M (MIXED)"));
    assert!(
        text.contains("TRIMBLE NETR9") && text.contains("LEIAR25.R3"),
        "1033 in the header"
    );
    read_obs(&text).unwrap().0
}

#[test]
fn read_back_equals_the_decoded_stream() {
    let dir = temp_dir("rinex-back");
    let written = values(&ours(&dir));
    // The decoded epochs, straight from the pipeline.
    let data = common::read_data(STR24);
    let mut p = corsd::pipeline::Pipeline::new(corsd::pipeline::PipelineConfig {
        points: false,
        ..Default::default()
    });
    let mut out = corsd::pipeline::Output::default();
    p.push(&data, &mut out);
    p.finish(&mut out);
    let decoded = values(&out.epochs);
    assert_eq!(written.len(), decoded.len(), "values written vs decoded");
    let mut worst: f64 = 0.0;
    for (k, v) in &decoded {
        let w = written
            .get(k)
            .unwrap_or_else(|| panic!("{k:?} not written"));
        worst = worst.max((w - v).abs());
    }
    // F14.3: half a unit of the last digit.
    assert!(worst <= 0.0005 + 1e-9, "largest difference {worst}");
    // The same bytes twice.
    let again = temp_dir("rinex-back-2");
    ours(&again);
    let name = "STR200AUS_R_20181932337_22M_01S_MO.rnx";
    assert_eq!(
        std::fs::read(dir.join(name)).unwrap(),
        std::fs::read(again.join(name)).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&again);
}

#[test]
fn same_observations_as_rtklib_convbin() {
    let dir = temp_dir("rinex-convbin");
    let mine = values(&ours(&dir));
    let conv = dir.join("convbin.obs");
    let status = Command::new(require("convbin", "rtklib"))
        .args([
            "-r",
            "rtcm3",
            "-v",
            "3.03",
            "-tr",
            "2018/07/12",
            "23:00:00",
            "-od",
            "-os",
            "-o",
        ])
        .arg(&conv)
        .arg(common::data_file(STR24))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let theirs = values(
        &read_obs(&std::fs::read_to_string(&conv).unwrap())
            .unwrap()
            .0,
    );
    let (mut compared, mut only_ours) = (0usize, 0usize);
    let mut bad = Vec::new();
    for (k, v) in &mine {
        let Some(t) = theirs.get(k) else {
            only_ours += 1;
            continue;
        };
        compared += 1;
        // RTKLIB keeps C/N0 in 0.25 dB-Hz steps; everything else to the format's millimetre.
        let tol = if k.3.starts_with('S') { 0.25 } else { 0.0015 };
        if (v - t).abs() > tol {
            bad.push((k.clone(), *v, *t));
        }
    }
    // convbin reads the whole log before writing (it knows each GLONASS satellite's frequency
    // channel from a 1020 that arrives later); a streaming converter can give GLONASS phase in
    // cycles only from the first 1020 of the satellite on. Everything else must be in both.
    let mut first_phase: BTreeMap<u8, i64> = BTreeMap::new();
    for k in mine.keys().filter(|k| k.1 == 'R' && k.3.starts_with('L')) {
        let t = first_phase.entry(k.2).or_insert(k.0);
        *t = (*t).min(k.0);
    }
    let only: Vec<&Key> = theirs.keys().filter(|k| !mine.contains_key(*k)).collect();
    let unexplained: Vec<&&Key> = only
        .iter()
        .filter(|k| {
            !(k.1 == 'R' && k.3.starts_with('L') && first_phase.get(&k.2).is_none_or(|t| k.0 < *t))
        })
        .collect();
    let only_theirs = unexplained.len();
    assert!(
        bad.is_empty(),
        "{} of {compared} values differ, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(5)]
    );
    assert!(compared > 200_000, "{compared} values compared");
    // convbin starts two epochs later (it waits for its first complete epoch).
    assert!(
        only_theirs == 0,
        "{only_theirs} values only convbin wrote, e.g. {:?}",
        &unexplained[..only_theirs.min(5)]
    );
    assert!(
        only_ours < compared / 50,
        "{only_ours} values only corsd wrote"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// RTKLIB's positions from corsd's observation and navigation files, against its own
/// conversion of the same log: an independent reader accepts both files and gets the same
/// quality out of them.
#[test]
fn rtklib_positions_from_our_rinex_match_its_own_conversion() {
    let dir = temp_dir("rinex-rnx2rtkp");
    ours(&dir);
    let nav = dir.join("STR200AUS_R_20181932337_22M_MN.rnx");
    let nav_text = std::fs::read_to_string(&nav).unwrap();
    assert!(nav_text.starts_with("     3.04           N: GNSS NAV DATA    M: MIXED"));
    for sys in ['G', 'R', 'E', 'J', 'C'] {
        assert!(
            nav_text.lines().any(|l| l.starts_with(sys)),
            "no {sys} record"
        );
    }
    // Our reader takes the Keplerian records back (GLONASS is not read yet).
    let (sets, glonass) = corsd::gnss::rinex::read_nav(&nav_text).unwrap();
    assert!(
        sets.len() > 30 && glonass > 5,
        "{} sets, {glonass} skipped",
        sets.len()
    );
    let status = Command::new(require("convbin", "rtklib"))
        .args([
            "-r",
            "rtcm3",
            "-v",
            "3.03",
            "-tr",
            "2018/07/12",
            "23:00:00",
            "-od",
            "-os",
            "-o",
        ])
        .arg(dir.join("c.obs"))
        .arg("-n")
        .arg(dir.join("c.nav"))
        .arg(common::data_file(STR24))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let truth = [-4467075.2780, 2683011.8519, -3667007.0103];
    let solve = |obs: &std::path::Path, nav: &std::path::Path| -> (usize, f64) {
        let pos = dir.join("out.pos");
        let st = Command::new(require("rnx2rtkp", "rtklib"))
            .args(["-p", "0", "-e", "-o"])
            .arg(&pos)
            .arg(obs)
            .arg(nav)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(st.success());
        let text = std::fs::read_to_string(&pos).unwrap();
        let mut sum = 0.0;
        let mut n = 0;
        for l in text.lines().filter(|l| !l.starts_with('%')) {
            let f: Vec<f64> = l
                .split_whitespace()
                .skip(2)
                .take(3)
                .map(|x| x.parse().unwrap())
                .collect();
            sum += (0..3).map(|i| (f[i] - truth[i]).powi(2)).sum::<f64>();
            n += 1;
        }
        (n, (sum / n.max(1) as f64).sqrt())
    };
    let (n_ours, rms_ours) = solve(&dir.join("STR200AUS_R_20181932337_22M_01S_MO.rnx"), &nav);
    let (n_conv, rms_conv) = solve(&dir.join("c.obs"), &dir.join("c.nav"));
    assert!(
        n_ours >= n_conv,
        "{n_ours} solutions from corsd's files, {n_conv} from convbin's"
    );
    assert!(
        rms_ours <= rms_conv * 1.05,
        "3D RMS {rms_ours:.2} m from corsd's files, {rms_conv:.2} m from convbin's"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
