//! RTCM 2.3 DGNSS output end to end: `corsd replay --rtcm2` on STR1's recording against its
//! surveyed position; gpsd's `gpsdecode` reads every message (no parity errors, the same
//! satellites and values as corsd's own decoder, Z-counts on the epochs); and the corrections,
//! as gpsdecode reads them, applied to STR2's pseudoranges of the same minutes (70 m away, another
//! receiver make) bring its single-frequency positions closer to its own surveyed position.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::servers::{corsd, require, temp_dir};
use corsd::feeds::rtcm2::{Body, Decoder, PRC_STEP_M, RRC_STEP_MPS, ZCOUNT_STEP_S};
use corsd::gnss::Gnss;
use corsd::gnss::atmosphere::troposphere_delay;
use corsd::gnss::geodesy::{ecef_to_geodetic, elevation_azimuth};
use corsd::gnss::nav::{Ephemeris, EphemerisStore};
use corsd::gnss::obs::{Epoch, SignalCode};
use corsd::gnss::orbit::{C, earth_rotation};
use corsd::gnss::spp::omega_e;
use corsd::gnss::time::Gpst;
use corsd::station::pipeline::{Output, Pipeline, PipelineConfig};
use nalgebra::{DMatrix, DVector, Vector3};
use serde_json::Value;

const STR17: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3";
const STR24: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR24.rtcm3";
/// IGS SINEX (IGS14, 2020.86) of the two Mount Stromlo antennas (MANIFEST).
const STR1: [f64; 3] = [-4467103.2326, 2683039.4771, -3666948.7128];
const STR2: [f64; 3] = [-4467075.2780, 2683011.8519, -3667007.0103];
const STATION_ID: u16 = 517;
const MASK_DEG: f64 = 10.0;

/// The RTCM 2.3 bytes of STR1's recording (made once per test binary).
fn rtcm2_bytes() -> &'static Vec<u8> {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let dir = temp_dir("rtcm2-replay");
        let out_file = dir.join("str1.rtcm2");
        let pos = format!("--station-pos={},{},{}", STR1[0], STR1[1], STR1[2]);
        let out = corsd()
            .args(["replay", &pos, "--rtcm2-station"])
            .arg(STATION_ID.to_string())
            .arg("--rtcm2")
            .arg(&out_file)
            .arg(common::data_file(STR17))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains("RTCM 2.3 corrections in"), "{err}");
        let bytes = std::fs::read(&out_file).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        bytes
    })
}

/// gpsdecode's JSON reports of a byte stream.
fn gpsdecode(bytes: &[u8]) -> Vec<Value> {
    let mut child = Command::new(require("gpsdecode", "gpsd-clients"))
        .arg("-j")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("gpsdecode writes JSON lines"))
        .collect()
}

