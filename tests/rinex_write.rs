//! RINEX 3.04 observation files written by `corsd replay --rinex`: read back, every value equals
//! the decoded stream within the format's resolution, and the same epochs, satellites and values
//! as RTKLIB's `convbin` (an independent RTCM3 → RINEX converter) writes from the same log.

mod common;

use std::collections::BTreeMap;

use common::servers::{corsd, temp_dir};
use corsd::gnss::obs::Epoch;
use corsd::rinex::read_obs;

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
    let mut p = corsd::station::pipeline::Pipeline::new(corsd::station::pipeline::PipelineConfig {
        points: false,
        ..Default::default()
    });
    let mut out = corsd::station::pipeline::Output::default();
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

/// Where the recordings are, and how convbin must be told their date (`-tr`, GPST calendar).
const ROLLOVER24: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR24.rtcm3";
const ROLLOVER17: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3";

/// What a comparison with convbin found.
#[derive(Debug, Default)]
struct Comparison {
    compared: usize,
    differ: usize,
    only_ours: usize,
    /// Values only convbin wrote that no rule below explains.
    only_theirs_unexplained: usize,
    /// convbin's epochs that it dated whole weeks off (STR17) and were moved back.
    misdated_by_convbin: usize,
    /// Epochs (GPS seconds) with values only corsd wrote.
    only_ours_epochs: std::collections::BTreeSet<i64>,
    /// BeiDou epochs convbin dated after the end of the recording (STR17's negative TOW).
    bds_epochs_dated_beyond: usize,
    phases: usize,
    lli_differ: usize,
    lli_unexplained: usize,
}

/// (epoch second, system, prn, code) → (loss-of-lock flag) for every phase.
fn lli(epochs: &[Epoch]) -> BTreeMap<Key, bool> {
    let mut m = BTreeMap::new();
    for e in epochs {
        for s in &e.sats {
            for sig in s.signals.iter().filter(|g| g.phase_cycles.is_some()) {
                m.insert(
                    (e.time.secs(), s.sys.letter(), s.prn, sig.code.to_string()),
                    sig.slip,
                );
            }
        }
    }
    m
}

