//! Station messages (1005–1008, 1013, 1029, 1033, 1230) and legacy observables (1001–1004,
//! 1009–1012) against rtcm-rs — and pyrtcm where rtcm-rs is wrong — with the byte-exact round
//! trip, over every such frame of every recording.

mod common;

use std::collections::BTreeMap;

use corsd::messages::rtcm3::{self, Message};
use serde_json::Value;

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(*b as u8 as f64),
        other => other.as_f64(),
    }
}

fn agree(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= (b.abs() * 2e-7).max(1e-9),
        (None, None) => true,
        _ => false,
    }
}

fn rtcm_rs(frame: &[u8]) -> Value {
    let (_, f) = rtcm_rs::next_msg_frame(frame);
    let v = serde_json::to_value(f.expect("rtcm-rs frame").get_message()).expect("json");
    v.as_object()
        .and_then(|o| o.values().next())
        .cloned()
        .unwrap_or(Value::Null)
}

const SAT_MAP: &[(&str, &str)] = &[
    ("l1_code", "l1_code_ind"),
    ("l1_pseudorange_m", "l1_pseudorange_m"),
    ("l1_phase_minus_pr_m", "l1_phase_pseudorange_diff_m"),
    ("l1_lock", "l1_lock_time_index"),
    ("l1_ambiguity_m", "l1_pseudorange_amb_m"),
    ("l1_cnr_dbhz", "l1_cnr_dbhz"),
    ("l2_code", "l2_code_ind"),
    ("l2_minus_l1_pr_m", "l2_l1_pseudorange_diff_m"),
    ("l2_phase_minus_l1_pr_m", "l2_phase_l1_pseudorange_diff_m"),
    ("l2_lock", "l2_lock_time_index"),
    ("l2_cnr_dbhz", "l2_cnr_dbhz"),
];

