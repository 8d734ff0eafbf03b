//! Broadcast ephemerides (1019, 1020, 1042, 1044, 1045, 1046) against rtcm-rs, field by field,
//! and the byte-exact round trip, over every ephemeris frame of every recording.

mod common;

use std::collections::BTreeMap;
use std::f64::consts::PI;

use corsd::messages::rtcm3;
use serde_json::Value;

/// (corsd field, rtcm-rs field, factor from corsd units to rtcm-rs units).
type Map = &'static [(&'static str, &'static str, f64)];

const SC: f64 = 1.0 / PI;

const KEPLER_COMMON: Map = &[
    ("idot", "idot_sc_s", SC),
    ("crs", "crs_m", 1.0),
    ("delta_n", "delta_n_sc_s", SC),
    ("m0", "m0_sc", SC),
    ("cuc", "cuc_rad", 1.0),
    ("e", "eccentricity", 1.0),
    ("cus", "cus_rad", 1.0),
    ("sqrt_a", "sqrt_a_sqrt_m", 1.0),
    ("toe", "toe_s", 1.0),
    ("cic", "cic_rad", 1.0),
    ("omega0", "omega0_sc", SC),
    ("cis", "cis_rad", 1.0),
    ("i0", "i0_sc", SC),
    ("crc", "crc_m", 1.0),
    ("omega", "omega_sc", SC),
    ("omega_dot", "omegadot_sc_s", SC),
    ("toc", "toc_s", 1.0),
];

fn fields(n: u16) -> Vec<(&'static str, &'static str, f64)> {
    let mut v: Vec<_> = KEPLER_COMMON.to_vec();
    let extra: Map = match n {
        1019 => &[
            ("sat", "gps_satellite_id", 1.0),
            ("week", "gps_week_number", 1.0),
            ("ura_index", "ura_index", 1.0),
            ("code_on_l2", "code_on_l2_ind", 1.0),
            ("iode", "iode", 1.0),
            ("af2", "af2_s_s2", 1.0),
            ("af1", "af1_s_s", 1.0),
            ("af0", "af0_s", 1.0),
            ("iodc", "iodc", 1.0),
            ("tgd", "tgd_s", 1.0),
            ("health", "sv_health_ind", 1.0),
            ("l2p_data_flag", "l2_p_data_flag", 1.0),
            ("fit_interval", "fit_interval_ind", 1.0),
        ],
        1044 => &[
            ("sat", "qzss_satellite_id", 1.0),
            ("week", "qzss_week_number", 1.0),
            ("ura_index", "ura_index", 1.0),
            ("code_on_l2", "code_on_l2_ind", 1.0),
            ("iode", "iode", 1.0),
            ("af2", "af2_s_s2", 1.0),
            ("af1", "af1_s_s", 1.0),
            ("af0", "af0_s", 1.0),
            ("iodc", "iodc", 1.0),
            ("tgd", "tgd_s", 1.0),
            ("health", "sv_health_ind", 1.0),
            ("fit_interval", "fit_interval_ind", 1.0),
        ],
        1042 => &[
            ("sat", "bds_satellite_id", 1.0),
            ("week", "bds_week_number", 1.0),
            ("urai", "ura_index", 1.0),
            ("aode", "aode", 1.0),
            ("aodc", "aodc", 1.0),
            ("a2", "a2_s_s2", 1.0),
            ("a1", "a1_s_s", 1.0),
            ("a0", "a0_s", 1.0),
            ("tgd1", "tgd1_s", 1.0),
            ("tgd2", "tgd2_s", 1.0),
            ("unhealthy", "sv_health_flag", 1.0),
        ],
        1045 => &[
            ("sat", "gal_satellite_id", 1.0),
            ("week", "gal_week_number", 1.0),
            ("iodnav", "iodnav", 1.0),
            ("sisa", "sisa_e1_e5a_index", 1.0),
            ("af2", "af2_s_s2", 1.0),
            ("af1", "af1_s_s", 1.0),
            ("af0", "af0_s", 1.0),
            ("bgd_e5a_e1", "bgd_e1_e5a_s", 1.0),
            ("e5a_health", "e5a_sig_health_ind", 1.0),
            ("e5a_data_validity", "e5a_data_validity_flag", 1.0),
        ],
        1046 => &[
            ("sat", "gal_satellite_id", 1.0),
            ("week", "gal_week_number", 1.0),
            ("iodnav", "iodnav", 1.0),
            ("sisa", "sisa_e1_e5b_index", 1.0),
            ("af2", "af2_s_s2", 1.0),
            ("af1", "af1_s_s", 1.0),
            ("af0", "af0_s", 1.0),
            ("bgd_e5a_e1", "bgd_e1_e5a_s", 1.0),
            ("bgd_e5b_e1", "bgd_e1_e5b_s", 1.0),
            ("e5b_health", "e5b_sig_health_ind", 1.0),
            ("e5b_data_validity", "e5b_data_validity_flag", 1.0),
            ("e1b_health", "e1_b_sig_health_ind", 1.0),
            ("e1b_data_validity", "e1_b_data_validity_flag", 1.0),
        ],
        _ => &[],
    };
    v.extend_from_slice(extra);
    v
}

