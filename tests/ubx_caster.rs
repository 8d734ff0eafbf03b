//! A u-blox receiver's raw output as an RTCM3 base: `corsd run` reads the F9T recording
//! (`[[source]] format = "ubx"`), its caster serves MSM7 (the whole stream, with 1006, 1033 and
//! 1230 from `[station]`) and MSM4 (made from the MSM7 by the mountpoint's message set), and
//! RTKLIB's `str2str` pulls both as a rover would.
//!
//! * The MSMs decoded back give every RAWX value within the field's step: pseudorange
//!   2^-29 ms (MSM7) or 2^-24 ms (MSM4), phase range 2^-31 or 2^-29 ms (half a step, plus
//!   half an MSM7 step for the MSM4 made from the MSM7), phase-range rate 0.0001 m/s (MSM7;
//!   MSM4 has none), C/N0 exactly (the receiver sends whole dB-Hz). A Doppler whose range rate
//!   is further from the satellite's other signals than the MSM fine rate reaches (±1.64 m/s;
//!   the F9T's BeiDou B1C Dopplers sit tens of m/s from its B1I ones) is sent invalid.
//! * RTKLIB 2.4.3 `convbin` on the MSM7 stream equals `convbin -r ubx` on the UBX bytes, value
//!   by value to the printed digit, except what is explained from the RAWX measurement:
//!   RTKLIB's UBX reader drops a phase whose standard-deviation index is above 5, which MSM
//!   carries (the receiver marks it valid); and the Dopplers MSM cannot carry (above).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::servers::{free_port, run_daemon, str2str_read, temp_dir};
use common::ubx::{F9T, convbin_ubx, plain_copy, read_rinex_obs, read_ubx};
use corsd::gnss::obs::Epoch;
use corsd::gnss::orbit::C;
use corsd::gnss::sat_name;
use corsd::messages::rtcm3::{self, Message, msm::Msm};
use corsd::messages::ubx::{self, Ubx, UbxEvent, UbxReceiver};

/// Field steps (m, m/s).
const LMS: f64 = 299_792.458;
const MSM7_PR_STEP: f64 = LMS / (1u64 << 29) as f64;
const MSM7_PHASE_STEP: f64 = LMS / (1u64 << 31) as f64;
const MSM4_PR_STEP: f64 = LMS / (1u64 << 24) as f64;
const MSM4_PHASE_STEP: f64 = LMS / (1u64 << 29) as f64;
const RATE_STEP: f64 = 0.0001;

/// Per (epoch ms, satellite, RINEX type) a fact of the RAWX measurement.
type PerObs<T> = BTreeMap<(i64, String, String), T>;

/// What corsd decodes from the recording itself: epochs, the receiver's first fix (ECEF),
/// and per phase the RAWX carrier-phase standard-deviation index.
fn ubx_facts(data: &[u8]) -> (Vec<Epoch>, nalgebra::Vector3<f64>, PerObs<u8>) {
    let mut framer = corsd::framing::Framer::new();
    framer.push(data);
    framer.finish();
    let mut rx = UbxReceiver::new(None);
    let mut epochs = Vec::new();
    let mut fix = None;
    let mut cp_std = BTreeMap::new();
    while let Some(f) = framer.next_frame() {
        let Ok(m) = ubx::decode_frame(f.bytes) else {
            continue;
        };
        if let Ubx::NavPvt(p) = &m
            && fix.is_none()
            && p.fix_type == 3
        {
            fix = Some(
                corsd::gnss::geodesy::Geodetic::from_degrees(p.lat_deg, p.lon_deg, p.height_m)
                    .to_ecef(),
            );
        }
        if let Ubx::Rawx(r) = &m
            && let Some(t) = r.time()
        {
            for meas in &r.meas {
                if let Some((sys, prn, o)) = meas.observation() {
                    let ms = (t.as_f64() * 1000.0).round() as i64;
                    cp_std.insert(
                        (ms, sat_name(sys, prn), format!("L{}", o.code.as_str())),
                        meas.cp_stdev & 0x0F,
                    );
                }
            }
        }
        if let Some(UbxEvent::Epoch(e)) = rx.push(&m) {
            epochs.push(e);
        }
    }
    (epochs, fix.expect("a 3D fix in NAV-PVT"), cp_std)
}

