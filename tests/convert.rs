//! Conversions for older rovers on real MSM7 recordings: the made MSM4 and 1004/1012, decoded by
//! corsd and by rtcm-rs, carry the same satellites and signals as the MSM they were made from,
//! with values equal within the coarser message's resolution; frames passed through are
//! byte-identical; RTKLIB's `convbin` reads the converted legacy stream into the same
//! observations.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use common::servers::temp_dir;
use corsd::feeds::message_set::parse as parse_messages;
use corsd::feeds::transcode::Transcoder;
use corsd::feeds::transcode::msm::{
    LEGACY_CNR_STEP_DBHZ, LEGACY_PHASE_STEP_M, LEGACY_PR_STEP_M, LMS, MSM4_PHASE_STEP_M,
    MSM4_PR_STEP_M, legacy_lock_time_s,
};
use corsd::framing::RawFrame;
use corsd::gnss::Gnss;
use corsd::gnss::time::Gpst;
use corsd::messages::rtcm3::msm::{Msm, lock_time_ms, signal_code};
use corsd::messages::rtcm3::{self, Message};
use corsd::station::pipeline::{Output, Pipeline, PipelineConfig};
use serde_json::Value;

const STR17: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3";
const STR24: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR24.rtcm3";
const SEPT: &str = "rtcm3/swift-nav_gnss-converters/sept.rtcm";
const TRIMBLE_ALLOY: &str = "rtcm3/semuconsulting_pygnssutils/ntrip_encode_none.bin";
const F9P: &str = "rtcm3/semuconsulting_pygnssutils/pygpsdata-rtcm3.log";

// Tolerances: the made value may differ from the source by the rounding to the coarser step
// (half a step) — except at the very edge of the fine fields, where the value that rounds out of
// the field is clamped to its last value (up to one step). So one step for MSM4, whose fine
// fields can reach that edge; half a step for the legacy fields, whose integer part absorbs it.
const MSM4_PR_TOL_M: f64 = MSM4_PR_STEP_M + 1e-9;
const MSM4_PHASE_TOL_M: f64 = MSM4_PHASE_STEP_M + 1e-9;
/// DF403 is whole dB-Hz from 1 to 63.
const MSM4_CNR_TOL_DBHZ: f64 = 0.5 + 1e-9;
const LEGACY_PR_TOL_M: f64 = LEGACY_PR_STEP_M / 2.0 + 1e-6;
/// The legacy phase is the L1 pseudorange as sent plus the phase field, so only the phase
/// field's own rounding remains (after the removed whole cycles).
const LEGACY_PHASE_TOL_M: f64 = LEGACY_PHASE_STEP_M / 2.0 + 1e-6;
/// rtcm-rs keeps the legacy difference fields as f32: 24 bits of mantissa over ±262 m.
const RTCM_RS_F32_TOL_M: f64 = 3e-5;
const LEGACY_CNR_TOL_DBHZ: f64 = LEGACY_CNR_STEP_DBHZ / 2.0 + 1e-9;

/// Shortly before the STR1/STR2 recordings (2018-07-14 23:50 GPST, GPS week 2009).
fn rollover_reference() -> Gpst {
    Gpst::from_week_tow(2009, 604_000.0)
}

/// The pipeline's raw frames of a file, dated by data time as the daemon dates them.
fn frames(rel: &str, reference: Option<Gpst>) -> Vec<RawFrame> {
    let data = if rel.starts_with("fixtures/") {
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
    } else {
        common::read_data(rel)
    };
    let mut p = Pipeline::new(PipelineConfig {
        keep_frames: true,
        points: false,
        reference,
        ..Default::default()
    });
    let mut out = Output::default();
    p.push(&data, &mut out);
    p.finish(&mut out);
    out.frames
}

fn transcode(frames: &[RawFrame], set: &str) -> (Vec<Vec<u8>>, Transcoder) {
    let mut t = Transcoder::new(&parse_messages(set).unwrap());
    let mut out = Vec::new();
    for f in frames {
        out.extend(t.feed(f));
    }
    out.extend(t.finish());
    (out, t)
}

fn payload(frame: &[u8]) -> &[u8] {
    &frame[3..frame.len() - 3]
}

fn decode(frame: &[u8]) -> Message {
    assert_eq!(
        corsd::framing::rtcm3_frame(payload(frame)),
        frame,
        "a whole valid frame"
    );
    rtcm3::decode(payload(frame)).expect("our decoder reads what we made")
}