#[test]
fn gpsdecode_reads_every_message() {
    let bytes = rtcm2_bytes();
    let mut dec = Decoder::new();
    let ours = dec.push(bytes);
    assert_eq!(dec.parity_errors, 0);
    assert_eq!(dec.skipped_bytes, 0);
    let theirs = gpsdecode(bytes);
    assert!(theirs.iter().all(|m| m["class"] == "RTCM2"));
    assert_eq!(theirs.len(), ours.len(), "gpsdecode reads every message");
    let (mut sats, mut coarse) = (0usize, 0usize);
    let mut per_type: BTreeMap<u8, usize> = BTreeMap::new();
    for (o, t) in ours.iter().zip(&theirs) {
        let h = &o.header;
        *per_type.entry(h.msg_type).or_default() += 1;
        assert_eq!(t["type"].as_u64(), Some(h.msg_type as u64));
        assert_eq!(t["station_id"].as_u64(), Some(STATION_ID as u64));
        assert_eq!(t["seqnum"].as_u64(), Some(h.seq as u64));
        assert_eq!(t["length"].as_u64(), Some(h.length as u64));
        assert_eq!(t["station_health"].as_u64(), Some(0));
        let z = t["zcount"].as_f64().unwrap();
        assert!((z - h.zcount as f64 * ZCOUNT_STEP_S).abs() < 1e-6);
        match &o.body {
            Body::Station(xyz) => {
                for (k, (v, truth)) in ["x", "y", "z"].iter().zip(xyz.iter().zip(STR1)) {
                    let g = t[*k].as_f64().unwrap();
                    // gpsd prints centimetres, the field's step.
                    assert!((g - v).abs() < 0.006 && (v - truth).abs() <= 0.005, "{k}");
                }
            }
            Body::Corrections(list) => {
                let tl = t["satellites"].as_array().unwrap();
                assert_eq!(tl.len(), list.len());
                for (c, s) in list.iter().zip(tl) {
                    sats += 1;
                    coarse += c.coarse as usize;
                    // gpsd gives the 5-bit field as is: PRN 32 travels as 0.
                    let ident = s["ident"].as_u64().unwrap() as u8;
                    let ident = if ident == 0 && h.msg_type == 1 {
                        32
                    } else {
                        ident
                    };
                    assert_eq!(ident, c.id);
                    assert_eq!(s["udre"].as_u64(), Some(c.udre as u64));
                    let step = c.coarse as usize;
                    assert!((s["prc"].as_f64().unwrap() - c.prc_m).abs() <= PRC_STEP_M[step] / 2.0);
                    assert!(
                        (s["rrc"].as_f64().unwrap() - c.rrc_mps).abs() <= RRC_STEP_MPS[step] / 2.0
                    );
                    if h.msg_type == 31 {
                        assert_eq!(s["tod"].as_u64(), Some(c.iod as u64));
                        assert_eq!(s["change"].as_bool(), Some(c.change));
                    } else {
                        assert_eq!(s["iod"].as_u64(), Some(c.iod as u64));
                    }
                }
            }
            Body::Other(_) => panic!("only types 1, 3 and 31 are sent"),
        }
    }
    // One type 1 and one type 31 per epoch once both systems have orbits (1126 epochs), type 3
    // every 30 s.
    println!("gpsdecode: {per_type:?} messages, {sats} corrections ({coarse} on the coarse scale)");
    assert!(per_type[&1] > 1100, "{per_type:?}");
    assert!(per_type[&31] > 1000, "{per_type:?}");
    assert!((37..=40).contains(&per_type[&3]), "{per_type:?}");
    // Z-counts of consecutive type 1 advance by the epoch interval, within one 0.6 s step.
    let z1: Vec<f64> = theirs
        .iter()
        .filter(|m| m["type"] == 1)
        .map(|m| m["zcount"].as_f64().unwrap())
        .collect();
    for w in z1.windows(2) {
        let d = (w[1] - w[0]).rem_euclid(3600.0);
        assert!((0.59..=1.21).contains(&d), "Z-count step {d}");
    }
}

/// A correction as gpsdecode read it: (Z-count time, prc, rrc, iod).
type Corr = (Gpst, f64, f64, u8);

/// Type 1 corrections by PRN in time order, with Z-counts resolved to GPS time near `near`.
fn gps_corrections(msgs: &[Value], near: Gpst) -> BTreeMap<u8, Vec<Corr>> {
    let mut out: BTreeMap<u8, Vec<Corr>> = BTreeMap::new();
    let mut reference = near;
    for m in msgs.iter().filter(|m| m["type"] == 1) {
        let z = m["zcount"].as_f64().unwrap();
        let hour = Gpst::new(reference.secs().div_euclid(3600) * 3600, 0.0);
        let mut t0 = hour.add(z);
        if t0.diff(reference) < -1800.0 {
            t0 = t0.add(3600.0);
        }
        reference = t0;
        for s in m["satellites"].as_array().unwrap() {
            let id = s["ident"].as_u64().unwrap() as u8;
            let prn = if id == 0 { 32 } else { id };
            out.entry(prn).or_default().push((
                t0,
                s["prc"].as_f64().unwrap(),
                s["rrc"].as_f64().unwrap(),
                s["iod"].as_u64().unwrap() as u8,
            ));
        }
    }
    out
}

/// The latest correction at or before `t`, no older than 10 s.
fn correction_at(list: &[Corr], t: Gpst) -> Option<Corr> {
    let i = list.partition_point(|c| c.0.diff(t) <= 1e-6);
    let c = *list.get(i.checked_sub(1)?)?;
    (t.diff(c.0) <= 10.0).then_some(c)
}