fn compare(msg: &Message, theirs: &Value, out: &mut Vec<String>) {
    let mut texts: Vec<String> = Vec::new();
    let mut check = |what: &str, a: Option<f64>, b: Option<f64>| {
        if !agree(a, b) {
            out.push(format!("{what}: corsd {a:?} rtcm-rs {b:?}"));
        }
    };
    let s = |k: &str| theirs.get(k).and_then(Value::as_str).map(str::to_string);
    match msg {
        Message::StationArp(a) => {
            check(
                "station",
                Some(a.station as f64),
                num(&theirs["reference_station_id"]),
            );
            check("x", Some(a.x_m), num(&theirs["antenna_ref_point_ecef_x_m"]));
            check("y", Some(a.y_m), num(&theirs["antenna_ref_point_ecef_y_m"]));
            check("z", Some(a.z_m), num(&theirs["antenna_ref_point_ecef_z_m"]));
            check(
                "height",
                a.antenna_height_m,
                num(&theirs["antenna_height_m"]),
            );
            check("gps", Some(a.gps as u8 as f64), num(&theirs["gps_flag"]));
            check(
                "glonass",
                Some(a.glonass as u8 as f64),
                num(&theirs["glonass_flag"]),
            );
            check(
                "galileo",
                Some(a.galileo as u8 as f64),
                num(&theirs["galileo_flag"]),
            );
            check(
                "quarter cycle",
                Some(a.quarter_cycle as f64),
                num(&theirs["quarter_cycle_ind"]),
            );
            check(
                "oscillator",
                Some(a.single_oscillator as u8 as f64),
                num(&theirs["single_receiver_osc_ind"]),
            );
            check(
                "itrf year (reserved in rtcm-rs)",
                Some(a.itrf_year as f64),
                num(&theirs["reserved_24_6"]),
            );
        }
        Message::Antenna(a) => {
            if Some(a.descriptor.as_str_lossy()) != s("antenna_descriptor_str")
                || a.serial.as_ref().map(|t| t.as_str_lossy()) != s("antenna_serial_number_str")
            {
                texts.push(format!("antenna strings {a:?} vs {theirs}"));
            }
            check(
                "setup",
                Some(a.setup_id as f64),
                num(&theirs["antenna_setup_id"]),
            );
        }
        Message::Receiver(r) => {
            for (ours, key) in [
                (&r.antenna, "antenna_descriptor_str"),
                (&r.antenna_serial, "antenna_serial_number_str"),
                (&r.receiver, "receiver_type_descriptor_str"),
                (&r.firmware, "receiver_firmware_version_str"),
                (&r.receiver_serial, "receiver_serial_number_str"),
            ] {
                if Some(ours.as_str_lossy()) != s(key) {
                    texts.push(format!("{key}: {:?} vs {:?}", ours.as_str_lossy(), s(key)));
                }
            }
        }
        Message::SystemParameters(p) => {
            check(
                "mjd",
                Some(p.mjd as f64),
                num(&theirs["modified_julian_day_number"]),
            );
            check(
                "sod",
                Some(p.seconds_of_day as f64),
                num(&theirs["seconds_of_day_s"]),
            );
            check(
                "leap",
                Some(p.leap_seconds as f64),
                num(&theirs["leap_seconds_gps_utc_s"]),
            );
            let t = theirs["message_id_announcements"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            check(
                "announcements",
                Some(p.messages.len() as f64),
                Some(t.len() as f64),
            );
            for (m, t) in p.messages.iter().zip(&t) {
                check(
                    "announced id",
                    Some(m.message as f64),
                    num(&t["message_id"]),
                );
                check(
                    "announced sync",
                    Some(m.synchronous as u8 as f64),
                    num(&t["message_sync_flag"]),
                );
                check(
                    "announced interval",
                    Some(m.interval_s),
                    num(&t["message_transmission_interval_s"]),
                );
            }
        }
        Message::Text(t) => {
            if Some(t.text.as_str_lossy()) != s("text_str") {
                texts.push(format!(
                    "1029 text {:?} vs {:?}",
                    t.text.as_str_lossy(),
                    s("text_str")
                ));
            }
            check(
                "mjd",
                Some(t.mjd as f64),
                num(&theirs["modified_julian_day_number"]),
            );
        }
        Message::GpsObs(_) | Message::GloObs(_) => {
            let (station, time, sats) = match msg {
                Message::GpsObs(o) => (o.station, o.tow_ms, &o.sats),
                Message::GloObs(o) => (o.station, o.tod_ms, &o.sats),
                _ => unreachable!("matched above"),
            };
            check(
                "station",
                Some(station as f64),
                num(&theirs["reference_station_id"]),
            );
            let key = if matches!(msg, Message::GpsObs(_)) {
                "gps_epoch_time_ms"
            } else {
                "glo_epoch_time_ms"
            };
            check("epoch", Some(time as f64), num(&theirs[key]));
            let t = theirs["satellites"].as_array().cloned().unwrap_or_default();
            check("satellites", Some(sats.len() as f64), Some(t.len() as f64));
            for (ours, t) in sats.iter().zip(&t) {
                let o = serde_json::to_value(ours).expect("json");
                let id = num(&t["gps_satellite_id"]).or(num(&t["glo_satellite_id"]));
                check("sat", Some(ours.sat as f64), id);
                if let Some(c) = ours.channel_plus_7 {
                    check(
                        "channel",
                        Some(c as f64 - 7.0),
                        num(&t["glo_satellite_freq_chan_number"]),
                    );
                }
                for (ok, tk) in SAT_MAP {
                    // rtcm-rs prefixes the code indicators with the system.
                    let tv = t
                        .get(*tk)
                        .or_else(|| t.get(format!("gps_{tk}")))
                        .or_else(|| t.get(format!("glo_{tk}")));
                    let Some(tv) = tv else { continue };
                    check(ok, num(&o[*ok]), num(tv));
                }
            }
        }
        _ => {}
    }
    out.extend(texts);
}

#[test]
fn station_and_legacy_messages_match_the_oracles_and_round_trip() {
    let mut per_type: BTreeMap<u16, usize> = BTreeMap::new();
    let mut mismatches = Vec::new();
    let mut biases = Vec::new();
    for (file, frame) in common::all_rtcm_frames() {
        let p = common::payload(&frame);
        let n = rtcm3::message_number(p).unwrap_or(0);
        if !matches!(n, 1001..=1013 | 1029 | 1033 | 1230) {
            continue;
        }
        let msg = rtcm3::decode(p).unwrap_or_else(|e| panic!("{file}: {n}: {e}"));
        assert_eq!(msg.encode(), p, "{file}: {n}: round trip");
        *per_type.entry(n).or_default() += 1;
        if n == 1230 {
            // rtcm-rs 0.11 leaves out the 3 reserved bits (DF001) between DF421 and the signal
            // mask DF422, so it reads the mask and biases shifted; pyrtcm decides.
            biases.push((frame.clone(), msg));
            continue;
        }
        let mut out = Vec::new();
        compare(&msg, &rtcm_rs(&frame), &mut out);
        mismatches.extend(out.into_iter().map(|d| format!("{file}: {n}: {d}")));
    }
    let frames: Vec<Vec<u8>> = biases.iter().map(|(f, _)| f.clone()).collect();
    for ((_, msg), py) in biases.iter().zip(common::pyrtcm_decode(&frames)) {
        let Message::GloBiases(b) = msg else {
            panic!("1230 decodes to GloBiases")
        };
        let ours = [b.l1_ca_m, b.l1_p_m, b.l2_ca_m, b.l2_p_m];
        for (k, key) in ["DF423", "DF424", "DF425", "DF426"].iter().enumerate() {
            if !agree(ours[k], py.get(*key).and_then(Value::as_f64)) {
                mismatches.push(format!(
                    "1230 {key}: corsd {:?} pyrtcm {}",
                    ours[k], py[*key]
                ));
            }
        }
        if Some(b.aligned as u8 as f64) != py["DF421"].as_f64() {
            mismatches.push("1230 DF421".into());
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches: {:#?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(20)]
    );
    // MANIFEST: STR24 1006×131 1008×131 1013×132 1033×131 1230×131, rollover STR24 113/113/113/114/113.
    assert_eq!(
        per_type[&1013],
        132 + 113 + 1125 + 1 + 1 + 2,
        "{per_type:?}"
    );
    for n in [1001, 1002, 1003, 1004, 1009, 1010, 1011, 1012, 1029] {
        assert!(
            per_type.contains_key(&n),
            "USCL carries one {n}: {per_type:?}"
        );
    }
    eprintln!("station/legacy messages compared: {per_type:?}");
}

/// The ARPs and descriptors the MANIFEST lists.
#[test]
fn station_metadata_of_the_recordings() {
    let find = |file: &str, n: u16| {
        common::rtcm_rs_frames(&common::read_data(file))
            .into_iter()
            .find(|f| rtcm3::message_number(common::payload(f)) == Some(n))
            .and_then(|f| rtcm3::decode(common::payload(&f)).ok())
            .unwrap_or_else(|| panic!("{file} has a {n}"))
    };
    let Message::StationArp(a) = find(
        "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3",
        1006,
    ) else {
        panic!("1006")
    };
    let near = |a: (f64, f64, f64), b: (f64, f64, f64)| {
        (a.0 - b.0).abs() < 5e-5 && (a.1 - b.1).abs() < 5e-5 && (a.2 - b.2).abs() < 5e-5
    };
    assert!(
        near(
            (a.x_m, a.y_m, a.z_m),
            (-4467074.3577, 2683011.9038, -3667008.2845)
        ),
        "{a:?}"
    );
    let Message::StationArp(a) = find(
        "rtcm3/semuconsulting_pygnssutils/ntrip_encode_none.bin",
        1006,
    ) else {
        panic!("1006")
    };
    assert_eq!(a.station, 25);
    assert!(
        near(
            (a.x_m, a.y_m, a.z_m),
            (3811965.6701, -175800.0708, 5093615.5606)
        ),
        "{a:?}"
    );
    let Message::Receiver(r) = find(
        "rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3",
        1033,
    ) else {
        panic!("1033")
    };
    assert_eq!(r.receiver.as_str_lossy(), "SEPT POLARX5");
    assert!(r.antenna.as_str_lossy().starts_with("ASH701945C_M"));
}