/// The MSMs of a received stream, in order.
fn msms(stream: &[u8]) -> Vec<Msm> {
    common::frames(stream)
        .iter()
        .filter_map(|f| match rtcm3::decode(common::payload(f)) {
            Ok(Message::Msm(m)) => Some(m),
            _ => None,
        })
        .collect()
}

/// Whether a signal's range rate (−Doppler × wavelength) is further from another signal's of
/// the same satellite than an MSM's fine phase-range rate can carry (±1.6383 m/s from the
/// satellite's rough rate): the F9T reports BeiDou B1C Dopplers tens of m/s from its B1I ones.
fn rate_apart(sat: &corsd::gnss::obs::SatObs, s: &corsd::gnss::obs::SignalObs) -> bool {
    let rate = |o: &corsd::gnss::obs::SignalObs| Some(-o.doppler_hz? * C / o.freq_hz?);
    let Some(r) = rate(s) else { return false };
    sat.signals
        .iter()
        .filter_map(rate)
        .any(|other| (other - r).abs() > 1.0)
}

/// Every cell of every MSM against the epoch it came from: the number of values compared, and
/// of Dopplers sent invalid because [`rate_apart`].
fn compare_with_rawx(msgs: &[Msm], epochs: &[Epoch], kind: u8) -> (usize, usize) {
    let mut apart = 0;
    let apart = &mut apart;
    // Half a step of the field; MSM4 is made from the MSM7, so its values are rounded twice.
    let (pr_tol, ph_tol) = if kind == 7 {
        (MSM7_PR_STEP / 2.0, MSM7_PHASE_STEP / 2.0)
    } else {
        (
            (MSM4_PR_STEP + MSM7_PR_STEP) / 2.0,
            (MSM4_PHASE_STEP + MSM7_PHASE_STEP) / 2.0,
        )
    };
    let mut compared = 0;
    let mut matched_epochs = 0;
    for m in msgs {
        assert_eq!(m.msm, kind, "{}", m.number());
        // The epoch whose MSM time field this is.
        let Some(e) = epochs.iter().find(|e| {
            corsd::messages::rtcm3::obs_msm::msm_epoch_field(m.system, e.time) == m.epoch_raw
        }) else {
            panic!(
                "MSM {} at {} matches no RAWX epoch",
                m.number(),
                m.epoch_raw
            );
        };
        matched_epochs += 1;
        for s in m.observations() {
            let orig = e
                .sats
                .iter()
                .find(|o| o.sys == s.sys && o.prn == s.prn)
                .unwrap_or_else(|| panic!("{} not in the RAWX epoch", sat_name(s.sys, s.prn)));
            for o in &s.signals {
                let what = format!(
                    "{} {} at {}",
                    sat_name(s.sys, s.prn),
                    o.code.as_str(),
                    e.time.as_f64()
                );
                let a = orig
                    .signal(o.code)
                    .unwrap_or_else(|| panic!("{what}: not in RAWX"));
                let lambda = C / a.freq_hz.expect("RAWX signals have a frequency");
                let (pa, pb) = (a.pseudorange_m.unwrap(), o.pseudorange_m.expect(&what));
                assert!(
                    (pa - pb).abs() <= pr_tol + 1e-6,
                    "{what}: pseudorange {pa} vs {pb}"
                );
                if let Some(ca) = a.phase_cycles {
                    let cb = o.phase_cycles.expect(&what);
                    let d = (ca - cb) * lambda;
                    assert!(d.abs() <= ph_tol + 1e-6, "{what}: phase {ca} vs {cb}");
                    compared += 1;
                }
                if kind == 7 {
                    let Some(db) = o.doppler_hz else {
                        assert!(rate_apart(orig, a), "{what}: no Doppler sent");
                        *apart += 1;
                        continue;
                    };
                    let da = a.doppler_hz.unwrap();
                    assert!(
                        ((da - db) * lambda).abs() <= RATE_STEP / 2.0 + 1e-7,
                        "{what}: Doppler {da} vs {db}"
                    );
                    compared += 1;
                } else {
                    assert_eq!(o.doppler_hz, None);
                }
                assert_eq!(o.cn0_dbhz, a.cn0_dbhz, "{what}");
                assert_eq!(o.half_cycle, a.half_cycle, "{what}");
                let (la, lb) = (a.lock_s.unwrap_or(0.0), o.lock_s.unwrap_or(0.0));
                assert!(lb <= la + 1e-9, "{what}: lock {lb} s sent for {la} s");
                compared += 2;
            }
        }
    }
    assert!(matched_epochs > 50, "{matched_epochs} MSMs");
    (compared, *apart)
}