/// `corsd replay --rinex` and RTKLIB's `convbin` on the same recording, value by value.
fn compare_with_convbin(rel: &str, station: &str, tr: [&str; 2]) -> Comparison {
    let dir = temp_dir(&format!("rinex-convbin-{station}-{}", rel.len()));
    // Told the date as convbin is, corsd dates the epochs before the stream's first 1013 too.
    let date = tr[0].replace('/', "-");
    let out = corsd()
        .args([
            "replay",
            "--station",
            station,
            "--country",
            "AUS",
            "--date",
            &date,
            "--rinex",
        ])
        .arg(&dir)
        .arg(common::data_file(rel))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let obs = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_MO.rnx"))
        .expect("an observation file");
    let ours = read_obs(&std::fs::read_to_string(&obs).unwrap()).unwrap().0;
    let conv = dir.join("convbin.obs");
    common::convbin(&common::data_file(rel), tr, &["-od", "-os"], &conv, None);
    let theirs = read_obs(&std::fs::read_to_string(&conv).unwrap())
        .unwrap()
        .0;
    let (mine, mine_lli) = (values(&ours), lli(&ours));
    // RTKLIB 2.4.3 dates STR17's epochs after the invalid BeiDou epoch time at the rollover
    // (1073740824 ms) whole weeks in the future: such an epoch that corsd has a whole number of
    // weeks earlier (and convbin does not) is moved there before comparing.
    const WEEK: i64 = 604_800;
    let mut c = Comparison::default();
    let raw_v = values(&theirs);
    let raw_lli = lli(&theirs);
    let mut moved = std::collections::BTreeSet::new();
    let mut redate = |k: &Key| -> Key {
        if mine.contains_key(k) {
            return k.clone();
        }
        match (1..=20)
            .map(|w| (k.0 - w * WEEK, k.1, k.2, k.3.clone()))
            .find(|u| mine.contains_key(u) && !raw_v.contains_key(u))
        {
            Some(u) => {
                moved.insert(k.0);
                u
            }
            None => k.clone(),
        }
    };
    let theirs_v: BTreeMap<Key, f64> = raw_v.iter().map(|(k, v)| (redate(k), *v)).collect();
    let theirs_lli: BTreeMap<Key, bool> = raw_lli.iter().map(|(k, v)| (redate(k), *v)).collect();
    c.misdated_by_convbin = moved.len();
    let mut bad = Vec::new();
    for (k, v) in &mine {
        let Some(t) = theirs_v.get(k) else {
            c.only_ours += 1;
            continue;
        };
        c.compared += 1;
        // RTKLIB keeps C/N0 in 0.25 dB-Hz steps; everything else to the format's millimetre,
        // each file rounding on its own.
        let tol = if k.3.starts_with('S') {
            0.25
        } else {
            0.0010 + 1e-7
        };
        if (v - t).abs() > tol {
            c.differ += 1;
            bad.push((k.clone(), *v, *t));
        }
    }
    c.only_ours_epochs = mine
        .keys()
        .filter(|k| !theirs_v.contains_key(*k))
        .map(|k| k.0)
        .collect();
    if !bad.is_empty() {
        eprintln!("{rel}: e.g. {:?}", &bad[..bad.len().min(5)]);
    }
    // convbin reads the whole log before writing (it knows each GLONASS satellite's frequency
    // channel from a 1020 that arrives later); a streaming converter gives GLONASS phase in
    // cycles only from the first 1020 (or MSM5/7 channel) of the satellite on.
    let mut first_phase: BTreeMap<u8, i64> = BTreeMap::new();
    for k in mine.keys().filter(|k| k.1 == 'R' && k.3.starts_with('L')) {
        let t = first_phase.entry(k.2).or_insert(k.0);
        *t = (*t).min(k.0);
    }
    // STR1 sends the BeiDou epochs of the 14 s before the BDT week turns with TOW −14 … −1 s
    // (30-bit two's complement); convbin dates those 14 epochs weeks after the recording ends.
    let last = ours.last().map_or(0, |e| e.time.secs());
    let bds_beyond: std::collections::BTreeSet<i64> = theirs_v
        .keys()
        .filter(|k| k.1 == 'C' && k.0 > last + WEEK / 2)
        .map(|k| k.0)
        .collect();
    c.bds_epochs_dated_beyond = bds_beyond.len();
    let unexplained: Vec<&Key> = theirs_v
        .keys()
        .filter(|k| !mine.contains_key(*k))
        .filter(|k| !(k.1 == 'C' && bds_beyond.contains(&k.0)))
        .filter(|k| {
            !(k.1 == 'R'
                && (k.3.starts_with('L') || k.3.starts_with('D'))
                && first_phase.get(&k.2).is_none_or(|t| k.0 < *t))
        })
        .collect();
    c.only_theirs_unexplained = unexplained.len();
    if !unexplained.is_empty() {
        let mut by: BTreeMap<(i64, char), usize> = BTreeMap::new();
        for k in &unexplained {
            *by.entry((k.0, k.1)).or_default() += 1;
        }
        eprintln!(
            "{rel}: only convbin, e.g. {:?}; by epoch and system {:?}",
            &unexplained[..unexplained.len().min(5)],
            by.iter().take(40).collect::<Vec<_>>()
        );
    }
    // Loss-of-lock flags on the phases both have. At the first phase of a signal in either file
    // corsd flags LLI (nothing is known of the lock before it) where convbin may not.
    let first_of = |m: &BTreeMap<Key, bool>| {
        let mut f: BTreeMap<(char, u8, String), i64> = BTreeMap::new();
        for k in m.keys() {
            f.entry((k.1, k.2, k.3.clone())).or_insert(k.0);
        }
        f
    };
    let (first_ours, first_theirs) = (first_of(&mine_lli), first_of(&theirs_lli));
    let mut lli_bad = Vec::new();
    for (k, a) in &mine_lli {
        let Some(b) = theirs_lli.get(k) else { continue };
        c.phases += 1;
        if a != b {
            c.lli_differ += 1;
            let sig = (k.1, k.2, k.3.clone());
            if first_ours.get(&sig) != Some(&k.0) && first_theirs.get(&sig) != Some(&k.0) {
                c.lli_unexplained += 1;
                lli_bad.push((k.clone(), *a, *b));
            }
        }
    }
    if !lli_bad.is_empty() {
        eprintln!(
            "{rel}: LLI (corsd, convbin) e.g. {:?}",
            &lli_bad[..lli_bad.len().min(8)]
        );
    }
    eprintln!(
        "{rel}: {} values compared, {} differ; only corsd {} values in {} epochs; only convbin {} unexplained; convbin misdated {} epochs by whole weeks and {} BeiDou epochs beyond the end; LLI on {} phases, {} differ, {} unexplained",
        c.compared,
        c.differ,
        c.only_ours,
        c.only_ours_epochs.len(),
        c.only_theirs_unexplained,
        c.misdated_by_convbin,
        c.bds_epochs_dated_beyond,
        c.phases,
        c.lli_differ,
        c.lli_unexplained
    );
    let _ = std::fs::remove_dir_all(&dir);
    c
}

fn assert_agrees(c: &Comparison, min_values: usize) {
    assert_eq!(c.differ, 0, "{c:?}");
    assert!(c.compared > min_values, "{c:?}");
    assert_eq!(c.only_theirs_unexplained, 0, "{c:?}");
    // corsd writes the epochs before convbin's first complete one, nothing else.
    assert!(c.only_ours < c.compared / 50, "{c:?}");
    assert_eq!(c.lli_unexplained, 0, "{c:?}");
}

#[test]
fn same_observations_as_rtklib_convbin() {
    let c = compare_with_convbin(STR24, "STR2", ["2018/07/12", "23:00:00"]);
    assert_agrees(&c, 200_000);
}