/// Single-frequency GPS least squares: the position from (ephemeris, pseudorange) pairs, with
/// or without the troposphere model; no ionosphere model (the recordings carry none).
fn position(
    t: Gpst,
    meas: &[(&Ephemeris, f64)],
    tropo: bool,
    start: Vector3<f64>,
) -> Option<Vector3<f64>> {
    let mut x = start;
    let mut clk = 0.0;
    for _ in 0..8 {
        let mut rows = Vec::new();
        for (eph, pr) in meas {
            let (_, c0) = eph.position_clock(t.add(-pr / C));
            let (p, dts) = eph.position_clock(t.add(-pr / C - c0));
            let travel = (p - x).norm() / C;
            let p = earth_rotation(&p, omega_e(eph), travel);
            let (el, _) = elevation_azimuth(&x, &p);
            if el < MASK_DEG.to_radians() {
                continue;
            }
            let g = ecef_to_geodetic(&x);
            let trop = if tropo {
                troposphere_delay(g.lat, g.h, el)
            } else {
                0.0
            };
            let rho = (p - x).norm();
            let u = (p - x) / rho;
            rows.push(([-u.x, -u.y, -u.z, 1.0], pr - (rho + clk - C * dts + trop)));
        }
        if rows.len() < 5 {
            return None;
        }
        let h = DMatrix::from_fn(rows.len(), 4, |i, j| rows[i].0[j]);
        let v = DVector::from_iterator(rows.len(), rows.iter().map(|r| r.1));
        let dx = (h.transpose() * &h).try_inverse()? * h.transpose() * v;
        x += Vector3::new(dx[0], dx[1], dx[2]);
        clk += dx[3];
        if dx.norm() < 1e-4 {
            break;
        }
    }
    Some(x)
}

fn rover() -> (Vec<Epoch>, EphemerisStore) {
    let mut p = Pipeline::new(PipelineConfig {
        points: false,
        reference: Some(Gpst::from_week_tow(2009, 604_000.0)),
        ..Default::default()
    });
    let mut out = Output::default();
    p.push(&common::read_data(STR24), &mut out);
    p.finish(&mut out);
    (out.epochs, p.state.store.clone())
}

#[test]
fn corrections_improve_a_nearby_receiver() {
    let msgs = gpsdecode(rtcm2_bytes());
    let (epochs, store) = rover();
    let near = epochs.first().unwrap().time;
    let corr = gps_corrections(&msgs, near);
    let truth = Vector3::from(STR2);
    let l1ca = SignalCode(*b"1C");
    let (mut raw2, mut dgps2, mut n) = (0.0, 0.0, 0usize);
    let mut worst = (0.0f64, 0.0f64);
    for e in &epochs {
        // The same satellites both ways: those with a correction whose ephemeris (same IODE)
        // the rover holds.
        let mut raw = Vec::new();
        let mut corrected = Vec::new();
        for s in e.sats.iter().filter(|s| s.sys == Gnss::Gps) {
            let Some(pr) = s.signal(l1ca).and_then(|x| x.pseudorange_m) else {
                continue;
            };
            let Some((t0, prc, rrc, iod)) = corr.get(&s.prn).and_then(|l| correction_at(l, e.time))
            else {
                continue;
            };
            let Some(eph) = store.all().find(|x| {
                x.sys == Gnss::Gps && x.prn == s.prn && x.iode as u8 == iod && x.valid_at(e.time)
            }) else {
                continue;
            };
            raw.push((eph, pr));
            corrected.push((eph, pr + prc + rrc * e.time.diff(t0)));
        }
        let (Some(a), Some(b)) = (
            position(e.time, &raw, true, truth),
            position(e.time, &corrected, false, truth),
        ) else {
            continue;
        };
        let (da, db) = ((a - truth).norm(), (b - truth).norm());
        raw2 += da * da;
        dgps2 += db * db;
        worst = (worst.0.max(da), worst.1.max(db));
        n += 1;
    }
    let (raw_rms, dgps_rms) = ((raw2 / n as f64).sqrt(), (dgps2 / n as f64).sqrt());
    println!(
        "STR2 GPS L1 C/A SPP over {n} epochs: 3D RMS {raw_rms:.2} m uncorrected (worst {:.2}), \
         {dgps_rms:.2} m with STR1's RTCM 2.3 corrections as gpsdecode reads them (worst {:.2})",
        worst.0, worst.1
    );
    assert!(n > 1000, "{n} epochs");
    assert!(dgps_rms < raw_rms / 2.0, "{dgps_rms} vs {raw_rms}");
    assert!(dgps_rms < 2.0, "{dgps_rms}");
}
