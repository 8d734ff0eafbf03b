//! Broadcast ephemerides corsd assembles from u-blox RXM-SFRBX against the navigation RINEX of
//! the same data, field by field within the digits RINEX prints: the NAV file RTKLIB demo5
//! made from the whole cold-start log, and RTKLIB 2.4.3's `convbin -r ubx` run here on the
//! same bytes (GPS LNAV, Galileo I/NAV; BeiDou D1 and GLONASS from gpsd's ZED-F9P log; QZSS
//! LNAV from the GPS subframes relabelled as QZSS, which convbin decodes the same way).
//!
//! Every field RINEX holds is compared except three, for reasons of the writers rather than
//! the data: Galileo's transmission time (RTKLIB stamps a set with word type 0's time, corsd
//! knows word type 5's), the data-source word of Galileo (a writer's choice), and QZSS's fit
//! flag (RTKLIB reads QZSS flag 0, two hours, as GPS's four hours and writes flag 1). RTKLIB
//! 2.4.3 writes no Galileo set from this receiver's SFRBX, demo5 does: every Galileo set is
//! compared with demo5's.
//!
//! The recordings hold no BeiDou GEO satellite (D2). For D2, real GEO records (BNC's broadcast
//! file of 2015-07-13, C01–C05) are laid out as subframe-1 pages at the ICD's bit positions,
//! written as u-blox SFRBX, and decoded by corsd and by RTKLIB: both must give the records
//! back.

mod common;

use std::collections::BTreeMap;

use chrono::{Datelike, Timelike};
use common::ubx::{
    COLDSTART, GPSD_F9P_SFRBX, NavRec, convbin_ubx, plain_copy, read_rinex_nav, read_ubx,
};
use corsd::gnss::nav::{Ephemeris, ura_m};
use corsd::gnss::sat_name;
use corsd::messages::navmsg::NavRecord;
use corsd::messages::ubx::{self, UbxEvent, UbxReceiver};

/// Every ephemeris corsd completes from a UBX byte stream, with the engine's view.
fn ephemerides(data: &[u8]) -> (Vec<(NavRecord, Ephemeris)>, UbxReceiver) {
    let mut framer = corsd::framing::Framer::new();
    framer.push(data);
    framer.finish();
    let mut rx = UbxReceiver::new(None);
    let mut out = Vec::new();
    while let Some(f) = framer.next_frame() {
        let Ok(m) = ubx::decode_frame(f.bytes) else {
            continue;
        };
        if let Some(UbxEvent::Ephemeris(n)) = rx.push(&m)
            && let Some(e) = n.ephemeris
        {
            out.push((n.record, e));
        }
    }
    (out, rx)
}

fn fields(t: chrono::DateTime<chrono::Utc>) -> [i64; 6] {
    [
        t.year().into(),
        t.month().into(),
        t.day().into(),
        t.hour().into(),
        t.minute().into(),
        t.second().into(),
    ]
}