#[test]
fn week_rollover_str24_same_as_convbin() {
    let c = compare_with_convbin(ROLLOVER24, "STR2", ["2018/07/14", "23:50:00"]);
    assert_agrees(&c, 200_000);
    assert_eq!((c.misdated_by_convbin, c.bds_epochs_dated_beyond), (0, 0));
}

/// STR1's MSM7 across the rollover: convbin dates its epochs after 00:00:14 GPST fourteen weeks
/// in the future; corsd dates them continuously, with the same values.
#[test]
fn week_rollover_str17_same_as_convbin() {
    let c = compare_with_convbin(ROLLOVER17, "STR1", ["2018/07/14", "23:50:00"]);
    assert_agrees(&c, 200_000);
    assert!(c.misdated_by_convbin > 500, "{c:?}");
    assert_eq!(c.bds_epochs_dated_beyond, 14, "{c:?}");
    // ... and has no epoch at all in those 14 s (GPST 00:00:00 … 00:00:13 of week 2010): the only
    // values corsd alone wrote.
    let week2010 = 2010 * 604_800;
    assert_eq!(
        c.only_ours_epochs,
        (week2010..week2010 + 14).collect(),
        "{c:?}"
    );
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
    let (sets, glonass) = corsd::rinex::read_nav(&nav_text).unwrap();
    assert!(
        sets.len() > 30 && glonass > 5,
        "{} sets, {glonass} skipped",
        sets.len()
    );
    let (c_obs, c_nav) = (dir.join("c.obs"), dir.join("c.nav"));
    common::convbin(
        &common::data_file(STR24),
        ["2018/07/12", "23:00:00"],
        &["-od", "-os"],
        &c_obs,
        Some(&c_nav),
    );
    let truth = [-4467075.2780, 2683011.8519, -3667007.0103];
    // GPS, GLONASS, QZSS and BeiDou. RTKLIB 2.4.3 gives no Galileo-only solution of STR2 from
    // convbin's navigation file and 24 m from corsd's, whose Galileo records carry the same
    // values (corsd alone: 1.4 m); with Galileo the comparison would measure that.
    let solve = |obs: &std::path::Path, nav: &std::path::Path| {
        common::rtklib_spp(&dir, obs, nav, (15.0, "brdc", 1 + 4 + 16 + 32), truth)
    };
    let (n_ours, rms_ours) = solve(&dir.join("STR200AUS_R_20181932337_22M_01S_MO.rnx"), &nav);
    let (n_conv, rms_conv) = solve(&c_obs, &c_nav);
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

/// An independent RINEX reader (the `rinex` crate) reads corsd's observation and navigation files
/// without error and finds, per satellite and observation type, the same number of values with
/// the same sum as corsd's reader.
#[test]
fn the_rinex_crate_reads_our_files() {
    let dir = temp_dir("rinex-crate");
    let epochs = ours(&dir);
    let mut mine: BTreeMap<(String, String), (usize, f64)> = BTreeMap::new();
    for (k, v) in values(&epochs) {
        // QZSS satellites are numbered by PRN (193…) inside corsd, J01… in RINEX.
        let n = if k.1 == 'J' && k.2 > 192 {
            k.2 - 192
        } else {
            k.2
        };
        let e = mine
            .entry((format!("{}{n:02}", k.1), k.3.clone()))
            .or_default();
        e.0 += 1;
        e.1 += v;
    }
    let obs = rinex::Rinex::from_file(dir.join("STR200AUS_R_20181932337_22M_01S_MO.rnx"))
        .expect("the rinex crate reads our observation file");
    assert!(obs.is_observation_rinex());
    let mut theirs: BTreeMap<(String, String), (usize, f64)> = BTreeMap::new();
    for (_, s) in obs.signal_observations_iter() {
        let e = theirs
            .entry((s.sv.to_string(), s.observable.to_string()))
            .or_default();
        e.0 += 1;
        e.1 += s.value;
    }
    assert_eq!(
        mine.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>()
    );
    for (k, (n, sum)) in &mine {
        let (m, t) = theirs[k];
        assert_eq!(*n, m, "{k:?}");
        assert!(
            (sum - t).abs() <= 1e-6 * sum.abs().max(1.0),
            "{k:?}: {sum} vs {t}"
        );
    }
    let nav = rinex::Rinex::from_file(dir.join("STR200AUS_R_20181932337_22M_MN.rnx"))
        .expect("the rinex crate reads our navigation file");
    let records = nav.nav_ephemeris_frames_iter().count();
    let text = std::fs::read_to_string(dir.join("STR200AUS_R_20181932337_22M_MN.rnx")).unwrap();
    let ours_records = text
        .lines()
        .skip_while(|l| !l.contains("END OF HEADER"))
        .skip(1)
        .filter(|l| l.as_bytes().first().is_some_and(|b| b.is_ascii_uppercase()))
        .count();
    eprintln!(
        "rinex crate: {} observation types × satellites, {records} navigation records",
        theirs.len()
    );
    assert_eq!(records, ours_records);
    let _ = std::fs::remove_dir_all(&dir);
}