fn rtcm_rs(frame: &[u8]) -> Value {
    let (_, f) = rtcm_rs::next_msg_frame(frame);
    let v = serde_json::to_value(f.expect("rtcm-rs frames it").get_message()).unwrap();
    v.as_object()
        .and_then(|o| o.values().next())
        .cloned()
        .unwrap_or(Value::Null)
}

fn number(frame: &[u8]) -> u16 {
    rtcm3::message_number(payload(frame)).unwrap()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

/// Source MSMs by (system, epoch field, satellite mask, signal mask): the key a made MSM4 shares
/// with the message it was made from.
type MsmKey = (Gnss, u32, u64, u32);

fn source_msms(frames: &[RawFrame]) -> HashMap<MsmKey, Msm> {
    let mut m = HashMap::new();
    for f in frames {
        if let Ok(Message::Msm(x)) = rtcm3::decode(payload(&f.bytes))
            && x.msm >= 5
        {
            m.insert((x.system, x.epoch_raw, x.sat_mask, x.sig_mask), x);
        }
    }
    m
}

/// rtcm-rs's full pseudorange, phase range (m), lock indicator and CNR per (satellite, signal
/// code) of an MSM4 frame.
type RsCell = (Option<f64>, Option<f64>, Option<f64>, Option<f64>);

fn rtcm_rs_msm4(frame: &[u8]) -> BTreeMap<(u8, String), RsCell> {
    let v = rtcm_rs(frame);
    let seg = &v["data_segment"];
    let mut rough: HashMap<u8, f64> = HashMap::new();
    for s in seg["satellite_data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let id = s["satellite_id"].as_u64().unwrap() as u8;
        if let Some(i) = s["gnss_satellite_rough_range_integer_ms"].as_f64() {
            let m = s["gnss_satellite_rough_range_mod1ms_ms"].as_f64().unwrap();
            rough.insert(id, (i + m) * LMS);
        }
    }
    let mut out = BTreeMap::new();
    for c in seg["signal_data"].as_array().cloned().unwrap_or_default() {
        let id = c["satellite_id"].as_u64().unwrap() as u8;
        let sig = match &c["signal_id"] {
            Value::Array(a) => format!(
                "{}{}",
                a.first().and_then(Value::as_u64).unwrap_or(0),
                a.get(1).and_then(Value::as_str).unwrap_or("")
            ),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let r = rough.get(&id).copied();
        let pr = c["gnss_signal_fine_pseudorange_ms"]
            .as_f64()
            .zip(r)
            .map(|(f, r)| r + f * LMS);
        let ph = c["gnss_signal_fine_phaserange_ms"]
            .as_f64()
            .zip(r)
            .map(|(f, r)| r + f * LMS);
        out.insert(
            (id, sig),
            (
                pr,
                ph,
                c["gnss_phaserange_lock_time_ind"].as_f64(),
                c["gnss_signal_cnr_dbhz"].as_f64(),
            ),
        );
    }
    out
}

/// Check every made MSM4 of `out` against its source; returns the number of cells compared.
fn check_msm4(rel: &str, frames: &[RawFrame], out: &[Vec<u8>]) -> usize {
    let sources = source_msms(frames);
    let mut cells = 0;
    let mut bad = Vec::new();
    for f in out
        .iter()
        .filter(|f| number(f) % 10 == 4 && number(f) > 1070)
    {
        let Message::Msm(m4) = decode(f) else {
            panic!("an MSM")
        };
        let src = sources
            .get(&(m4.system, m4.epoch_raw, m4.sat_mask, m4.sig_mask))
            .unwrap_or_else(|| panic!("{rel}: MSM4 {} without its source", m4.brief()));
        assert_eq!(m4.sats.len(), src.sats.len());
        assert_eq!(m4.cells.len(), src.cells.len(), "{rel}: same cells");
        let theirs = rtcm_rs_msm4(f);
        for (c4, c7) in m4.cells.iter().zip(&src.cells) {
            assert_eq!((c4.sat, c4.signal), (c7.sat, c7.signal));
            cells += 1;
            let id = m4.sats[c4.sat as usize].id;
            let code = signal_code(m4.system, c4.signal).unwrap_or("??");
            let what = format!("{rel} {:?} {id} {code} epoch {}", m4.system, m4.epoch_raw);
            let ms7 = src.lock_time_s(c7).unwrap_or(0.0) * 1000.0;
            let lock4 = lock_time_ms(c4.lock_indicator.unwrap() as u8) as f64;
            // The coarser indicator: the largest 4-bit minimum lock time the source reaches.
            let ind = c4.lock_indicator.unwrap() as u8;
            let lock_ok = lock4 <= ms7 && (ind == 15 || lock_time_ms(ind + 1) as f64 > ms7);
            let mut pairs = vec![
                (
                    "pr",
                    m4.pseudorange_m(c4),
                    src.pseudorange_m(c7),
                    MSM4_PR_TOL_M,
                ),
                (
                    "phase",
                    m4.phaserange_m(c4),
                    src.phaserange_m(c7),
                    MSM4_PHASE_TOL_M,
                ),
                ("cnr", c4.cnr_dbhz, c7.cnr_dbhz, MSM4_CNR_TOL_DBHZ),
            ];
            // rtcm-rs drops cells of signal IDs it does not know.
            if let Some(t) = theirs.get(&(id, code.to_string())) {
                pairs.push(("rtcm-rs pr", t.0, src.pseudorange_m(c7), MSM4_PR_TOL_M));
                pairs.push(("rtcm-rs phase", t.1, src.phaserange_m(c7), MSM4_PHASE_TOL_M));
                pairs.push(("rtcm-rs cnr", t.3, c7.cnr_dbhz, MSM4_CNR_TOL_DBHZ));
                if t.2 != c4.lock_indicator.map(f64::from) {
                    bad.push(format!("{what}: rtcm-rs lock {:?}", t.2));
                }
            }
            for (k, a, b, tol) in pairs {
                match (a, b) {
                    (Some(a), Some(b)) if close(a, b, tol) => {}
                    (None, None) => {}
                    _ => bad.push(format!("{what} {k}: made {a:?} source {b:?}")),
                }
            }
            if !lock_ok {
                bad.push(format!("{what}: lock {lock4} ms from {ms7} ms"));
            }
            assert_eq!(c4.half_cycle, c7.half_cycle);
        }
    }
    assert!(
        bad.is_empty(),
        "{rel}: {} differences, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(8)]
    );
    cells
}

#[test]
fn msm7_to_msm4_on_recordings() {
    let week2009 = rollover_reference();
    let cases: &[(&str, Option<Gpst>, &str, usize)] = &[
        (STR17, Some(week2009), "1074,1084,1094,1114,1124", 5 * 1100),
        (SEPT, None, "1074,1084,1094,1114,1124", 5 * 50),
        (TRIMBLE_ALLOY, None, "1074,1084,1094,1124", 4 * 30),
        (F9P, None, "1074,1084,1094,1124", 4 * 150),
        (
            "fixtures/bench-msm7.rtcm3",
            Some(Gpst::from_week_tow(2408, 0.0)),
            "1074,1084,1094,1114,1124",
            5 * 290,
        ),
    ];
    for (rel, reference, set, min_frames) in cases {
        let frames = frames(rel, *reference);
        let (out, t) = transcode(&frames, set);
        let made: u64 = t.stats.made.values().sum();
        assert!(
            made as usize >= *min_frames,
            "{rel}: {made} made, {:?}",
            t.stats
        );
        assert_eq!(out.len() as u64, made, "{rel}: only what the set asks");
        let cells = check_msm4(rel, &frames, &out);
        println!("{rel}: {made} MSM4 made, {cells} cells within tolerance");
        assert!(cells > 0);
    }
}

#[test]
fn passthrough_is_byte_identical_and_keeps_intervals() {
    let frames = frames(STR17, Some(rollover_reference()));
    // The whole stream: exactly the input.
    let (all, _) = transcode(&frames, "");
    let input: Vec<Vec<u8>> = frames.iter().map(|f| f.bytes.to_vec()).collect();
    assert_eq!(all, input);
    // A native set: every frame out is one of the input, in order, at the asked intervals.
    let (out, _) = transcode(
        &frames,
        "1077,1087,1127,1006(10),1008(10),1013(30),1033(10),1230(10),1019,1020",
    );
    let mut it = input.iter();
    for f in &out {
        assert!(
            it.any(|g| g == f),
            "every frame out is an input frame, in order"
        );
    }
    let count = |n: u16, v: &[Vec<u8>]| v.iter().filter(|f| number(f) == n).count();
    assert_eq!(count(1077, &out), count(1077, &input));
    assert_eq!(count(1019, &out), count(1019, &input));
    assert_eq!(count(1097, &out), 0);
    // 1008 comes every second for 19 minutes: one every 10 s of data time.
    let n1008 = count(1008, &out);
    assert!((112..=116).contains(&n1008), "{n1008} × 1008");
    let n1013 = count(1013, &out);
    assert!((37..=40).contains(&n1013), "{n1013} × 1013");
    // Converting besides: the frames passed through are still the input's bytes.
    let (mixed, _) = transcode(&frames, "1004,1012,1074,1006(10),1008(10),1019,1020,1077");
    let inputs: BTreeSet<&Vec<u8>> = input.iter().collect();
    for f in mixed
        .iter()
        .filter(|f| matches!(number(f), 1006 | 1008 | 1019 | 1020 | 1077))
    {
        assert!(inputs.contains(f));
    }
    assert_eq!(count(1077, &mixed), count(1077, &input));
}

/// rtcm-rs field of a legacy satellite, with or without the system prefix.
fn rs_sat<'a>(t: &'a Value, k: &str) -> Option<&'a Value> {
    t.get(k)
        .or_else(|| t.get(format!("gps_{k}")))
        .or_else(|| t.get(format!("glo_{k}")))
}