const GLONASS: Map = &[
    ("sat", "glo_satellite_id", 1.0),
    ("almanac_health", "glo_alm_health_flag", 1.0),
    ("almanac_health_available", "glo_alm_health_avail_flag", 1.0),
    ("p1", "p1_ind", 1.0),
    ("bn_msb", "glo_eph_health_flag", 1.0),
    ("p2", "p2_flag", 1.0),
    ("tb", "tb_min", 1.0 / 60.0),
    ("vx", "xn_first_deriv_km_s", 1e-3),
    ("x", "xn_km", 1e-3),
    ("ax", "xn_second_deriv_km_s2", 1e-3),
    ("vy", "yn_first_deriv_km_s", 1e-3),
    ("y", "yn_km", 1e-3),
    ("ay", "yn_second_deriv_km_s2", 1e-3),
    ("vz", "zn_first_deriv_km_s", 1e-3),
    ("z", "zn_km", 1e-3),
    ("az", "zn_second_deriv_km_s2", 1e-3),
    ("p3", "p3_flag", 1.0),
    ("gamma_n", "gamma_n", 1.0),
    ("p", "glo_m_p_ind", 1.0),
    ("ln3", "glo_m_3str_ln_flag", 1.0),
    ("tau_n", "tau_n_s", 1.0),
    ("delta_tau_n", "glo_m_delta_tau_n_s", 1.0),
    ("en", "en_d", 1.0),
    ("p4", "glo_m_p4_flag", 1.0),
    ("ft", "glo_m_ft_ind", 1.0),
    ("nt", "glo_m_nt_d", 1.0),
    ("m", "glo_m_m_ind", 1.0),
    ("additional_data", "additional_data_flag", 1.0),
    ("na", "na_d", 1.0),
    ("tau_c", "tau_c_s", 1.0),
    ("tau_gps", "glo_m_tau_gps_s", 1.0),
    ("ln5", "glo_m_5str_ln_flag", 1.0),
];

fn as_num(v: &Value) -> Option<f64> {
    match v {
        Value::Bool(b) => Some(*b as u8 as f64),
        other => other.as_f64(),
    }
}

/// rtcm-rs keeps several fields as f32: agree to f32 precision, or exactly for integers.
fn agree(ours: f64, theirs: f64) -> bool {
    (ours - theirs).abs() <= (theirs.abs() * 2e-7).max(1e-300)
}

