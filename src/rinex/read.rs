//! RINEX 3 reading: navigation files (GPS, Galileo, BeiDou, QZSS Keplerian records into the
//! ephemeris store) and observation files (epochs of code, phase, Doppler and C/N0).
//!
//! [`read_text`] opens a file as RINEX 3 text whatever its packing: gzipped (found by its magic
//! bytes, not its name), Hatanaka-compressed (CRINEX 3.0, expanded by [`super::crinex`]), both, or
//! plain. [`read_nav`] and [`read_obs`] then read the text.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::gnss::Gnss;
use crate::gnss::nav::{Ephemeris, OrbitParams, kepler_constants};
use crate::gnss::obs::{Epoch, SatObs, SignalCode, SignalObs};
use crate::gnss::orbit::Kepler;
use crate::gnss::time::{Gpst, SECONDS_PER_DAY};

use super::RinexError;

/// The RINEX text of a file's bytes: gunzipped if they start with the gzip magic (1f 8b, any
/// number of members), expanded if they are Compact RINEX (CRINEX 3.0), as they are otherwise.
pub fn decode_bytes(data: &[u8]) -> Result<String, RinexError> {
    let unzipped;
    let bytes = if data.starts_with(&[0x1f, 0x8b]) {
        let mut buf = Vec::with_capacity(data.len() * 8);
        flate2::read::MultiGzDecoder::new(data)
            .read_to_end(&mut buf)
            .map_err(|source| RinexError::Io {
                path: String::new(),
                source,
            })?;
        unzipped = buf;
        &unzipped[..]
    } else {
        data
    };
    let text = String::from_utf8_lossy(bytes);
    if super::crinex::is_crinex(&text) {
        super::crinex::expand(&text)
    } else {
        Ok(text.into_owned())
    }
}

/// Read a RINEX file (plain, gzipped, Hatanaka-compressed or both) as RINEX 3 text.
pub fn read_text(path: &Path) -> Result<String, RinexError> {
    let io = |source: std::io::Error| RinexError::Io {
        path: path.display().to_string(),
        source,
    };
    let data = std::fs::read(path).map_err(io)?;
    decode_bytes(&data).map_err(|e| match e {
        RinexError::Io { source, .. } => io(source),
        e => e,
    })
}

fn num(s: &str) -> f64 {
    s.trim().replace(['D', 'd'], "E").parse().unwrap_or(0.0)
}

/// Seconds of the week from a calendar date and time (in whatever scale the file uses).
fn calendar_secs(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: f64) -> (i64, f64) {
    // Days from 1980-01-06 by the civil-from-days algorithm.
    let (y2, m2) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days_since_1970 = era * 146_097 + doe - 719_468;
    let days = days_since_1970 - 3657; // 1980-01-06
    let whole = days * SECONDS_PER_DAY + h * 3600 + mi * 60;
    (whole, s)
}

/// Read a RINEX 3 navigation file. Returns the Keplerian ephemerides and the number of records
/// of systems not read yet (GLONASS, SBAS, NavIC).
/// The GPS Klobuchar coefficients of a navigation file's header (`GPSA`/`GPSB` in RINEX 3,
/// `ION ALPHA`/`ION BETA` in RINEX 2), when it has them: the broadcast ionosphere from a real
/// source for single-frequency signals.
pub fn read_nav_klobuchar(text: &str) -> Option<crate::gnss::atmosphere::Klobuchar> {
    let (mut alpha, mut beta) = (None, None);
    for line in text.lines() {
        let label = line.get(60..).unwrap_or("").trim();
        if label == "END OF HEADER" {
            break;
        }
        let values = |body: &str| -> Option<[f64; 4]> {
            let v: Vec<f64> = body
                .split_whitespace()
                .take(4)
                .map(|x| x.replace(['D', 'd'], "E").parse::<f64>())
                .collect::<Result<_, _>>()
                .ok()?;
            v.try_into().ok()
        };
        let body = line.get(..60).unwrap_or(line);
        if label == "IONOSPHERIC CORR" {
            match body.get(..4) {
                Some("GPSA") => alpha = values(body.get(4..)?),
                Some("GPSB") => beta = values(body.get(4..)?),
                _ => {}
            }
        } else if label == "ION ALPHA" {
            alpha = values(body);
        } else if label == "ION BETA" {
            beta = values(body);
        }
    }
    Some(crate::gnss::atmosphere::Klobuchar {
        alpha: alpha?,
        beta: beta?,
    })
}

