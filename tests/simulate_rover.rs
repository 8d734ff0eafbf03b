//! `corsd simulate --rover`: a base and a rover walking through a forest plot. The streams decode
//! (rtcm-rs), the truth file is the commanded walk, the canopy gaps and slips are where the
//! scenario puts them, and the two receivers' phases are consistent with the geometry: the double
//! difference of phase minus the double difference of the ranges computed here from the truth and
//! the broadcast orbits is a whole number of cycles, constant while both locks last and re-drawn
//! after each canopy gap.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::OnceLock;

use corsd::gnss::nav::Ephemeris;
use corsd::gnss::obs::Epoch;
use corsd::gnss::time::Gpst;
use corsd::gnss::{Gnss, sat_name};
use corsd::messages::rtcm3::{self, Message};
use corsd::station::state::StationState;
use nalgebra::{Matrix3, Vector3};

/// The walk as the scenario commands it (`src/simulate/walk.rs` documents it): points east,
/// north (m) of the origin and the rest at each (s), at 1.2 m/s, antenna 2 m above ground rising
/// 3 % to the north; the origin 150 m east, 100 m south of the station, on the ground.
const WAYPOINTS: [([f64; 2], f64); 9] = [
    ([0.0, 0.0], 120.0),
    ([0.0, 70.0], 0.0),
    ([0.0, 200.0], 0.0),
    ([50.0, 245.0], 60.0),
    ([50.0, 380.0], 0.0),
    ([50.0, 440.0], 0.0),
    ([160.0, 440.0], 0.0),
    ([160.0, 0.0], 0.0),
    ([0.0, 0.0], 60.0),
];
const SPEED: f64 = 1.2;
const FOREST: [f64; 4] = [-60.0, 140.0, 80.0, 420.0];
const CLEARING: [f64; 4] = [10.0, 90.0, 220.0, 270.0];
const DENSE: [[f64; 4]; 3] = [
    [-60.0, 140.0, 150.0, 180.0],
    [-60.0, 140.0, 310.0, 335.0],
    [-60.0, 140.0, 385.0, 400.0],
];
/// Phase DD residuals (cycles) above 15° elevation: thermal noise (0.03 cycle σ per signal at
/// the 25 dB-Hz tracking threshold), the canopy's phase errors (up to 0.03 cycle per signal) and
/// the troposphere difference of up to 13 m of height, which the check leaves unmodelled.
const DD_TOLERANCE_CYCLES: f64 = 0.2;
const OMEGA_E: f64 = 7.292_115_146_7e-5;
const C: f64 = 299_792_458.0;

type Sat = (Gnss, u8);
/// A satellite's single difference rover − base: satellite, phase (cycles), wavelength (m),
/// geometric range (m), elevation (rad).
type SdObs = (Sat, f64, f64, f64, f64);

struct Row {
    time: Gpst,
    pos: Vector3<f64>,
    canopy: String,
    tracked: usize,
    restarts: BTreeSet<String>,
    slips: BTreeSet<String>,
}

struct Pair {
    base: Vec<u8>,
    rover: Vec<u8>,
    truth: Vec<Row>,
    stderr: String,
}

fn pair() -> &'static Pair {
    static PAIR: OnceLock<Pair> = OnceLock::new();
    PAIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("corsd-sim-rover-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let (b, r, t) = (
            dir.join("base.rtcm3"),
            dir.join("rover.rtcm3"),
            dir.join("truth.csv"),
        );
        let out = Command::new(env!("CARGO_BIN_EXE_corsd"))
            .args(["simulate", "--systems", "GECJ", "--noise", "--rover"])
            .arg(&r)
            .arg("--truth")
            .arg(&t)
            .arg("-o")
            .arg(&b)
            .output()
            .expect("run corsd simulate");
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{stderr}");
        let text = std::fs::read_to_string(&t).expect("truth file");
        let mut lines = text.lines().filter(|l| !l.starts_with('#'));
        assert_eq!(
            lines.next(),
            Some("gps_week,tow_s,x_m,y_m,z_m,canopy,tracked,lock_restarts,slips")
        );
        let set = |s: &str| s.split_whitespace().map(String::from).collect();
        let truth = lines
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                assert_eq!(f.len(), 9, "{l}");
                let n = |i: usize| f[i].parse::<f64>().expect("a number");
                Row {
                    time: Gpst::from_week_tow(n(0) as i64, n(1)),
                    pos: Vector3::new(n(2), n(3), n(4)),
                    canopy: f[5].to_string(),
                    tracked: f[6].parse().expect("a count"),
                    restarts: set(f[7]),
                    slips: set(f[8]),
                }
            })
            .collect();
        let p = Pair {
            base: std::fs::read(&b).expect("base stream"),
            rover: std::fs::read(&r).expect("rover stream"),
            truth,
            stderr,
        };
        let _ = std::fs::remove_dir_all(&dir);
        p
    })
}