/// Each field of a RINEX record by name, in file order (`None`: nothing to compare with).
type Fields = Vec<(&'static str, Option<f64>)>;

/// A record as RINEX 3.04 writes it: satellite, epoch and fields.
fn as_rinex(r: &NavRecord, e: &Ephemeris) -> (String, [i64; 6], Fields) {
    let sat = sat_name(e.sys, e.prn);
    let k = match &e.orbit {
        corsd::gnss::nav::OrbitParams::Kepler { elements, .. } => Some(*elements),
        _ => None,
    };
    let kepler = |k: &corsd::gnss::orbit::Kepler, iode: f64| {
        vec![
            ("af0", Some(k.af0)),
            ("af1", Some(k.af1)),
            ("af2", Some(k.af2)),
            ("iode", Some(iode)),
            ("crs", Some(k.crs)),
            ("delta_n", Some(k.delta_n)),
            ("m0", Some(k.m0)),
            ("cuc", Some(k.cuc)),
            ("e", Some(k.e)),
            ("cus", Some(k.cus)),
            ("sqrt_a", Some(k.sqrt_a)),
            ("toe", Some(k.toe)),
            ("cic", Some(k.cic)),
            ("omega0", Some(k.omega0)),
            ("cis", Some(k.cis)),
            ("i0", Some(k.i0)),
            ("crc", Some(k.crc)),
            ("omega", Some(k.omega)),
            ("omega_dot", Some(k.omega_dot)),
            ("idot", Some(k.idot)),
        ]
    };
    match (r, k) {
        (NavRecord::Lnav(n), Some(k)) => {
            let mut v = kepler(&k, n.iode.into());
            v.extend([
                ("codes_on_l2", Some(n.code_on_l2.into())),
                ("week", Some(e.toe.week() as f64)),
                ("l2p_flag", Some(f64::from(u8::from(n.l2p_flag)))),
                ("ura_m", ura_m(n.ura_index)),
                ("health", Some(n.health.into())),
                ("tgd", Some(n.tgd_s.unwrap_or(0.0))),
                ("iodc", Some(n.iodc.into())),
                ("transmission", Some(n.how_tow_s)),
                // GPS: the interval in hours (flag 0: 4 h). QZSS writes the flag itself, and
                // RTKLIB 2.4.3 turns QZSS's flag 0 (2 h) into GPS's 4 h, then into flag 1.
                (
                    "fit",
                    (e.sys == corsd::gnss::Gnss::Gps && !n.fit_flag).then_some(4.0),
                ),
            ]);
            (sat, fields(e.toc.calendar()), v)
        }
        (NavRecord::Inav(n), Some(k)) => {
            let mut v = kepler(&k, n.iodnav.into());
            v.extend([
                ("data_sources", None),
                ("week", Some(e.toe.week() as f64)),
                ("spare", None),
                ("sisa_m", corsd::gnss::nav::sisa_m(n.sisa)),
                ("health", Some(n.rinex_health().into())),
                ("bgd_e5a", Some(n.bgd_e1e5a_s)),
                ("bgd_e5b", Some(n.bgd_e1e5b_s)),
                // RTKLIB stamps the set with word type 0's time, corsd knows word type 5's:
                // when the set was received, not a part of it.
                ("transmission", None),
            ]);
            (sat, fields(e.toc.calendar()), v)
        }
        (NavRecord::Bds(n), Some(k)) => {
            let mut v = kepler(&k, n.aode.into());
            v.extend([
                ("spare", None),
                ("week", Some(n.week.into())),
                ("spare", None),
                ("ura_m", ura_m(n.urai)),
                ("sat_h1", Some(n.sat_h1.into())),
                ("tgd1", Some(n.tgd1_s)),
                ("tgd2", Some(n.tgd2_s)),
                ("transmission", Some(n.sow.into())),
                ("aodc", Some(n.aodc.into())),
            ]);
            let bdt = e.toc.add(corsd::gnss::time::BDT_MINUS_GPST_S as f64);
            (sat, fields(bdt.calendar()), v)
        }
        (NavRecord::Glonass(g), _) => {
            let km = |v: f64| Some(v / 1000.0);
            let v = vec![
                ("-tau_n", Some(-g.tau_n_s)),
                ("gamma_n", Some(g.gamma_n)),
                ("tk", None),
                ("x", km(g.pos_m[0])),
                ("vx", km(g.vel_mps[0])),
                ("ax", km(g.acc_mps2[0])),
                ("health", Some(f64::from(g.bn >> 2))),
                ("y", km(g.pos_m[1])),
                ("vy", km(g.vel_mps[1])),
                ("ay", km(g.acc_mps2[1])),
                ("channel", g.channel.map(f64::from)),
                ("z", km(g.pos_m[2])),
                ("vz", km(g.vel_mps[2])),
                ("az", km(g.acc_mps2[2])),
                ("age", Some(g.en.into())),
            ];
            (sat, fields(e.toe.to_utc()), v)
        }
        _ => unreachable!("Keplerian records carry Keplerian orbits"),
    }
}

/// Half a unit of the 12th significant digit RINEX prints.
fn printed(x: f64) -> f64 {
    if x == 0.0 {
        return 1e-30;
    }
    0.5 * 10f64.powi(x.abs().log10().floor() as i32 + 1 - 12)
}

/// Compare corsd's records with a RINEX file's; returns (records matched, fields equal) and
/// the records of corsd the file lacks.
fn compare(
    what: &str,
    ours: &[(NavRecord, Ephemeris)],
    theirs: &[NavRec],
    skip: &[&str],
) -> (usize, usize, Vec<String>) {
    let (mut matched, mut equal, mut missing, mut errors) = (0, 0, Vec::new(), Vec::new());
    for (r, e) in ours {
        let (sat, epoch, values) = as_rinex(r, e);
        // Keplerian sets are told apart by their issue of data too (field 3).
        let same_issue = |x: &NavRec| {
            matches!(r, NavRecord::Glonass(_)) || x.values.get(3) == Some(&values[3].1)
        };
        let Some(rec) = theirs
            .iter()
            .find(|x| x.sat == sat && x.epoch == epoch && same_issue(x))
        else {
            missing.push(format!("{sat} {epoch:?}"));
            continue;
        };
        matched += 1;
        for (i, (name, v)) in values.iter().enumerate() {
            let (Some(v), Some(Some(t))) = (v, rec.values.get(i)) else {
                continue;
            };
            if skip.contains(name) {
                continue;
            }
            if (v - t).abs() <= printed(*t) {
                equal += 1;
            } else {
                errors.push(format!(
                    "{what} {sat} {epoch:?} {name}: corsd {v:e}, RINEX {t:e}"
                ));
            }
        }
    }
    assert!(
        errors.is_empty(),
        "{} fields differ: {errors:#?}",
        errors.len()
    );
    (matched, equal, missing)
}

/// The records of a RINEX file of one system.
fn of_system(recs: &[NavRec], sys: char) -> usize {
    recs.iter().filter(|r| r.sat.starts_with(sys)).count()
}

#[test]
fn coldstart_ephemerides_equal_demo5_and_convbin() {
    let dir = common::servers::temp_dir("ubx-nav-cold");
    let (ours, rx) = ephemerides(&read_ubx(COLDSTART));
    let count = |sys| ours.iter().filter(|(_, e)| e.sys.letter() == sys).count();
    assert_eq!((count('G'), count('E')), (9, 19), "GPS and Galileo sets");
    assert!(rx.nav_stats().errors.is_empty(), "{:?}", rx.nav_stats());
    let demo5 = read_rinex_nav(&common::data_file(
        "ubx/nav-solutions_data/16dBatt_no_interference_coldstart.nav.gz",
    ));
    // demo5 read the whole log, of which the recording is a prefix: it has every set corsd
    // assembles, and later ones.
    let (matched, equal, missing) = compare("demo5", &ours, &demo5, &[]);
    assert!(missing.is_empty(), "not in demo5's NAV: {missing:?}");
    eprintln!("demo5: all {matched} sets of corsd found, {equal} fields equal");
    let nav = dir.join("convbin.nav");
    convbin_ubx(
        &plain_copy(&dir, COLDSTART),
        &dir.join("convbin.obs"),
        Some(&nav),
    );
    let conv = read_rinex_nav(&nav);
    let (matched, equal, missing) = compare("convbin", &ours, &conv, &[]);
    // RTKLIB 2.4.3 reads no Galileo I/NAV from this receiver's SFRBX (demo5 does): its file
    // holds the GPS sets only, each of which corsd has.
    assert_eq!(of_system(&conv, 'E'), 0);
    assert_eq!((matched, conv.len()), (count('G'), count('G')));
    assert!(missing.iter().all(|m| m.starts_with('E')), "{missing:?}");
    eprintln!("convbin: {matched} GPS sets, {equal} fields equal");
}

#[test]
fn beidou_glonass_and_galileo_from_gpsd_f9p_log_equal_convbin() {
    let dir = common::servers::temp_dir("ubx-nav-gpsd");
    let (ours, rx) = ephemerides(&read_ubx(GPSD_F9P_SFRBX));
    assert!(rx.nav_stats().errors.is_empty(), "{:?}", rx.nav_stats());
    let nav = dir.join("convbin.nav");
    convbin_ubx(
        &plain_copy(&dir, GPSD_F9P_SFRBX),
        &dir.join("convbin.obs"),
        Some(&nav),
    );
    let conv = read_rinex_nav(&nav);
    let (matched, equal, missing) = compare("convbin", &ours, &conv, &[]);
    let sats: Vec<String> = ours.iter().map(|(_, e)| sat_name(e.sys, e.prn)).collect();
    // C29 is a BeiDou-3 MEO satellite (D1), R16 a GLONASS-M.
    assert_eq!(sats, ["R16", "E21", "C29"]);
    assert!(missing.is_empty(), "{missing:?}");
    assert_eq!(matched, conv.len());
    eprintln!("convbin: {matched} sets ({sats:?}), {equal} fields equal");
}

#[test]
fn qzss_lnav_equals_convbin() {
    // The cold start's GPS subframes relabelled as QZSS J01… (u-blox gnssId 5): the QZSS LNAV
    // path (satellite numbers, RINEX names, week, TGD) through real subframe bits.
    let dir = common::servers::temp_dir("ubx-nav-qzss");
    let data = read_ubx(COLDSTART);
    let mut qzss: BTreeMap<u8, u8> = BTreeMap::new();
    let mut stream = Vec::new();
    for (_, frame) in corsd::framing::frames(&data).0 {
        let Ok(mut m) = ubx::decode_frame(&frame) else {
            continue;
        };
        if let ubx::Ubx::Sfrbx(s) = &mut m
            && s.head.gnss_id == 0
        {
            let next = qzss.len() as u8 + 1;
            s.head.sv_id = *qzss.entry(s.head.sv_id).or_insert(next);
            s.head.gnss_id = 5;
        }
        stream.extend(m.to_frame());
    }
    assert!(qzss.len() <= 10);
    let input = dir.join("qzss.ubx");
    std::fs::write(&input, &stream).unwrap();
    let (ours, _) = ephemerides(&stream);
    let nav = dir.join("convbin.nav");
    convbin_ubx(&input, &dir.join("convbin.obs"), Some(&nav));
    let conv: Vec<NavRec> = read_rinex_nav(&nav)
        .into_iter()
        .filter(|r| r.sat.starts_with('J'))
        .collect();
    let ours: Vec<_> = ours
        .into_iter()
        .filter(|(_, e)| e.sys.letter() == 'J')
        .collect();
    assert_eq!(ours.len(), 9);
    let (matched, equal, missing) = compare("convbin", &ours, &conv, &[]);
    assert!(missing.is_empty(), "{missing:?}");
    assert_eq!(matched, conv.len());
    eprintln!("convbin: {matched} QZSS sets, {equal} fields equal");
}

/// BeiDou D2 subframe-1 pages as the ICD lays them out (BDS-SIS-ICD-B1I 3.0, 5.3): each
/// field at its bit in the 300-bit page (word `k` is bits 30(k−1)…30k−1, parity included),
/// split fields most significant part first.
struct D2Pages {
    bits: [[u8; 38]; 10],
}

impl D2Pages {
    fn put(&mut self, page: usize, parts: &[(usize, usize)], raw: i64) {
        let width: usize = parts.iter().map(|p| p.1).sum();
        let mut left = width;
        for &(pos, w) in parts {
            left -= w;
            for b in 0..w {
                let bit = (raw >> (left + w - 1 - b)) & 1;
                let at = pos + b;
                self.bits[page - 1][at / 8] |= (bit as u8) << (7 - at % 8);
            }
        }
    }

    fn value(&mut self, page: usize, parts: &[(usize, usize)], v: f64, scale: f64) {
        self.put(page, parts, (v / scale).round() as i64);
    }

    /// The 10 words of a page with their BCH(15,11) parity, generator x⁴ + x + 1.
    fn words(&self, page: usize) -> Vec<u32> {
        let bit = |i: usize| u32::from((self.bits[page - 1][i / 8] >> (7 - i % 8)) & 1);
        let get = |from: usize, n: usize| (from..from + n).fold(0, |a, i| (a << 1) | bit(i));
        let parity = |info: u32| {
            let mut r = info << 4;
            for k in (4..15).rev() {
                if (r >> k) & 1 == 1 {
                    r ^= 0b1_0011 << (k - 4);
                }
            }
            r
        };
        (0..10)
            .map(|k| {
                if k == 0 {
                    let info = get(15, 11);
                    (get(0, 15) << 15) | (info << 4) | parity(info)
                } else {
                    let (a, b) = (get(30 * k, 11), get(30 * k + 11, 11));
                    (a << 19) | (b << 8) | (parity(a) << 4) | parity(b)
                }
            })
            .collect()
    }
}

/// A RINEX BeiDou record (BDT epoch = toc) as D2 pages 1–10, the first sent at `sow0`.
fn d2_pages(r: &NavRec, sow0: u32) -> D2Pages {
    use std::f64::consts::PI;
    let v = |i: usize| r.values[i].unwrap_or(0.0);
    let p2 = |k: i32| 2f64.powi(k);
    let sc = |k: i32| p2(k) * PI;
    // toc in BDT seconds of week: toe's day plus the epoch's time of day.
    let tod = (r.epoch[3] * 3600 + r.epoch[4] * 60 + r.epoch[5]) as f64;
    let toc = (v(11) / 86_400.0).floor() * 86_400.0 + tod;
    let ura = [2.0, 2.8, 4.0, 5.7, 8.0, 11.3, 16.0, 32.0, 64.0, 128.0]
        .iter()
        .position(|&u| u >= v(23) - 1e-9)
        .unwrap_or(15);
    let mut d = D2Pages {
        bits: [[0; 38]; 10],
    };
    for page in 1..=10 {
        d.put(page, &[(0, 11)], 0x712);
        d.put(page, &[(15, 3)], 1);
        d.put(
            page,
            &[(18, 8), (30, 12)],
            i64::from(sow0) + 3 * (page as i64 - 1),
        );
        d.put(page, &[(42, 4)], page as i64);
    }
    d.put(1, &[(46, 1)], v(24) as i64);
    d.put(1, &[(47, 5)], v(28) as i64);
    d.put(1, &[(60, 4)], ura as i64);
    d.put(1, &[(64, 13)], v(21) as i64);
    d.value(1, &[(77, 5), (90, 12)], toc, 8.0);
    d.value(1, &[(102, 10)], v(25), 1e-10);
    d.value(1, &[(120, 10)], v(26), 1e-10);
    d.value(3, &[(100, 12), (120, 12)], v(0), p2(-33));
    let a1 = (v(1) / p2(-50)).round() as i64;
    d.put(3, &[(132, 4)], a1 >> 18);
    d.put(4, &[(46, 6), (60, 12)], a1 & 0x3FFFF);
    d.value(4, &[(72, 10), (90, 1)], v(2), p2(-66));
    d.put(4, &[(91, 5)], v(3) as i64);
    d.value(4, &[(96, 16)], v(5), sc(-43));
    let cuc = (v(7) / p2(-31)).round() as i64;
    d.put(4, &[(120, 14)], cuc >> 4);
    d.put(5, &[(46, 4)], cuc & 0xF);
    d.value(5, &[(50, 2), (60, 22), (90, 8)], v(6), sc(-31));
    d.value(5, &[(98, 14), (120, 4)], v(9), p2(-31));
    let e = (v(8) / p2(-33)).round() as i64;
    d.put(5, &[(124, 10)], e >> 22);
    d.put(6, &[(46, 6), (60, 16)], e & 0x3F_FFFF);
    d.value(6, &[(76, 6), (90, 22), (120, 4)], v(10), p2(-19));
    let cic = (v(12) / p2(-31)).round() as i64;
    d.put(6, &[(124, 10)], cic >> 8);
    d.put(7, &[(46, 6), (60, 2)], cic & 0xFF);
    d.value(7, &[(62, 18)], v(14), p2(-31));
    d.value(7, &[(80, 2), (90, 15)], v(11), 8.0);
    let i0 = (v(15) / sc(-31)).round() as i64;
    d.put(7, &[(105, 7), (120, 14)], i0 >> 11);
    d.put(8, &[(46, 6), (60, 5)], i0 & 0x7FF);
    d.value(8, &[(65, 17), (90, 1)], v(16), p2(-6));
    d.value(8, &[(91, 18)], v(4), p2(-6));
    let omega_dot = (v(18) / sc(-43)).round() as i64;
    d.put(8, &[(109, 3), (120, 16)], omega_dot >> 5);
    d.put(9, &[(46, 5)], omega_dot & 0x1F);
    d.value(9, &[(51, 1), (60, 22), (90, 9)], v(13), sc(-31));
    let omega = (v(17) / sc(-31)).round() as i64;
    d.put(9, &[(99, 13), (120, 14)], omega >> 5);
    d.put(10, &[(46, 5)], omega & 0x1F);
    d.value(10, &[(51, 1), (60, 13)], v(19), sc(-43));
    d
}

#[test]
fn beidou_geo_d2_pages_equal_the_source_and_convbin() {
    // No recording here has a BeiDou GEO satellite's SFRBX: the GEO records of BNC's
    // broadcast file (C01–C05, 2015-07-13) are laid out as D2 pages by the ICD, sent as u-blox
    // SFRBX, and decoded by corsd and by RTKLIB; both must give back the record.
    let dir = common::servers::temp_dir("ubx-nav-d2");
    let source: Vec<NavRec> = read_rinex_nav(&common::data_file("rinex/bnc_example/BRDC194M.15P"))
        .into_iter()
        .filter(|r| r.sat.starts_with('C') && r.sat[1..].parse::<u8>().is_ok_and(|p| p <= 5))
        .collect();
    assert!(source.len() >= 3, "GEO records in BRDC194M.15P");
    // A RAWX epoch first, so that convbin knows the time.
    let t = corsd::gnss::time::Gpst::from_bdt(source[0].values[21].unwrap() as i64, 129_000.0);
    let mut stream = ubx::Ubx::Rawx(ubx::rawx::Rawx::from_epoch(&corsd::gnss::obs::Epoch {
        time: t,
        sats: Vec::new(),
    }))
    .to_frame();
    for r in &source {
        let prn: u8 = r.sat[1..].parse().unwrap();
        let sow0 = (r.values[11].unwrap() as u32 - 600) / 30 * 30;
        let pages = d2_pages(r, sow0);
        for page in 1..=10 {
            let s = ubx::sfrbx::Sfrbx {
                head: ubx::sfrbx::SfrbxHead {
                    gnss_id: 3,
                    sv_id: prn,
                    sig_id: 1,
                    freq_id: 0,
                    num_words: 10,
                    chn: 0,
                    version: 2,
                    reserved: 0,
                },
                words: pages.words(page),
            };
            stream.extend(ubx::Ubx::Sfrbx(s).to_frame());
        }
    }
    let input = dir.join("d2.ubx");
    std::fs::write(&input, &stream).unwrap();
    let (ours, rx) = ephemerides(&stream);
    assert!(rx.nav_stats().errors.is_empty(), "{:?}", rx.nav_stats());
    assert_eq!(ours.len(), source.len());
    assert!(
        ours.iter()
            .all(|(r, _)| matches!(r, NavRecord::Bds(b) if b.d2))
    );
    // The source's transmission time is its own (the RTCM message's); the pages' is when they
    // were laid out here.
    let (matched, equal, missing) = compare("source", &ours, &source, &["transmission"]);
    assert!(missing.is_empty() && matched == source.len(), "{missing:?}");
    eprintln!("BRDC194M.15P: {matched} GEO sets, {equal} fields equal");
    let nav = dir.join("convbin.nav");
    convbin_ubx(&input, &dir.join("convbin.obs"), Some(&nav));
    let conv = read_rinex_nav(&nav);
    let (matched, equal, missing) = compare("convbin", &ours, &conv, &[]);
    assert!(missing.is_empty() && matched == source.len(), "{missing:?}");
    eprintln!("convbin: {matched} GEO sets, {equal} fields equal");
}