pub fn read_nav(text: &str) -> Result<(Vec<Ephemeris>, usize), RinexError> {
    let mut lines = text.lines().enumerate().peekable();
    let mut version_ok = false;
    for (_, l) in lines.by_ref() {
        if l.get(60..).is_some_and(|t| t.starts_with("RINEX VERSION"))
            && l.trim_start().starts_with('3')
        {
            version_ok = true;
        }
        if l.get(60..).is_some_and(|t| t.starts_with("END OF HEADER")) {
            break;
        }
    }
    if !version_ok {
        return Err(RinexError::NotRinex3("navigation"));
    }
    let mut out = Vec::new();
    let mut skipped = 0;
    while let Some((ln, l)) = lines.next() {
        if l.trim().is_empty() {
            continue;
        }
        let Some(sys) = l.chars().next().and_then(Gnss::from_letter) else {
            return Err(RinexError::Line {
                line: ln + 1,
                what: format!("unexpected record start {l:?}"),
            });
        };
        let nlines = match sys {
            Gnss::Glonass | Gnss::Sbas => 3,
            _ => 7,
        };
        let mut rec = vec![l.to_string()];
        for _ in 0..nlines {
            match lines.next() {
                Some((_, x)) => rec.push(x.to_string()),
                None => {
                    return Err(RinexError::Line {
                        line: ln + 1,
                        what: "record cut short".into(),
                    });
                }
            }
        }
        // More indented lines belong to the record too (RINEX 3.05 gives GLONASS a fourth orbit line).
        while lines.next_if(|(_, x)| x.starts_with("    ")).is_some() {}
        if !matches!(sys, Gnss::Gps | Gnss::Galileo | Gnss::Beidou | Gnss::Qzss) {
            skipped += 1;
            continue;
        }
        // Four 19-character values per line after a 4-character indent; the first line has the
        // epoch in columns 4–23.
        let field = |row: usize, k: usize| -> f64 {
            let line = &rec[row];
            let start = 4 + 19 * k;
            line.get(start..(start + 19).min(line.len()))
                .map(num)
                .unwrap_or(0.0)
        };
        let head = &rec[0];
        let prn: u8 =
            head.get(1..3)
                .and_then(|p| p.trim().parse().ok())
                .ok_or(RinexError::Line {
                    line: ln + 1,
                    what: "satellite number".into(),
                })?;
        let ints: Vec<i64> = head
            .get(4..23)
            .unwrap_or("")
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        let [y, mo, d, h, mi, s] = ints[..] else {
            return Err(RinexError::Line {
                line: ln + 1,
                what: "epoch".into(),
            });
        };
        let (toc_whole, toc_frac) = calendar_secs(y, mo, d, h, mi, s as f64);
        let af = |k: usize| {
            head.get(23 + 19 * k..(23 + 19 * (k + 1)).min(head.len()))
                .map(num)
                .unwrap_or(0.0)
        };
        let week = field(5, 2) as i64;
        let toe_sow = field(3, 0);
        let k = Kepler {
            af0: af(0),
            af1: af(1),
            af2: af(2),
            crs: field(1, 1),
            delta_n: field(1, 2),
            m0: field(1, 3),
            cuc: field(2, 0),
            e: field(2, 1),
            cus: field(2, 2),
            sqrt_a: field(2, 3),
            toe: toe_sow,
            cic: field(3, 1),
            omega0: field(3, 2),
            cis: field(3, 3),
            i0: field(4, 0),
            crc: field(4, 1),
            omega: field(4, 2),
            omega_dot: field(4, 3),
            idot: field(5, 0),
            toc: (toc_whole.rem_euclid(604_800)) as f64 + toc_frac,
        };
        let (toe, toc) = if sys == Gnss::Beidou {
            // BeiDou records are in BDT with BDT weeks.
            let toe = Gpst::from_bdt(week, toe_sow);
            (toe, Gpst::new(toc_whole, toc_frac).add(14.0))
        } else {
            (
                Gpst::from_week_tow(week, toe_sow),
                Gpst::new(toc_whole, toc_frac),
            )
        };
        let tgd = match sys {
            Gnss::Beidou => [field(6, 2), field(6, 3)],
            Gnss::Galileo => [field(6, 2), field(6, 3)],
            _ => [field(6, 2), 0.0],
        };
        out.push(Ephemeris {
            sys,
            prn: if sys == Gnss::Qzss {
                prn.saturating_add(192)
            } else {
                prn
            },
            toe,
            toc,
            iode: field(1, 0) as u32,
            healthy: field(6, 1) == 0.0
                || sys == Gnss::Galileo && (field(6, 1) as u32) & 0b1_1100_0111 == 0,
            accuracy_m: Some(field(6, 0)),
            tgd,
            fit_half_s: 3.0 * 3600.0,
            orbit: OrbitParams::Kepler {
                elements: k,
                constants: kepler_constants(sys),
                beidou_geo: sys == Gnss::Beidou && crate::gnss::is_beidou_geo(prn),
            },
        });
    }
    Ok((out, skipped))
}

/// Read a RINEX 3 observation file (plain text). Returns the epochs (event flags other than 0
/// and 1 are skipped) and the header's approximate position.
pub fn read_obs(text: &str) -> Result<(Vec<Epoch>, Option<[f64; 3]>), RinexError> {
    read_obs_of(text, None)
}

