//! NMEA decoding against gpsd's own regression suite: for the seven gpsd logs, every position,
//! time and sky view that gpsd reports in its `.log.chk` is compared with corsd's values.
//! The formats differ; the values must not.

mod common;

use std::collections::BTreeMap;

use corsd::gnss::Gnss;
use corsd::messages::nmea::{self, Data, SkyView};
use serde_json::Value;

fn gnss_of(gnssid: u64) -> Option<Gnss> {
    Some(match gnssid {
        0 => Gnss::Gps,
        1 => Gnss::Sbas,
        2 => Gnss::Galileo,
        3 => Gnss::Beidou,
        5 => Gnss::Qzss,
        6 => Gnss::Glonass,
        7 => Gnss::Navic,
        _ => return None,
    })
}

#[derive(Default)]
struct Fix {
    quality: Option<u8>,
    lat: Option<f64>,
    lon: Option<f64>,
    alt_msl: Option<f64>,
    time: Option<(u8, u8, f64)>,
}

#[derive(Default, Debug)]
struct Tally {
    positions: usize,
    times: usize,
    altitudes: usize,
    qualities: usize,
    sky_sats: usize,
    mismatches: Vec<String>,
    used_checked: usize,
    used_mismatches: Vec<String>,
}

fn check_log(rel: &str) -> Tally {
    let chk = String::from_utf8_lossy(&common::read_data(&format!("{rel}.chk"))).into_owned();
    let mut sky = SkyView::new();
    let mut fix = Fix::default();
    let mut t = Tally::default();
    for (n, line) in chk.lines().enumerate() {
        let line = line.trim_end();
        if line.starts_with('$') || line.starts_with('!') {
            // gpsd logs may start a sentence with "$$" (ST Teseo): the first is noise.
            let s = line.trim_start_matches('$');
            let Ok(p) = nmea::parse(format!("${s}").as_bytes()) else {
                continue;
            };
            sky.update(&p);
            // gpsd's rule, applied here too: an RMC or GLL with status V ("no fix") does not
            // move the reported time; GGA and GNS always do.
            let (lat, lon, alt, time) = match &p.data {
                Data::Gga(g) => (g.lat, g.lon, g.altitude, g.time),
                Data::Rmc(r) => (r.lat, r.lon, None, r.time.filter(|_| r.valid)),
                Data::Gns(g) => (g.lat, g.lon, g.altitude, g.time),
                Data::Gll(g) => (g.lat, g.lon, None, g.time.filter(|_| g.valid)),
                Data::Zda(z) => (None, None, None, z.time),
                _ => (None, None, None, None),
            };
            if let Data::Gga(g) = &p.data {
                fix.quality = g.quality;
            }
            if lat.is_some() {
                fix.lat = lat;
                fix.lon = lon;
            }
            if alt.is_some() {
                fix.alt_msl = alt;
            }
            if let Some(tm) = time {
                fix.time = Some((tm.hour, tm.minute, tm.second));
            }
            continue;
        }
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let at = format!("{rel}.chk:{}", n + 1);
        match v["class"].as_str() {
            Some("TPV") => {
                if let (Some(la), Some(lo)) = (v["lat"].as_f64(), v["lon"].as_f64()) {
                    t.positions += 1;
                    match (fix.lat, fix.lon) {
                        (Some(a), Some(b)) if (a - la).abs() < 1e-8 && (b - lo).abs() < 1e-8 => {}
                        other => t
                            .mismatches
                            .push(format!("{at}: position gpsd {la},{lo} corsd {other:?}")),
                    }
                }
                // gpsd's "status": 2 DGPS, 3 RTK fixed, 4 RTK float (GGA quality 2, 4, 5).
                if let Some(st) = v["status"].as_u64() {
                    t.qualities += 1;
                    let ours = match fix.quality {
                        Some(2) => Some(2),
                        Some(4) => Some(3),
                        Some(5) => Some(4),
                        _ => None,
                    };
                    if ours != Some(st) {
                        t.mismatches.push(format!(
                            "{at}: fix status gpsd {st} corsd quality {:?}",
                            fix.quality
                        ));
                    }
                }
                if let Some(alt) = v["altMSL"].as_f64() {
                    t.altitudes += 1;
                    if !fix.alt_msl.is_some_and(|a| (a - alt).abs() < 1e-3) {
                        t.mismatches
                            .push(format!("{at}: altMSL gpsd {alt} corsd {:?}", fix.alt_msl));
                    }
                }
                if let Some(ts) = v["time"].as_str() {
                    // "2015-02-25T07:41:52.799Z": compare the time of day.
                    let hms = ts.split('T').nth(1).unwrap_or("").trim_end_matches('Z');
                    let parts: Vec<f64> = hms.split(':').filter_map(|x| x.parse().ok()).collect();
                    if parts.len() == 3 {
                        t.times += 1;
                        let ok = fix.time.is_some_and(|(h, m, s)| {
                            h as f64 == parts[0]
                                && m as f64 == parts[1]
                                && (s - parts[2]).abs() < 1e-3
                        });
                        if !ok {
                            t.mismatches
                                .push(format!("{at}: time gpsd {hms} corsd {:?}", fix.time));
                        }
                    }
                }
            }
            Some("SKY") => {
                // gpsd lists one entry per satellite and signal (with its own "sigid"
                // numbering); corsd keys signals by the NMEA signal ID. Each gpsd entry must
                // match one of corsd's signals of that satellite in elevation, azimuth and C/N0.
                let mut ours: BTreeMap<(Gnss, u16), Vec<nmea::SkySat>> = BTreeMap::new();
                for s in sky.satellites() {
                    ours.entry((s.system, s.svid)).or_default().push(s);
                }
                let mut seen_used = std::collections::BTreeSet::new();
                for s in v["satellites"].as_array().cloned().unwrap_or_default() {
                    let (Some(g), Some(id)) =
                        (s["gnssid"].as_u64().and_then(gnss_of), s["svid"].as_u64())
                    else {
                        continue;
                    };
                    t.sky_sats += 1;
                    let first_entry = seen_used.insert((g, id));
                    let Some(sigs) = ours.get(&(g, id as u16)) else {
                        t.mismatches
                            .push(format!("{at}: {g:?} {id} missing from corsd's sky view"));
                        continue;
                    };
                    let same = |a: Option<f64>, b: Option<f64>| match (a, b) {
                        (Some(x), Some(y)) => (x - y).abs() < 1e-6,
                        // gpsd leaves out what the sentence left empty, and shows 0 el/az as 0.
                        (None, None) | (Some(_), None) => true,
                        (None, Some(y)) => y == 0.0,
                    };
                    let found = sigs.iter().find(|o| {
                        same(s["el"].as_f64(), o.elevation_deg)
                            && same(s["az"].as_f64(), o.azimuth_deg)
                            && match (s["ss"].as_f64(), o.snr_dbhz) {
                                (Some(x), Some(y)) => (x - y).abs() < 1e-6,
                                (None, None) => true,
                                _ => false,
                            }
                    });
                    // "used" is a property of the satellite (GSA lists satellites, not signals);
                    // gpsd repeats it on further entries of the same satellite by its own rules
                    // (per "sigid", and "not used" for a GSV set without a signal ID), so the
                    // satellite's first entry is the one to compare.
                    if let Some(u) = s["used"].as_bool().filter(|_| first_entry) {
                        t.used_checked += 1;
                        if found.is_some_and(|o| o.used != u) {
                            t.used_mismatches
                                .push(format!("{at}: {g:?} {id} used gpsd {u} corsd {found:?}"));
                        }
                    }
                    if found.is_none() {
                        t.mismatches.push(format!(
                            "{at}: {g:?} {id}: gpsd {s} not among corsd's {sigs:?}"
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    t
}

#[test]
fn positions_times_and_sky_views_match_gpsd() {
    let mut report = Vec::new();
    let mut all = Vec::new();
    for rel in common::NMEA_FILES {
        let t = check_log(rel);
        report.push(format!(
            "{rel}: {} positions, {} times, {} altitudes, {} fix qualities, {} sky satellites ({} used flags), {} mismatches",
            t.positions,
            t.times,
            t.altitudes,
            t.qualities,
            t.sky_sats,
            t.used_checked,
            t.mismatches.len() + t.used_mismatches.len()
        ));
        assert!(t.positions + t.sky_sats > 0, "{rel}: nothing compared");
        all.extend(t.used_mismatches);
        all.extend(t.mismatches);
    }
    eprintln!("{}", report.join("\n"));
    assert!(
        all.is_empty(),
        "{} mismatches: {:#?}",
        all.len(),
        &all[..all.len().min(25)]
    );
}

#[test]
fn teseo_bad_checksum_sentence_is_rejected() {
    let data = common::read_data("nmea/gpsd/st-teseo-liv4f.log");
    let mut rejected = 0;
    for line in data.split(|&b| b == b'\n') {
        let l: Vec<u8> = line.iter().copied().skip_while(|&b| b == b'$').collect();
        if l.is_empty() || line.first() != Some(&b'$') {
            continue;
        }
        let mut s = vec![b'$'];
        s.extend(l);
        if matches!(nmea::parse(&s), Err(nmea::NmeaError::Checksum { .. })) {
            rejected += 1;
        }
    }
    assert_eq!(rejected, 1);
}

/// Every sentence of every log: parse → format → parse gives the same values.
#[test]
fn every_real_sentence_formats_back() {
    let mut n = 0;
    for rel in common::NMEA_FILES
        .iter()
        .chain(["rtcm3/semuconsulting_pygnssutils/pygpsdata-rtcm3.log"].iter())
    {
        let (frames, _) = corsd::framing::frames(&common::read_data(rel));
        for (kind, bytes) in frames {
            if kind != corsd::framing::FrameKind::Nmea {
                continue;
            }
            let Ok(p) = nmea::parse(&bytes) else { continue };
            let again = nmea::parse(p.to_nmea().as_bytes())
                .unwrap_or_else(|e| panic!("{rel}: {e}: {}", p.to_nmea()));
            assert_eq!(again.talker, p.talker);
            assert_eq!(again.kind, p.kind);
            let (a, b) = (
                serde_json::to_value(&p.data).unwrap(),
                serde_json::to_value(&again.data).unwrap(),
            );
            assert!(
                json_close(&a, &b),
                "{rel}: {} vs {}",
                String::from_utf8_lossy(&bytes),
                p.to_nmea()
            );
            n += 1;
        }
    }
    assert!(n > 9000, "{n} sentences");
}

fn json_close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            (x - y).abs() <= 1e-6 * x.abs().max(1.0)
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_close(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| json_close(v, w))
        }
        _ => a == b,
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

    #[test]
    fn arbitrary_and_mangled_sentences_never_panic(
        body in "[A-Z]{5}(,[-0-9A-Za-z.]{0,12}){0,24}",
        junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120),
    ) {
        let cs = corsd::framing::nmea_checksum(body.as_bytes());
        let s = format!("${body}*{cs:02X}\r\n");
        if let Ok(p) = nmea::parse(s.as_bytes()) {
            let _ = nmea::parse(p.to_nmea().as_bytes());
            let mut sky = SkyView::new();
            sky.update(&p);
            let _ = sky.by_satellite();
        }
        let _ = nmea::parse(&junk);
        let mut j = b"$GPGSV,".to_vec();
        j.extend(&junk);
        let _ = nmea::parse(&j);
    }
}