/// Every frame of a stream as rtcm-rs decodes it.
fn rtcm_rs_messages(data: &[u8]) -> Vec<rtcm_rs::Message> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let (used, frame) = rtcm_rs::next_msg_frame(&data[at..]);
        if let Some(f) = frame {
            out.push(f.get_message());
        }
        if used == 0 {
            break;
        }
        at += used;
    }
    out
}

/// The stream's observation epochs and broadcast orbits, through corsd's decoder.
/// Epochs keyed by GPS nanoseconds.
fn decode(data: &[u8]) -> (BTreeMap<i64, Epoch>, Vec<Ephemeris>) {
    let (frames, _) = corsd::framing::frames(data);
    let start = Gpst::from_date(chrono::NaiveDate::from_ymd_opt(2026, 3, 1).expect("a date"));
    let mut st = StationState::new(Some(start));
    let (mut epochs, mut ephs) = (BTreeMap::new(), Vec::new());
    for (_, bytes) in frames {
        let Ok(m) = rtcm3::decode(&bytes[3..bytes.len() - 3]) else {
            panic!("a frame corsd cannot decode");
        };
        match &m {
            Message::GpsEph(e) => ephs.push(e.to_ephemeris(start)),
            Message::GalEph(e) => ephs.push(e.to_ephemeris(start)),
            Message::BdsEph(e) => ephs.push(e.to_ephemeris(start)),
            Message::QzsEph(e) => ephs.push(e.to_ephemeris(start)),
            _ => {}
        }
        for e in st
            .push(&m)
            .into_iter()
            .chain(std::iter::from_fn(|| st.take_ready()))
        {
            epochs.insert(e.time.gps_ns(), e);
        }
    }
    (epochs, ephs)
}

fn geodetic(r: &Vector3<f64>) -> (f64, f64) {
    let (a, f) = (6_378_137.0f64, 1.0 / 298.257_223_563);
    let e2 = f * (2.0 - f);
    let p = (r.x * r.x + r.y * r.y).sqrt();
    let mut lat = (r.z / (p * (1.0 - e2))).atan();
    for _ in 0..8 {
        let n = a / (1.0 - e2 * lat.sin().powi(2)).sqrt();
        let h = p / lat.cos() - n;
        lat = (r.z / (p * (1.0 - e2 * n / (n + h)))).atan();
    }
    (lat, r.y.atan2(r.x))
}

/// Rows east, north, up at `r`.
fn enu_at(r: &Vector3<f64>) -> Matrix3<f64> {
    let (lat, lon) = geodetic(r);
    let (sl, cl, so, co) = (lat.sin(), lat.cos(), lon.sin(), lon.cos());
    Matrix3::new(-so, co, 0.0, -sl * co, -sl * so, cl, cl * co, cl * so, sl)
}

/// Base position from its 1006, as rtcm-rs reads it.
fn base_position(msgs: &[rtcm_rs::Message]) -> Vector3<f64> {
    msgs.iter()
        .find_map(|m| match m {
            rtcm_rs::Message::Msg1006(a) => Some(Vector3::new(
                a.antenna_ref_point_ecef_x_m,
                a.antenna_ref_point_ecef_y_m,
                a.antenna_ref_point_ecef_z_m,
            )),
            _ => None,
        })
        .expect("the base sends 1006")
}