#[test]
fn every_ephemeris_matches_rtcm_rs_and_round_trips() {
    let mut per_type: BTreeMap<u16, usize> = BTreeMap::new();
    let mut mismatches = Vec::new();
    for (file, frame) in common::all_rtcm_frames() {
        let p = common::payload(&frame);
        let n = rtcm3::message_number(p).unwrap_or(0);
        if ![1019, 1020, 1042, 1044, 1045, 1046].contains(&n) {
            continue;
        }
        let msg = rtcm3::decode(p).unwrap_or_else(|e| panic!("{file}: {n}: {e}"));
        assert_eq!(msg.encode(), p, "{file}: {n}: round trip");
        *per_type.entry(n).or_default() += 1;
        let ours = serde_json::to_value(&msg).expect("serialise");
        let (_, f) = rtcm_rs::next_msg_frame(&frame);
        let theirs = serde_json::to_value(f.expect("rtcm-rs frame").get_message()).expect("json");
        let theirs = theirs
            .as_object()
            .and_then(|o| o.values().next())
            .cloned()
            .unwrap_or(Value::Null);
        let table: Vec<_> = if n == 1020 {
            GLONASS.to_vec()
        } else {
            fields(n)
        };
        for (o, t, k) in table {
            let a = as_num(&ours[o]).map(|v| v * k);
            let b = as_num(&theirs[t]);
            match (a, b) {
                (Some(a), Some(b)) if agree(a, b) => {}
                _ => mismatches.push(format!("{file}: {n}: {o}: corsd {a:?} rtcm-rs {t} {b:?}")),
            }
        }
        if n == 1020 {
            // Composite fields that rtcm-rs splits or reinterprets.
            let tk = ours["tk"].as_u64().unwrap_or(0);
            let (h, m, s) = (tk >> 7, (tk >> 1) & 63, (tk & 1) * 30);
            for (v, key) in [(h, "tk_h"), (m, "tk_min"), (s, "tk_s")] {
                if Some(v as f64) != as_num(&theirs[key]) {
                    mismatches.push(format!("{file}: 1020: tk {key}"));
                }
            }
            let chan = ours["channel_plus_7"].as_f64().unwrap_or(0.0) - 7.0;
            if Some(chan) != as_num(&theirs["glo_satellite_freq_chan_number"]) {
                mismatches.push(format!("{file}: 1020: channel"));
            }
            // rtcm-rs turns the 4-year interval N4 into a year (1996 + 4·(N4 − 1)).
            let n4 = ours["n4"].as_f64().unwrap_or(0.0);
            if Some(1996.0 + 4.0 * (n4 - 1.0)) != as_num(&theirs["glo_m_n4_year"]) {
                mismatches.push(format!("{file}: 1020: N4"));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches: {:#?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(20)]
    );
    // STR24 + rollover STR24 + STR17 + sept + ntrip_none/chunked + USCL (MANIFEST).
    assert_eq!(per_type[&1042], 42 + 44 + 33 + 33 + 1, "{per_type:?}");
    assert_eq!(
        per_type[&1019],
        363 + 314 + 113 + 1 + 33 + 33 + 1,
        "{per_type:?}"
    );
    eprintln!("ephemerides compared with rtcm-rs: {per_type:?}");
}

/// Values that rtcm-rs and pyrtcm scale differently are settled by pyrtcm for a sample: the
/// MANIFEST notes pyrtcm's 1042 TGD in ns (and 1019 TGD in s).
#[test]
fn beidou_group_delays_agree_with_pyrtcm() {
    let frames: Vec<Vec<u8>> = common::all_rtcm_frames()
        .into_iter()
        .filter(|(_, f)| rtcm3::message_number(common::payload(f)) == Some(1042))
        .map(|(_, f)| f)
        .take(20)
        .collect();
    let py = common::pyrtcm_decode(&frames);
    for (f, py) in frames.iter().zip(py) {
        let Ok(rtcm3::Message::BdsEph(e)) = rtcm3::decode(common::payload(f)) else {
            panic!("1042 decodes")
        };
        let tgd1_ns = py["DF513"].as_f64().expect("pyrtcm DF513");
        let tgd2_ns = py["DF514"].as_f64().expect("pyrtcm DF514");
        assert!(
            (e.tgd1 * 1e9 - tgd1_ns).abs() < 1e-9,
            "C{:02} TGD1 {} vs {tgd1_ns} ns",
            e.sat,
            e.tgd1
        );
        assert!((e.tgd2 * 1e9 - tgd2_ns).abs() < 1e-9, "C{:02} TGD2", e.sat);
        assert_eq!(py["DF488"].as_f64(), Some(e.sat as f64));
    }
}