struct LegacyCheck {
    sats: usize,
    l2: usize,
}

/// 1004/1012 of `out` against the MSMs of the same epoch in `frames`.
fn check_legacy(rel: &str, frames: &[RawFrame], out: &[Vec<u8>]) -> LegacyCheck {
    let mut epochs: HashMap<(Gnss, u32), Vec<Msm>> = HashMap::new();
    let mut channels: BTreeMap<u8, i8> = BTreeMap::new();
    for f in frames {
        match rtcm3::decode(payload(&f.bytes)) {
            Ok(Message::Msm(m)) if matches!(m.system, Gnss::Gps | Gnss::Glonass) => {
                let key = match m.glonass_day_tod_ms() {
                    Some((_, tod)) => (m.system, tod),
                    None => (m.system, m.epoch_raw),
                };
                epochs.entry(key).or_default().push(m);
            }
            Ok(Message::GloEph(e)) => {
                channels.insert(e.sat, e.channel());
            }
            _ => {}
        }
    }
    let (mut sats, mut l2n) = (0, 0);
    let mut bad = Vec::new();
    for f in out.iter().filter(|f| matches!(number(f), 1004 | 1012)) {
        let m = decode(f);
        let theirs = rtcm_rs(f);
        let (sys, time, list, l1_ids, l2_ids): (_, _, _, &[u8], &[u8]) = match &m {
            Message::GpsObs(o) => (
                Gnss::Gps,
                o.tow_ms,
                &o.sats,
                &[2, 3, 4],
                &[10, 9, 17, 16, 15, 8],
            ),
            Message::GloObs(o) => (Gnss::Glonass, o.tod_ms, &o.sats, &[2, 3], &[9, 8]),
            _ => unreachable!(),
        };
        let src = epochs
            .get(&(sys, time))
            .unwrap_or_else(|| panic!("{rel}: {sys:?} {time} without source"));
        let tsats = theirs["satellites"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            tsats.len(),
            list.len(),
            "{rel}: rtcm-rs sees every satellite"
        );
        for (s, t) in list.iter().zip(&tsats) {
            sats += 1;
            let what = format!("{rel} {sys:?}{:02} at {time}", s.sat);
            // The source cells of this satellite, best signal per band first.
            let cell_of = |ids: &[u8]| {
                ids.iter().find_map(|id| {
                    src.iter().find_map(|m| {
                        let si = m.sats.iter().position(|x| x.id == s.sat)?;
                        let c = m
                            .cells
                            .iter()
                            .find(|c| c.sat as usize == si && c.signal == *id)?;
                        Some((m, c))
                    })
                })
            };
            let (m1, c1) = cell_of(l1_ids).expect("an L1 signal");
            let pr1 = m1.pseudorange_m(c1).unwrap();
            let ours_pr1 = s.l1_pseudorange_full_m().unwrap();
            let rs_pr1 = rs_sat(t, "l1_pseudorange_m")
                .and_then(Value::as_f64)
                .unwrap()
                + rs_sat(t, "l1_pseudorange_amb_m")
                    .and_then(Value::as_f64)
                    .unwrap();
            for (who, v) in [("corsd", ours_pr1), ("rtcm-rs", rs_pr1)] {
                if !close(v, pr1, LEGACY_PR_TOL_M) {
                    bad.push(format!("{what} {who} L1 pr {v} source {pr1}"));
                }
            }
            let channel = m1.sats[c1.sat as usize]
                .ext_info
                .map(|e| e as i8 - 7)
                .or_else(|| channels.get(&s.sat).copied());
            let lambda = |m: &Msm, c| {
                299_792_458.0
                    / m.frequency_hz_with(c, &|p| channels.get(&p).copied())
                        .unwrap()
            };
            let phase_check = |bad: &mut Vec<String>, band: &str, sent: Option<f64>, m: &Msm, c| {
                let (Some(d), Some(ph)) = (sent, m.phaserange_m(c)) else {
                    return;
                };
                let l = lambda(m, c);
                let cycles = (ours_pr1 + d - ph) / l;
                let off = (cycles - cycles.round()) * l;
                if off.abs() > LEGACY_PHASE_TOL_M {
                    bad.push(format!("{what} {band} phase off by {off} m"));
                }
            };
            phase_check(&mut bad, "L1", s.l1_phase_minus_pr_m, m1, c1);
            let rs_ph1 = rs_sat(t, "l1_phase_pseudorange_diff_m").and_then(Value::as_f64);
            if rs_ph1
                .zip(s.l1_phase_minus_pr_m)
                .is_some_and(|(a, b)| !close(a, b, RTCM_RS_F32_TOL_M))
            {
                bad.push(format!("{what} rtcm-rs L1 phase {rs_ph1:?}"));
            }
            if let Some(lock_s) = m1.lock_time_s(c1)
                && legacy_lock_time_s(s.l1_lock) as f64 > lock_s
            {
                bad.push(format!("{what} L1 lock {} above {lock_s}", s.l1_lock));
            }
            if let (Some(a), Some(b)) = (s.l1_cnr_dbhz, c1.cnr_dbhz)
                && !close(a, b, LEGACY_CNR_TOL_DBHZ)
            {
                bad.push(format!("{what} L1 cnr {a} from {b}"));
            }
            if sys == Gnss::Glonass {
                assert_eq!(s.channel_plus_7.map(|c| c as i8 - 7), channel);
            }
            if let Some((m2, c2)) = cell_of(l2_ids) {
                if let (Some(pr2), Some(d)) = (m2.pseudorange_m(c2), s.l2_minus_l1_pr_m) {
                    l2n += 1;
                    if !close(ours_pr1 + d, pr2, LEGACY_PR_TOL_M) {
                        bad.push(format!("{what} L2 pr {} source {pr2}", ours_pr1 + d));
                    }
                    let rs = rs_sat(t, "l2_l1_pseudorange_diff_m").and_then(Value::as_f64);
                    if rs.is_none_or(|r| !close(r, d, RTCM_RS_F32_TOL_M)) {
                        bad.push(format!("{what} rtcm-rs L2−L1 {rs:?}"));
                    }
                }
                phase_check(&mut bad, "L2", s.l2_phase_minus_l1_pr_m, m2, c2);
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{rel}: {} differences, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(8)]
    );
    LegacyCheck { sats, l2: l2n }
}

/// A made 1004 has its synchronous flag set exactly when the epoch's 1012 follows it; the
/// 1012, last, has it clear.
fn check_grouping(rel: &str, out: &[Vec<u8>]) {
    for (i, f) in out.iter().enumerate() {
        match decode(f) {
            Message::GpsObs(o) => {
                let next = out.get(i + 1).map(|f| decode(f));
                let followed = matches!(next, Some(Message::GloObs(_)));
                assert_eq!(o.synchronous, followed, "{rel}: 1004 at {}", o.tow_ms);
            }
            Message::GloObs(o) => assert!(!o.synchronous, "{rel}: 1012 at {}", o.tod_ms),
            _ => {}
        }
    }
}

#[test]
fn legacy_1004_1012_from_msm7_and_msm4() {
    // STR1: MSM7 with GLONASS channels in the extended information.
    let frames7 = frames(STR17, Some(rollover_reference()));
    let (out, t) = transcode(&frames7, "1004,1012");
    let c = check_legacy(STR17, &frames7, &out);
    println!(
        "{STR17}: {:?}, {} satellites, {} with L2",
        t.stats, c.sats, c.l2
    );
    assert!(c.sats > 1100 * 20, "{} satellites", c.sats);
    assert!(c.l2 > 1100 * 15);
    let n1004 = out.iter().filter(|f| number(f) == 1004).count();
    let n1012 = out.iter().filter(|f| number(f) == 1012).count();
    assert!(n1004 >= 1120 && n1012 >= 1120, "{n1004} 1004, {n1012} 1012");
    check_grouping(STR17, &out);
    // STR2: MSM4 (no channels in it: they come from the 1020 ephemerides).
    let frames4 = frames(STR24, Some(rollover_reference()));
    let (out4, t4) = transcode(&frames4, "1004,1012,1074,1084");
    let c4 = check_legacy(STR24, &frames4, &out4);
    println!(
        "{STR24}: {:?}, {} satellites, {} with L2",
        t4.stats, c4.sats, c4.l2
    );
    assert!(c4.sats > 1000 * 15);
    // 1074/1084 are carried: passed through, not made.
    assert!(!t4.stats.made.contains_key(&1074));
    // Mixed output: MSM4 passed through with legacy made after them in each epoch.
    check_grouping(STR24, &out4);
}

/// (GPS second, system, prn, observation type or signal code).
type ObsKey = (i64, char, u8, String);

/// RINEX observations by (GPS second, system, prn, type).
fn rinex_values(path: &std::path::Path) -> BTreeMap<ObsKey, f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let (epochs, _) = corsd::rinex::read_obs(&text).unwrap();
    let mut m = BTreeMap::new();
    for e in epochs {
        for s in e.sats {
            for sig in s.signals {
                for (k, v) in [('C', sig.pseudorange_m), ('L', sig.phase_cycles)] {
                    if let Some(v) = v {
                        m.insert(
                            (
                                e.time.secs(),
                                s.sys.letter(),
                                s.prn,
                                format!("{k}{}", sig.code),
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

#[test]
fn convbin_reads_the_converted_legacy_stream() {
    let frames7 = frames(STR17, Some(rollover_reference()));
    let (out, _) = transcode(&frames7, "1004,1012,1006(10),1019,1020");
    let dir = temp_dir("convert-convbin");
    let input = dir.join("legacy.rtcm3");
    std::fs::write(&input, out.concat()).unwrap();
    let obs = dir.join("legacy.obs");
    common::convbin(&input, ["2018/07/14", "23:50:00"], &[], &obs, None);
    let theirs = rinex_values(&obs);
    // The source observations, by the same key (corsd's own epochs of the MSM7 stream).
    let data = common::read_data(STR17);
    let mut p = Pipeline::new(PipelineConfig {
        points: false,
        reference: Some(rollover_reference()),
        ..Default::default()
    });
    let mut o = Output::default();
    p.push(&data, &mut o);
    p.finish(&mut o);
    let mut source: HashMap<ObsKey, (f64, Option<f64>)> = HashMap::new();
    for e in &o.epochs {
        for s in &e.sats {
            for sig in &s.signals {
                if let Some(pr) = sig.pseudorange_m {
                    source.insert(
                        (
                            e.time.secs(),
                            s.sys.letter(),
                            s.prn,
                            sig.code.as_str().to_string(),
                        ),
                        (pr, sig.phase_cycles),
                    );
                }
            }
        }
    }
    // RTKLIB names 1004's L2 code indicator 3 "2W" and 1012's P code "2P".
    let (mut code, mut phase) = (0, 0);
    let mut bad = Vec::new();
    let epochs: BTreeSet<i64> = theirs.keys().map(|k| k.0).collect();
    for ((t, sys, prn, ty), v) in &theirs {
        let Some((pr, cycles)) = source.get(&(*t, *sys, *prn, ty[1..].to_string())) else {
            continue;
        };
        if ty.starts_with('C') {
            code += 1;
            // RINEX keeps 3 decimals.
            if !close(*v, *pr, LEGACY_PR_TOL_M + 0.0005) {
                bad.push(format!("{t} {sys}{prn:02} {ty}: {v} source {pr}"));
            }
        } else if let Some(c) = cycles {
            phase += 1;
            let off = v - c;
            // Whole cycles removed; the rest within the field's rounding and RINEX's 0.001 cycle.
            if (off - off.round()).abs() > 0.0015 + LEGACY_PHASE_TOL_M / 0.19 {
                bad.push(format!("{t} {sys}{prn:02} {ty}: {v} source {c}"));
            }
        }
    }
    println!(
        "convbin: {} epochs, {code} code and {phase} phase values equal to the MSM7 source",
        epochs.len()
    );
    assert!(
        bad.is_empty(),
        "{} differ, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(8)]
    );
    assert!(epochs.len() >= 1120, "{} epochs", epochs.len());
    assert!(code > 1120 * 30, "{code} code values");
    assert!(phase > 1120 * 30, "{phase} phase values");
    let _ = std::fs::remove_dir_all(&dir);
}