/// [`read_obs`] keeping only the satellites of `systems` (all when `None`): the other systems'
/// lines are passed over unparsed, which is most of the reading time of a multi-GNSS file.
pub fn read_obs_of(
    text: &str,
    systems: Option<&[Gnss]>,
) -> Result<(Vec<Epoch>, Option<[f64; 3]>), RinexError> {
    let mut types: BTreeMap<char, Vec<String>> = BTreeMap::new();
    let mut approx = None;
    let mut lines = text.lines().enumerate();
    let mut last_sys = None;
    let mut version_ok = false;
    for (_, l) in lines.by_ref() {
        let label = l.get(60..).unwrap_or("");
        if label.starts_with("RINEX VERSION") && l.trim_start().starts_with('3') {
            version_ok = true;
        } else if label.starts_with("APPROX POSITION XYZ") {
            let v: Vec<f64> = l[..60].split_whitespace().map(num).collect();
            if let [x, y, z] = v[..] {
                approx = Some([x, y, z]);
            }
        } else if label.starts_with("SYS / # / OBS TYPES") {
            let c = l.chars().next().unwrap_or(' ');
            let sys = if c == ' ' { last_sys } else { Some(c) };
            if let Some(sys) = sys {
                last_sys = Some(sys);
                let list = types.entry(sys).or_default();
                list.extend(l[7..60].split_whitespace().map(str::to_string));
            }
        } else if label.starts_with("END OF HEADER") {
            break;
        }
    }
    if !version_ok {
        return Err(RinexError::NotRinex3("observation"));
    }
    let mut epochs = Vec::new();
    let mut current: Option<Epoch> = None;
    let mut remaining = 0usize;
    let mut skip = false;
    for (ln, l) in lines {
        if let Some(rest) = l.strip_prefix('>') {
            if let Some(e) = current.take() {
                epochs.push(e);
            }
            let f: Vec<&str> = rest.split_whitespace().collect();
            if f.len() < 8 {
                return Err(RinexError::Line {
                    line: ln + 1,
                    what: "epoch line".into(),
                });
            }
            let p = |i: usize| f[i].parse::<f64>().unwrap_or(0.0);
            let flag = f[6].parse::<u8>().unwrap_or(9);
            remaining = f[7].parse().unwrap_or(0);
            skip = flag > 1;
            let (whole, frac) = calendar_secs(
                p(0) as i64,
                p(1) as i64,
                p(2) as i64,
                p(3) as i64,
                p(4) as i64,
                p(5),
            );
            if !skip {
                current = Some(Epoch {
                    time: Gpst::new(whole, frac),
                    sats: Vec::new(),
                });
            }
            continue;
        }
        if remaining == 0 {
            continue;
        }
        remaining -= 1;
        if skip {
            continue;
        }
        let Some(cur) = current.as_mut() else {
            continue;
        };
        let Some(sc) = l.chars().next() else { continue };
        let (Some(sys), Some(obs_types)) = (Gnss::from_letter(sc), types.get(&sc)) else {
            continue;
        };
        if systems.is_some_and(|keep| !keep.contains(&sys)) {
            continue;
        }
        let Some(prn) = l.get(1..3).and_then(|p| p.trim().parse::<u8>().ok()) else {
            continue;
        };
        let mut sigs: BTreeMap<SignalCode, SignalObs> = BTreeMap::new();
        for (k, t) in obs_types.iter().enumerate() {
            let start = 3 + 16 * k;
            let Some(v) = l
                .get(start..(start + 14).min(l.len()))
                .map(str::trim)
                .filter(|v| !v.is_empty())
            else {
                continue;
            };
            let Ok(value) = v.parse::<f64>() else {
                continue;
            };
            let lli = l
                .get(start + 14..start + 15)
                .and_then(|c| c.trim().parse::<u8>().ok())
                .unwrap_or(0);
            let Some(code) = t.get(1..3).and_then(SignalCode::new) else {
                continue;
            };
            let freq = crate::gnss::signal::carrier_hz(sys, code.0[0], None);
            let e = sigs.entry(code).or_insert(SignalObs {
                code,
                freq_hz: freq,
                pseudorange_m: None,
                phase_cycles: None,
                doppler_hz: None,
                cn0_dbhz: None,
                lock_s: None,
                slip: false,
                half_cycle: false,
            });
            match t.as_bytes()[0] {
                b'C' => e.pseudorange_m = Some(value),
                b'L' => {
                    e.phase_cycles = Some(value);
                    e.slip |= lli & 1 == 1;
                    e.half_cycle |= lli & 2 == 2;
                }
                b'D' => e.doppler_hz = Some(value),
                b'S' => e.cn0_dbhz = Some(value),
                _ => {}
            }
        }
        cur.sats.push(SatObs {
            sys,
            prn: if sys == Gnss::Qzss {
                prn.saturating_add(192)
            } else {
                prn
            },
            signals: sigs.into_values().collect(),
        });
    }
    if let Some(e) = current.take() {
        epochs.push(e);
    }
    Ok((epochs, approx))
}
