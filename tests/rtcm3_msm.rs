//! MSM1–7 of every system against rtcm-rs (and pyrtcm where rtcm-rs falls short), and the
//! byte-exact round trip, over every MSM frame of every recording.

mod common;

use std::collections::BTreeMap;

use corsd::messages::rtcm3::msm::{Msm, signal_code};
use corsd::messages::rtcm3::{self, Message};
use serde_json::Value;

const LMS: f64 = 299_792.458;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// rtcm-rs's decode of a frame as JSON: (message number, fields).
fn rtcm_rs_json(frame: &[u8]) -> Value {
    let (_, f) = rtcm_rs::next_msg_frame(frame);
    let m = f
        .expect("rtcm-rs frames every frame we frame")
        .get_message();
    let v = serde_json::to_value(&m).expect("rtcm-rs serialises");
    match v {
        Value::Object(o) => o.into_iter().next().map(|(_, v)| v).unwrap_or(Value::Null),
        other => other,
    }
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// Compare one MSM with rtcm-rs; returns the list of differences.
fn compare(ours: &Msm, theirs: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut check = |what: String, a: Option<f64>, b: Option<f64>, tol: f64| match (a, b) {
        (Some(a), Some(b)) if close(a, b, tol) => {}
        (None, None) => {}
        _ => diffs.push(format!("{what}: corsd {a:?} rtcm-rs {b:?}")),
    };
    check(
        "station".into(),
        Some(ours.station as f64),
        num(&theirs["reference_station_id"]),
        0.0,
    );
    if let Some((day, tod)) = ours.glonass_day_tod_ms() {
        // DF416 day 7 means "unknown": rtcm-rs gives None, corsd keeps the transmitted 7.
        let day = (day != 7).then_some(day as f64);
        check("glo day".into(), day, num(&theirs["glo_day_of_week"]), 0.0);
        check(
            "glo tod".into(),
            Some(tod as f64),
            num(&theirs["glo_epoch_time_ms"]),
            0.0,
        );
    } else {
        let key = theirs
            .as_object()
            .and_then(|o| o.keys().find(|k| k.ends_with("epoch_time_ms")).cloned())
            .unwrap_or_default();
        check(
            "epoch".into(),
            Some(ours.epoch_raw as f64),
            num(&theirs[&key]),
            0.0,
        );
    }
    check(
        "multiple".into(),
        Some(ours.multiple as u8 as f64),
        num(&theirs["msm_multiple_message_flag"]),
        0.0,
    );
    let seg = &theirs["data_segment"];
    let tsats = seg["satellite_data"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if tsats.len() != ours.sats.len() {
        diffs.push(format!(
            "satellites: corsd {} rtcm-rs {}",
            ours.sats.len(),
            tsats.len()
        ));
        return diffs;
    }
    for (s, t) in ours.sats.iter().zip(&tsats) {
        let id = s.id;
        check(
            format!("sat {id} id"),
            Some(id as f64),
            num(&t["satellite_id"]),
            0.0,
        );
        if ours.msm >= 4 {
            check(
                format!("sat {id} rough int"),
                s.rough_int_m.map(|v| (v / LMS).round()),
                num(&t["gnss_satellite_rough_range_integer_ms"]),
                0.0,
            );
        }
        check(
            format!("sat {id} rough mod"),
            Some(s.rough_mod_m / LMS),
            num(&t["gnss_satellite_rough_range_mod1ms_ms"]),
            1e-12,
        );
        if ours.msm == 5 || ours.msm == 7 {
            let ext_theirs = t
                .get("glonass_satellite_frequency_channel_number")
                .and_then(Value::as_f64)
                .map(|c| c + 7.0)
                .or_else(|| t.get("reserved_8_4").and_then(Value::as_f64));
            check(
                format!("sat {id} ext"),
                s.ext_info.map(f64::from),
                ext_theirs,
                0.0,
            );
            check(
                format!("sat {id} rate"),
                s.rough_rate_mps,
                num(&t["gnss_satellite_rough_phaserange_rates_m_s"]),
                0.0,
            );
        }
    }
    let tcells = seg["signal_data"].as_array().cloned().unwrap_or_default();
    // rtcm-rs drops cells whose signal ID it does not know; match by (satellite, signal code).
    let mut by_key: BTreeMap<(u8, String), &Value> = BTreeMap::new();
    for t in &tcells {
        let sat = t["satellite_id"].as_u64().unwrap_or(0) as u8;
        let sig = match &t["signal_id"] {
            Value::Array(a) => format!(
                "{}{}",
                a.first().and_then(Value::as_u64).unwrap_or(0),
                a.get(1).and_then(Value::as_str).unwrap_or("")
            ),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        by_key.insert((sat, sig), t);
    }
    for c in &ours.cells {
        let sat = ours.sats[c.sat as usize].id;
        let code = signal_code(ours.system, c.signal)
            .unwrap_or("??")
            .to_string();
        let Some(t) = by_key.get(&(sat, code.clone())) else {
            check(
                format!(
                    "cell {sat}/{code} (signal {}): missing in rtcm-rs",
                    c.signal
                ),
                Some(0.0),
                None,
                0.0,
            );
            continue;
        };
        let pick = |a: &str, b: &str| {
            t.get(a)
                .or_else(|| t.get(b))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let what = |f: &str| format!("cell {sat}/{code} {f}");
        if ours.msm != 2 {
            check(
                what("fine pr"),
                c.fine_pseudorange_m.map(|v| v / LMS),
                num(&pick(
                    "gnss_signal_fine_pseudorange_ms",
                    "gnss_signal_fine_pseudorange_ext_ms",
                )),
                1e-13,
            );
        }
        if ours.msm >= 2 {
            check(
                what("fine phase"),
                c.fine_phaserange_m.map(|v| v / LMS),
                num(&pick(
                    "gnss_signal_fine_phaserange_ms",
                    "gnss_signal_fine_phaserange_ext_ms",
                )),
                1e-13,
            );
            check(
                what("lock"),
                c.lock_indicator.map(f64::from),
                num(&pick(
                    "gnss_phaserange_lock_time_ind",
                    "gnss_phaserange_lock_time_ext_ind",
                )),
                0.0,
            );
            check(
                what("half cycle"),
                c.half_cycle.map(|b| b as u8 as f64),
                num(&t["half_cycle_ambiguity_ind"]),
                0.0,
            );
        }
        if ours.msm >= 4 {
            check(
                what("cnr"),
                c.cnr_dbhz,
                num(&pick("gnss_signal_cnr_dbhz", "gnss_signal_cnr_ext_dbhz")),
                1e-9,
            );
        }
        if ours.msm == 5 || ours.msm == 7 {
            check(
                what("fine rate"),
                c.fine_rate_mps,
                num(&t["gnss_signal_fine_phaserange_rate_m_s"]),
                1e-9,
            );
        }
    }
    diffs
}

#[test]
fn every_msm_matches_rtcm_rs_and_round_trips() {
    let mut per_type: BTreeMap<u16, usize> = BTreeMap::new();
    let mut unexplained = Vec::new();
    let mut b2b_cells = 0;
    // Cases rtcm-rs cannot judge, decided by pyrtcm below.
    let mut for_pyrtcm: Vec<(Vec<u8>, Msm)> = Vec::new();
    for (file, frame) in common::all_rtcm_frames() {
        let p = common::payload(&frame);
        let n = rtcm3::message_number(p).unwrap_or(0);
        if !rtcm3::msm::is_msm(n) {
            continue;
        }
        let msg = rtcm3::decode(p).unwrap_or_else(|e| panic!("{file}: {n}: {e}"));
        assert_eq!(msg.encode(), p, "{file}: {n}: round trip");
        let Message::Msm(ours) = msg else {
            panic!("{file}: {n} is not an MSM")
        };
        *per_type.entry(n).or_default() += 1;
        let theirs = rtcm_rs_json(&frame);
        if theirs.get("reference_station_id").is_none() {
            // rtcm-rs 0.11 gives no message for an MSM without satellites (the USCL sample's
            // QZSS and NavIC MSMs): pyrtcm decides.
            for_pyrtcm.push((frame.clone(), ours));
            continue;
        }
        let mut has_b2b = false;
        let _ = &mut has_b2b;
        for d in compare(&ours, &theirs) {
            // rtcm-rs 0.11 has no BeiDou B2b (signal IDs 25–27): those cells are checked
            // against pyrtcm in `beidou_b2b_cells_match_pyrtcm`.
            if ours.system == corsd::gnss::Gnss::Beidou && d.contains("missing in rtcm-rs") {
                let sig: u8 = d
                    .split("(signal ")
                    .nth(1)
                    .and_then(|s| s.trim_end_matches("): missing in rtcm-rs").parse().ok())
                    .unwrap_or(0);
                if (25..=27).contains(&sig) {
                    b2b_cells += 1;
                    has_b2b = true;
                    continue;
                }
            }
            unexplained.push(format!("{file}: {n}: {d}"));
        }
        // BDS-3 signals (B2a, B2b, B1C) are checked by pyrtcm as well: a second oracle for the
        // signals rtcm-rs knows least well.
        if has_b2b
            || (ours.system == corsd::gnss::Gnss::Beidou
                && ours.cells.iter().any(|c| c.signal >= 22))
        {
            b2b_cells += ours
                .cells
                .iter()
                .filter(|c| (25..=27).contains(&c.signal))
                .count();
            for_pyrtcm.push((frame.clone(), ours));
        }
    }
    let frames: Vec<Vec<u8>> = for_pyrtcm.iter().map(|(f, _)| f.clone()).collect();
    for ((_, ours), py) in for_pyrtcm.iter().zip(common::pyrtcm_decode(&frames)) {
        for d in compare_pyrtcm(ours, &py) {
            unexplained.push(format!("pyrtcm: {}: {d}", ours.number()));
        }
    }
    assert!(
        for_pyrtcm.len() >= 4 + 32,
        "pyrtcm judged {} frames",
        for_pyrtcm.len()
    );
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for u in &unexplained {
        let k: String = u.split(": ").skip(2).collect::<Vec<_>>().join(": ");
        let k = k
            .split(" corsd")
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .collect();
        *kinds.entry(k).or_default() += 1;
    }
    assert!(
        unexplained.is_empty(),
        "{} mismatches, kinds {kinds:#?}, first: {:#?}",
        unexplained.len(),
        &unexplained[..unexplained.len().min(8)]
    );
    // MANIFEST counts.
    for (t, n) in [
        (1074, 1311 + 1133),
        (1084, 1312 + 1134),
        (1124, 1312 + 1134),
        (1127, 55 + 32 + 32 + 158 + 1126 + 1),
    ] {
        assert_eq!(per_type.get(&t).copied(), Some(n), "type {t}: {per_type:?}");
    }
    assert!(
        b2b_cells > 0,
        "ntrip_encode_none.bin carries BeiDou B2b (7D) cells"
    );
    eprintln!(
        "MSM frames compared: {per_type:?}; judged by pyrtcm: {} (B2b cells {b2b_cells})",
        for_pyrtcm.len()
    );
}

/// Compare with pyrtcm's attributes: header, and every cell (pyrtcm numbers cells _01, _02, …
/// in the same satellite-major order as the cell mask).
fn compare_pyrtcm(ours: &Msm, py: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut check = |what: String, a: f64, b: Option<f64>, tol: f64| {
        if !b.is_some_and(|b| close(a, b, tol)) {
            diffs.push(format!("{what}: corsd {a} pyrtcm {b:?}"));
        }
    };
    check(
        "station".into(),
        ours.station as f64,
        py["DF003"].as_f64(),
        0.0,
    );
    check(
        "multiple".into(),
        ours.multiple as u8 as f64,
        py["DF393"].as_f64(),
        0.0,
    );
    check(
        "satellites".into(),
        ours.sats.len() as f64,
        py["NSat"].as_f64(),
        0.0,
    );
    let epoch_key = ["DF004", "DF248", "DF427", "DF428", "DF546"]
        .into_iter()
        .find(|k| py.get(*k).is_some());
    if let Some(k) = epoch_key {
        check("epoch".into(), ours.epoch_raw as f64, py[k].as_f64(), 0.0);
    }
    let ext = ours.msm >= 6;
    for (k, c) in ours.cells.iter().enumerate() {
        let idx = format!("{:02}", k + 1);
        let sat = ours.sats[c.sat as usize].id;
        let code = signal_code(ours.system, c.signal).unwrap_or("??");
        let what = |f: &str| format!("cell {idx} {sat}/{code} {f}");
        let same_signal = py.get(format!("CELLSIG_{idx}")).and_then(Value::as_str) == Some(code);
        check(
            what("signal (1 = same)"),
            1.0,
            Some(same_signal as u8 as f64),
            0.0,
        );
        let f = |name: &str| py.get(format!("{name}_{idx}")).and_then(Value::as_f64);
        let (pr, ph, lk, cn) = if ext {
            ("DF405", "DF406", "DF407", "DF408")
        } else {
            ("DF400", "DF401", "DF402", "DF403")
        };
        if let Some(v) = c.fine_pseudorange_m {
            check(what("fine pr"), v / LMS, f(pr), 1e-12);
        }
        if let Some(v) = c.fine_phaserange_m {
            check(what("fine phase"), v / LMS, f(ph), 1e-12);
        }
        if let Some(v) = c.lock_indicator {
            check(what("lock"), v as f64, f(lk), 0.0);
        }
        if let Some(v) = c.cnr_dbhz {
            check(what("cnr"), v, f(cn), 1e-9);
        }
        if let Some(v) = c.fine_rate_mps {
            check(what("fine rate"), v, f("DF404"), 1e-9);
        }
    }
    diffs
}

/// The header-only decode that a first look at a recording uses fails exactly where the full
/// decode fails, with the same error, and reads the same header: over the first frame of every
/// MSM type of every recording, cut at every length.
#[test]
fn header_decode_fails_where_the_full_decode_fails() {
    let mut seen: BTreeMap<(String, u16), ()> = BTreeMap::new();
    let mut checked = 0;
    for (file, frame) in common::all_rtcm_frames() {
        let p = common::payload(&frame);
        let n = rtcm3::message_number(p).unwrap_or(0);
        if !rtcm3::msm::is_msm(n) || seen.insert((file.to_string(), n), ()).is_some() {
            continue;
        }
        for len in 0..=p.len() {
            let cut = &p[..len];
            match (Msm::decode(cut), Msm::decode_header(cut)) {
                (Ok(full), Ok(head)) => {
                    assert!(head.sats.is_empty() && head.cells.is_empty());
                    assert_eq!(
                        (full.epoch_raw, full.multiple, full.sat_mask, full.sig_mask),
                        (head.epoch_raw, head.multiple, head.sat_mask, head.sig_mask),
                        "{file}: {n} cut to {len}"
                    );
                }
                (Err(a), Err(b)) => assert_eq!(a, b, "{file}: {n} cut to {len}"),
                (a, b) => panic!(
                    "{file}: {n} cut to {len}: full {:?}, header {:?}",
                    a.err(),
                    b.err()
                ),
            }
            checked += 1;
        }
    }
    assert!(checked > 1000, "{checked} cuts checked");
}