#[test]
fn ubx_receiver_served_as_msm7_and_msm4_that_rtklib_reads_like_the_ubx() {
    let dir = temp_dir("ubx-caster");
    let ubx_file = plain_copy(&dir, F9T);
    let data = read_ubx(F9T);
    let (epochs, fix, cp_std) = ubx_facts(&data);
    let port = free_port();
    let config = format!(
        r#"data_dir = "{d}"
[station]
name = "F9T1"
position = {{ x = {x:.4}, y = {y:.4}, z = {z:.4} }}
antenna = "TRM57971.00     NONE"
receiver = "U-BLOX ZED-F9T"
[[source]]
kind = "file"
name = "f9t"
path = "{file}"
format = "ubx"
speed = 25.0
[[caster]]
listen = "127.0.0.1:{port}"
[[caster.mount]]
name = "M7"
[[caster.mount]]
name = "M4"
messages = "1074(1),1084(1),1094(1),1124(1),1006(10),1033(10)"
"#,
        d = dir.display(),
        file = ubx_file.display(),
        x = fix.x,
        y = fix.y,
        z = fix.z,
    );
    let daemon = run_daemon(&dir, &config, port);
    let (m7, m4) = (dir.join("m7.rtcm3"), dir.join("m4.rtcm3"));
    let mut clients = [str2str_read(port, "M7", &m7), str2str_read(port, "M4", &m4)];
    // 299 epochs at 25 times real time: 12 s; the clients connect within the first second.
    std::thread::sleep(Duration::from_secs(15));
    for c in &mut clients {
        let _ = c.kill();
        let _ = c.wait();
    }
    drop(daemon);
    let s7 = std::fs::read(&m7).unwrap();
    let s4 = std::fs::read(&m4).unwrap();
    // Whole RTCM3 frames only: no UBX reaches a rover.
    assert_eq!(
        common::frames(&s7).concat().len(),
        s7.len(),
        "M7: stray bytes"
    );
    assert_eq!(
        common::frames(&s4).concat().len(),
        s4.len(),
        "M4: stray bytes"
    );
    let numbers = |s: &[u8]| -> BTreeMap<u16, usize> {
        let mut n = BTreeMap::new();
        for f in common::frames(s) {
            *n.entry(rtcm3::message_number(common::payload(&f)).unwrap())
                .or_default() += 1;
        }
        n
    };
    let (n7, n4) = (numbers(&s7), numbers(&s4));
    assert!(
        n7.keys()
            .all(|n| [1006, 1033, 1230, 1077, 1087, 1097, 1107, 1117, 1127].contains(n)),
        "{n7:?}"
    );
    assert!(
        n7[&1077] > 250 && n7[&1006] >= 25 && n7[&1033] >= 25,
        "{n7:?}"
    );
    assert!(
        n4.keys()
            .all(|n| [1006, 1033, 1074, 1084, 1094, 1124].contains(n)),
        "{n4:?}"
    );
    assert!(n4[&1074] > 250, "{n4:?}");
    // The station messages say what [station] says.
    for f in common::frames(&s7) {
        match rtcm3::decode(common::payload(&f)) {
            Ok(Message::StationArp(a)) => {
                assert!((a.x_m - fix.x).abs() < 1e-3 && (a.z_m - fix.z).abs() < 1e-3);
            }
            Ok(Message::Receiver(r)) => {
                assert_eq!(r.receiver.as_str_lossy(), "U-BLOX ZED-F9T");
                assert_eq!(r.antenna.as_str_lossy(), "TRM57971.00     NONE");
            }
            _ => {}
        }
    }
    let (c7, apart) = compare_with_rawx(&msms(&s7), &epochs, 7);
    let (c4, _) = compare_with_rawx(&msms(&s4), &epochs, 4);
    assert!(c7 > 50_000 && c4 > 30_000, "{c7} / {c4} values");
    // Which RAWX Dopplers MSM cannot carry, per (epoch ms, satellite, `D` type).
    let mut doppler_apart = BTreeMap::new();
    for e in &epochs {
        let ms = (e.time.as_f64() * 1000.0).round() as i64;
        for s in &e.sats {
            for o in &s.signals {
                doppler_apart.insert(
                    (ms, sat_name(s.sys, s.prn), format!("D{}", o.code.as_str())),
                    rate_apart(s, o),
                );
            }
        }
    }

    // RTKLIB on both.
    let from_ubx = dir.join("ubx.obs");
    convbin_ubx(&ubx_file, &from_ubx, None);
    let from_msm = dir.join("msm7.obs");
    let first = epochs[0].time.to_utc();
    let day = first.format("%Y/%m/%d").to_string();
    let hms = first.format("%H:%M:%S").to_string();
    common::convbin(&m7, [&day, &hms], &["-od", "-os"], &from_msm, None);
    let (a, b) = (read_rinex_obs(&from_msm), read_rinex_obs(&from_ubx));
    let mut equal: BTreeMap<char, u64> = BTreeMap::new();
    let mut dropped_by_rtklib_ubx = 0;
    let mut doppler_not_carried = 0;
    // The first and last epochs may be partial: the client joined or left in the middle.
    let n = a.epochs.len();
    for (t, ea) in a.epochs.iter().skip(1).take(n.saturating_sub(2)) {
        let eb = b
            .epochs
            .get(t)
            .unwrap_or_else(|| panic!("epoch {t} only from the MSM"));
        // RTKLIB writes a satellite whose only signal has no RINEX code in 2.4.3 (BeiDou B1C)
        // as an empty record from the MSM, and leaves it out from the UBX.
        let with_values = |e: &common::ubx::ObsEpoch| -> Vec<String> {
            e.iter()
                .filter(|(_, o)| !o.is_empty())
                .map(|(s, _)| s.clone())
                .collect()
        };
        assert_eq!(with_values(ea), with_values(eb), "satellites at {t}");
        for (sat, oa) in ea.iter().filter(|(_, o)| !o.is_empty()) {
            let ob = &eb[sat];
            for (ty, (va, _)) in oa {
                let Some((vb, _)) = ob.get(ty) else {
                    let std = cp_std.get(&(*t, sat.clone(), ty.clone()));
                    assert!(
                        ty.starts_with('L') && std.is_some_and(|s| *s > 5),
                        "{ty} of {sat} at {t} only from the MSM (phase std index {std:?})"
                    );
                    dropped_by_rtklib_ubx += 1;
                    continue;
                };
                // One printed digit, plus the field step for the pseudorange (0.56 mm).
                assert!(
                    (va - vb).abs() <= 0.0015,
                    "{sat} {ty} at {t}: {va} (MSM) vs {vb} (UBX)"
                );
                *equal.entry(ty.chars().next().unwrap_or(' ')).or_default() += 1;
            }
            for ty in ob.keys().filter(|ty| !oa.contains_key(*ty)) {
                let key = (*t, sat.clone(), ty.clone());
                assert!(
                    doppler_apart.get(&key) == Some(&true),
                    "{sat} {ty} at {t} only from the UBX"
                );
                doppler_not_carried += 1;
            }
        }
    }
    assert!(
        a.epochs.len() > 250,
        "{} epochs through the caster",
        a.epochs.len()
    );
    for k in ['C', 'L', 'D', 'S'] {
        assert!(equal.get(&k).copied().unwrap_or(0) > 8_000, "{equal:?}");
    }
    eprintln!(
        "MSM7 {c7} and MSM4 {c4} values within the field step ({apart} Dopplers too far from \
         the satellite's rough rate sent invalid); convbin: {equal:?} equal, \
         {dropped_by_rtklib_ubx} phases RTKLIB's UBX reader drops, {doppler_not_carried} \
         Dopplers MSM cannot carry"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