/// The commanded east, north (m from the origin) at `dt` s.
fn commanded(dt: f64) -> [f64; 2] {
    let mut t = dt;
    for w in WAYPOINTS.windows(2) {
        let ((a, rest), (b, _)) = (w[0], w[1]);
        if t <= rest {
            return a;
        }
        t -= rest;
        let d = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        if t < d / SPEED {
            let f = t * SPEED / d;
            return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])];
        }
        t -= d / SPEED;
    }
    WAYPOINTS[WAYPOINTS.len() - 1].0
}

fn canopy_of(en: [f64; 2]) -> &'static str {
    let inside = |r: &[f64; 4]| en[0] >= r[0] && en[0] <= r[1] && en[1] >= r[2] && en[1] <= r[3];
    if DENSE.iter().any(inside) {
        "dense"
    } else if inside(&CLEARING) || !inside(&FOREST) {
        "open"
    } else {
        "light"
    }
}

#[test]
fn both_streams_decode_with_rtcm_rs() {
    let p = pair();
    eprintln!("{}", p.stderr);
    for (name, data, obs, other) in [
        ("base", &p.base, [1074u16, 1094, 1124, 1114], 1077u16),
        ("rover", &p.rover, [1077, 1097, 1127, 1117], 1074),
    ] {
        let msgs = rtcm_rs_messages(data);
        let mut count: BTreeMap<u16, usize> = BTreeMap::new();
        for m in &msgs {
            let n = m
                .number()
                .unwrap_or_else(|| panic!("{name}: rtcm-rs cannot decode {m:?}"));
            *count.entry(n).or_default() += 1;
        }
        eprintln!("{name}: {count:?}");
        for n in obs.into_iter().chain([1008, 1033, 1019, 1042, 1044, 1046]) {
            assert!(count.contains_key(&n), "{name}: no {n}");
        }
        assert!(!count.contains_key(&other), "{name}: {other}");
        // A rover has no reference point to announce; the base does.
        assert_eq!(count.contains_key(&1006), name == "base", "{name}: 1006");
        let antennas: BTreeSet<String> = msgs
            .iter()
            .filter_map(|m| match m {
                rtcm_rs::Message::Msg1033(a) => {
                    Some(a.antenna_descriptor_str.chars().collect::<String>())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            antennas,
            BTreeSet::from(["TRM59800.00     NONE".to_string()])
        );
        let bds: BTreeSet<u8> = msgs
            .iter()
            .filter_map(|m| match m {
                rtcm_rs::Message::Msg1042(e) => Some(e.bds_satellite_id),
                _ => None,
            })
            .collect();
        assert!(bds.iter().any(|p| (1..=5).contains(p)), "{name}: no GEO");
        assert!(
            bds.iter().any(|p| matches!(p, 6..=10 | 38..=40)),
            "{name}: no IGSO"
        );
    }
}

#[test]
fn the_truth_is_the_commanded_walk() {
    let p = pair();
    let base = base_position(&rtcm_rs_messages(&p.base));
    let t0 = p.truth[0].time;
    let walk_s: f64 = WAYPOINTS
        .windows(2)
        .map(|w| {
            w[0].1
                + ((w[1].0[0] - w[0].0[0]).powi(2) + (w[1].0[1] - w[0].0[1]).powi(2)).sqrt() / SPEED
        })
        .sum::<f64>()
        + WAYPOINTS[8].1;
    assert_eq!(
        p.truth.len(),
        walk_s.ceil() as usize + 1,
        "one line per second of the walk"
    );
    // The origin: on the ground under the first position (2 m pole), 150 m E and 100 m S of
    // the station's antenna.
    let up0 = enu_at(&p.truth[0].pos).row(2).transpose();
    let origin = p.truth[0].pos - 2.0 * up0;
    let o = enu_at(&base) * (origin - base);
    assert!(
        (o - Vector3::new(150.0, -100.0, -2.0)).norm() < 0.01,
        "origin at {o} from the station"
    );
    let r = enu_at(&origin);
    let mut worst: f64 = 0.0;
    for (k, row) in p.truth.iter().enumerate() {
        let dt = row.time.diff(t0);
        assert_eq!(dt, k as f64, "epochs one second apart");
        let en = commanded(dt);
        let want = Vector3::new(en[0], en[1], 0.03 * en[1] + 2.0);
        let got = r * (row.pos - origin);
        worst = worst.max((got - want).norm());
        // A point on a zone's edge (to floating-point rounding) may fall on either side.
        let near_edge = |r: &[f64; 4]| {
            (r[0]..=r[1]).contains(&en[0]) && r[2..].iter().any(|n| (en[1] - n).abs() < 1e-6)
                || (r[2]..=r[3]).contains(&en[1]) && r[..2].iter().any(|e| (en[0] - e).abs() < 1e-6)
        };
        if !DENSE.iter().chain([&FOREST, &CLEARING]).any(near_edge) {
            assert_eq!(row.canopy, canopy_of(en), "{dt} s at {en:?}");
        }
    }
    eprintln!(
        "truth vs commanded walk: worst {:.4} mm over {} epochs",
        worst * 1e3,
        p.truth.len()
    );
    assert!(worst < 0.001, "{worst} m");
}

#[test]
fn canopy_gaps_and_slips_are_where_the_scenario_puts_them() {
    let p = pair();
    let (rover, _) = decode(&p.rover);
    let (base, _) = decode(&p.base);
    assert_eq!(base.len(), p.truth.len(), "the base sends every epoch");
    assert!(
        base.values()
            .all(|e| e.sats.iter().all(|s| s.signals.iter().all(|g| !g.slip))),
        "the base under open sky never slips"
    );
    let mut gaps: Vec<(f64, f64)> = Vec::new();
    let (mut restarts, mut slips) = (0, 0);
    let mut cn0: BTreeMap<&str, (f64, usize)> = BTreeMap::new();
    let mut prev_canopy = "open";
    for row in &p.truth {
        let dt = row.time.diff(p.truth[0].time);
        let got = rover.get(&row.time.gps_ns());
        if row.canopy == "dense" {
            assert!(got.is_none(), "{dt} s: observations under the dense stand");
            assert_eq!(row.tracked, 0);
            match gaps.last_mut() {
                Some(g) if g.0 + g.1 == dt => g.1 += 1.0,
                _ => gaps.push((dt, 1.0)),
            }
        } else {
            let e = got.unwrap_or_else(|| panic!("{dt} s: no rover epoch"));
            assert_eq!(e.sats.len(), row.tracked, "{dt} s");
            let flagged: BTreeSet<String> = e
                .sats
                .iter()
                .filter(|s| s.signals.iter().any(|g| g.slip))
                .map(|s| sat_name(s.sys, s.prn))
                .collect();
            assert_eq!(flagged, row.restarts, "{dt} s: lock-time resets");
            for s in e.sats.iter().flat_map(|s| &s.signals) {
                let c = cn0
                    .entry(if row.canopy == "light" {
                        "light"
                    } else {
                        "open"
                    })
                    .or_default();
                c.0 += s.cn0_dbhz.unwrap_or(0.0);
                c.1 += 1;
            }
        }
        assert!(row.slips.is_subset(&row.restarts));
        // Slips in view happen under the crowns only; locks restart there or as the rover
        // leaves cover.
        if !row.slips.is_empty() {
            assert_eq!(row.canopy, "light", "{dt} s: slip under {}", row.canopy);
        }
        if !row.restarts.is_empty() {
            assert!(
                row.canopy != "open" || prev_canopy != "open",
                "{dt} s: lock restart under open sky"
            );
        }
        restarts += row.restarts.len();
        slips += row.slips.len();
        prev_canopy = &row.canopy;
    }
    let mean = |k: &str| cn0[k].0 / cn0[k].1 as f64;
    eprintln!(
        "gaps (start s, length s): {gaps:?}; {restarts} lock restarts, {slips} slips in view; \
         mean C/N0 open {:.1}, light {:.1} dB-Hz",
        mean("open"),
        mean("light")
    );
    assert_eq!(gaps.len(), 3);
    assert!(gaps.iter().all(|g| g.1 >= 10.0), "{gaps:?}");
    assert!(slips >= 5, "{slips} slips");
    assert!(mean("light") < mean("open") - 5.0);
}

/// Geometric range (m) from `rcv` to the satellite at reception time `t`, and its elevation.
fn range(e: &Ephemeris, rcv: &Vector3<f64>, t: Gpst) -> (f64, f64) {
    let mut tau = 0.075;
    let mut sat = Vector3::zeros();
    for _ in 0..6 {
        let (p, _) = e.position_clock(t.add(-tau));
        let (s, c) = (OMEGA_E * tau).sin_cos();
        sat = Vector3::new(c * p.x + s * p.y, -s * p.x + c * p.y, p.z);
        tau = (sat - rcv).norm() / C;
    }
    let d = sat - rcv;
    let up = enu_at(rcv).row(2).transpose();
    (d.norm(), (up.dot(&d) / d.norm()).asin())
}

#[test]
fn double_differences_are_whole_cycles_redrawn_at_each_gap() {
    let p = pair();
    let base_pos = base_position(&rtcm_rs_messages(&p.base));
    let (rover, mut ephs) = decode(&p.rover);
    let (base, more) = decode(&p.base);
    ephs.extend(more);
    let truth: BTreeMap<i64, &Row> = p.truth.iter().map(|r| (r.time.gps_ns(), r)).collect();
    // Integer of each double difference (signal, satellite, reference) at its last epoch.
    let mut last: BTreeMap<(String, Sat, Sat), (i64, Gpst)> = BTreeMap::new();
    let (mut n, mut sum2, mut worst) = (0usize, 0.0, 0.0f64);
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut kept, mut redrawn) = (0usize, 0usize);
    let mut bad: Vec<String> = Vec::new();
    // The first epoch after each dense stand: DDs checked there, and how many changed integer.
    let gap_ends: Vec<Gpst> = p
        .truth
        .windows(2)
        .filter(|w| w[0].canopy == "dense" && w[1].canopy != "dense")
        .map(|w| w[1].time)
        .collect();
    let mut after_gap = vec![(0usize, 0usize); gap_ends.len()];
    for (ns, re) in &rover {
        let Some(be) = base.get(ns) else { continue };
        let row = truth[ns];
        let t = &re.time;
        let eph_of = |sys: Gnss, prn: u8| {
            ephs.iter()
                .filter(|e| e.sys == sys && e.prn == prn && e.toe.diff(*t) <= 0.0)
                .max_by(|a, b| a.toe.diff(b.toe).total_cmp(&0.0))
        };
        // Per system and signal; QZSS shares GPS's signals and joins its double differences.
        let mut groups: BTreeMap<(Gnss, String), Vec<SdObs>> = BTreeMap::new();
        for rs in &re.sats {
            let Some(bs) = be.sats.iter().find(|s| s.sys == rs.sys && s.prn == rs.prn) else {
                continue;
            };
            let Some(eph) = eph_of(rs.sys, rs.prn) else {
                continue;
            };
            let (rr, el) = range(eph, &row.pos, *t);
            let (rb, _) = range(eph, &base_pos, *t);
            if el < 15f64.to_radians() {
                continue;
            }
            for rg in &rs.signals {
                let Some(bg) = bs.signal(rg.code) else {
                    continue;
                };
                let (Some(pr), Some(pb), Some(f)) = (rg.phase_cycles, bg.phase_cycles, rg.freq_hz)
                else {
                    continue;
                };
                let group = if rs.sys == Gnss::Qzss {
                    Gnss::Gps
                } else {
                    rs.sys
                };
                groups
                    .entry((group, rg.code.to_string()))
                    .or_default()
                    .push(((rs.sys, rs.prn), pr - pb, C / f, rr - rb, el));
            }
        }
        for ((_, code), sats) in groups {
            let Some(refr) = sats.iter().max_by(|a, b| a.4.total_cmp(&b.4)).copied() else {
                continue;
            };
            for s in sats.iter().filter(|s| s.0 != refr.0) {
                let dd = (s.1 - refr.1) - (s.3 - refr.3) / s.2;
                let k = dd.round();
                let frac = dd - k;
                if frac.abs() >= DD_TOLERANCE_CYCLES {
                    bad.push(format!(
                        "{} s {} {code} vs {}: DD residual {dd:.3} cycles",
                        t.diff(p.truth[0].time),
                        sat_name(s.0.0, s.0.1),
                        sat_name(refr.0.0, refr.0.1)
                    ));
                }
                n += 1;
                sum2 += frac * frac;
                let gap = gap_ends.iter().position(|g| g.diff(*t) == 0.0);
                if let Some(g) = gap {
                    after_gap[g].0 += 1;
                }
                worst = worst.max(frac.abs());
                *kinds
                    .entry(match s.0 {
                        (Gnss::Beidou, 1..=5) => "BeiDou GEO",
                        (Gnss::Beidou, 6..=10 | 38..=40) => "BeiDou IGSO",
                        (Gnss::Beidou, _) => "BeiDou MEO",
                        (Gnss::Gps, _) => "GPS",
                        (Gnss::Galileo, _) => "Galileo",
                        _ => "QZSS",
                    })
                    .or_default() += 1;
                let key = (code.clone(), s.0, refr.0);
                let names = [sat_name(s.0.0, s.0.1), sat_name(refr.0.0, refr.0.1)];
                let restarted = names.iter().any(|x| row.restarts.contains(x));
                if let Some((k0, t0)) = last.get(&key) {
                    if t.diff(*t0) == 1.0 && !restarted {
                        assert_eq!(
                            *k0, k as i64,
                            "{t:?} {names:?} {code}: integer changed in lock"
                        );
                        kept += 1;
                    } else if restarted && *k0 != k as i64 {
                        redrawn += 1;
                        if let Some(g) = gap {
                            after_gap[g].1 += 1;
                        }
                    }
                }
                last.insert(key, (k as i64, *t));
            }
        }
    }
    let rms = (sum2 / n as f64).sqrt();
    eprintln!(
        "{n} phase DDs: residual RMS {rms:.4} cycles, worst {worst:.3}; {kept} kept their integer \
         epoch to epoch, {redrawn} changed at a lock restart; {kinds:?}"
    );
    eprintln!("after each canopy gap (DDs checked, integers changed): {after_gap:?}");
    assert_eq!(after_gap.len(), 3);
    for (checked, changed) in &after_gap {
        assert!(
            *checked >= 20 && *changed * 10 >= *checked * 8,
            "{after_gap:?}"
        );
    }
    assert!(
        bad.is_empty(),
        "{} DDs off an integer: {:#?}",
        bad.len(),
        &bad[..bad.len().min(20)]
    );
    assert!(n > 50_000, "{n}");
    assert!(rms < 0.03, "{rms}");
    assert!(redrawn > 50, "{redrawn}");
    for k in [
        "GPS",
        "Galileo",
        "QZSS",
        "BeiDou GEO",
        "BeiDou IGSO",
        "BeiDou MEO",
    ] {
        assert!(kinds.get(k).copied().unwrap_or(0) > 100, "{k}: {kinds:?}");
    }
}

#[test]
fn rover_options_that_cannot_work_are_refused_with_a_reason() {
    for (args, says) in [
        (
            &["--rover", "-", "--truth", "-", "-o", "x"][..],
            "only one of them",
        ),
        (
            &[
                "--rover", "r", "--truth", "t", "--ubx", "--msm", "7", "-o", "x",
            ],
            "--rover",
        ),
        (&["--rover", "r", "-o", "x"], "--truth"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_corsd"))
            .arg("simulate")
            .args(args)
            .current_dir(std::env::temp_dir())
            .output()
            .expect("run corsd simulate");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} accepted");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
