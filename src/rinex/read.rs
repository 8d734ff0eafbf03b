//! RINEX 3 reading: navigation files (GPS, Galileo, BeiDou, QZSS Keplerian records into the
//! ephemeris store) and observation files (epochs of code, phase, Doppler and C/N0).
//!
//! [`read_text`] opens a file as RINEX 3 text whatever its packing: gzipped or Unix-compressed
//! (`.Z`, [`super::lzw`]; found by their magic bytes, not the name), Hatanaka-compressed (CRINEX 3.0, expanded by [`super::crinex`]), both, or
//! plain. [`read_nav`] and [`read_obs`] then read the text.

use std::io::Read;
use std::path::Path;

use crate::gnss::Gnss;
use crate::gnss::nav::{Ephemeris, OrbitParams, kepler_constants};
use crate::gnss::obs::Epoch;
use crate::gnss::orbit::Kepler;
use crate::gnss::time::Gpst;

use super::RinexError;
use super::obs::{ObsFile, Systems, calendar_secs, epoch_head, num, obs_header, sat_obs};

/// The RINEX text of a file's bytes: gunzipped if they start with the gzip magic (1f 8b, any
/// number of members), LZW-expanded if they start with Unix compress's (1f 9d), expanded if they
/// are Compact RINEX (CRINEX 3.0), as they are otherwise.
pub fn decode_bytes(data: &[u8]) -> Result<String, RinexError> {
    let text = unpack(data).map_err(|source| RinexError::Io {
        path: String::new(),
        source,
    })?;
    if super::crinex::is_crinex(&text) {
        super::crinex::expand(&text)
    } else {
        Ok(text.into_owned())
    }
}

/// Read a RINEX file (plain, gzipped or `.Z`, Hatanaka-compressed or not) as RINEX 3 text.
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

/// The GLONASS frequency channel of each slot in a RINEX 3 navigation file (the fourth value
/// of a GLONASS record's second orbit line), the last record's where they differ; for
/// observation files whose header lacks `GLONASS SLOT / FRQ #`.
pub fn read_nav_glonass_channels(text: &str) -> Result<Vec<(u8, i8)>, RinexError> {
    let mut lines = text.lines();
    let mut version_ok = false;
    for l in lines.by_ref() {
        let label = l.get(60..).unwrap_or("");
        if label.starts_with("RINEX VERSION") && l.trim_start().starts_with('3') {
            version_ok = true;
        }
        if label.starts_with("END OF HEADER") {
            break;
        }
    }
    if !version_ok {
        return Err(RinexError::NotRinex3("navigation"));
    }
    let mut channels = [None; 64];
    let lines: Vec<&str> = lines.collect();
    for (i, l) in lines.iter().enumerate() {
        let b = l.as_bytes();
        if b.len() < 4 || b[0] != b'R' || !b[1].is_ascii_digit() || b[3] != b' ' {
            continue;
        }
        let Ok(slot) = l[1..3].trim().parse::<usize>() else {
            continue;
        };
        let k = lines
            .get(i + 2)
            .and_then(|o| o.get(61..80))
            .map(num)
            .filter(|k| k.fract() == 0.0 && (-7.0..=6.0).contains(k));
        if let (Some(c), Some(k)) = (channels.get_mut(slot), k) {
            *c = Some(k as i8);
        }
    }
    Ok(channels
        .iter()
        .enumerate()
        .filter_map(|(s, k)| Some((s as u8, (*k)?)))
        .collect())
}

pub fn read_nav(text: &str) -> Result<(Vec<Ephemeris>, usize), RinexError> {
    let mut lines = crate::gnss::lines::lines(text).enumerate().peekable();
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

/// Reads an observation file whatever its packing, keeping only the satellites of `systems`
/// (all when `None`). A Hatanaka file is decoded straight into epochs, the other systems' lines
/// passed over: the same epochs as [`read_text`] then [`read_obs_of`], in a fraction of the time.
pub fn read_obs_file(path: &Path, systems: Option<&[Gnss]>) -> Result<ObsFile, RinexError> {
    let io = |source: std::io::Error| RinexError::Io {
        path: path.display().to_string(),
        source,
    };
    let data = std::fs::read(path).map_err(io)?;
    let text = unpack(&data).map_err(io)?;
    if super::crinex::is_crinex(&text) {
        return super::crinex::read_obs_of(&text, systems);
    }
    let (epochs, approx) = read_obs_of(&text, systems)?;
    let header = match text.find("END OF HEADER") {
        Some(i) => text[..i].to_string() + "END OF HEADER\n",
        None => text.into_owned(),
    };
    Ok(ObsFile {
        header,
        epochs,
        approx,
    })
}

/// The header of a RINEX file (plain, gzipped or `.Z`, Hatanaka-compressed or not) up to `END OF
/// HEADER`, unpacking no more of the file than that.
pub fn read_header(path: &Path) -> Result<String, RinexError> {
    let io = |source: std::io::Error| RinexError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::io::BufReader::new(std::fs::File::open(path).map_err(io)?);
    let magic = std::io::BufRead::fill_buf(&mut file).map_err(io)?;
    let mut reader: Box<dyn Read> = if super::lzw::is_compress(magic) {
        // No streaming LZW: the head of the stream holds the header.
        Box::new(std::io::Cursor::new(read_head(path, 1 << 20).map_err(io)?))
    } else if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    // A header is a few kilobytes; a megabyte without its end is not a RINEX header.
    while buf.len() < 1 << 20 {
        let n = reader.read(&mut chunk).map_err(io)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(i) = text.find("END OF HEADER") {
            return Ok(text[..i].to_string() + "END OF HEADER\n");
        }
    }
    Err(RinexError::Line {
        line: String::from_utf8_lossy(&buf).lines().count(),
        what: "no END OF HEADER".into(),
    })
}

/// The text of a file's bytes, gunzipped or LZW-expanded (Unix compress) by their magic bytes.
fn unpack(data: &[u8]) -> Result<std::borrow::Cow<'_, str>, std::io::Error> {
    if super::lzw::is_compress(data) {
        let buf = super::lzw::decompress(data)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        return Ok(std::borrow::Cow::Owned(text_of(buf)));
    }
    if !data.starts_with(&[0x1f, 0x8b]) {
        return Ok(String::from_utf8_lossy(data));
    }
    // The last member's trailer holds its length modulo 2^32: for the usual single member the
    // whole text, so the buffer is allocated once. Deflate expands at most 1032 times.
    let isize = data
        .get(data.len().saturating_sub(4)..)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, |b| u32::from_le_bytes(b) as usize);
    let capacity = isize
        .min(data.len().saturating_mul(1032))
        .max(data.len() * 8)
        .min(1 << 30);
    let mut buf = Vec::with_capacity(capacity + 1);
    flate2::read::MultiGzDecoder::new(data).read_to_end(&mut buf)?;
    Ok(std::borrow::Cow::Owned(text_of(buf)))
}

fn text_of(buf: Vec<u8>) -> String {
    match String::from_utf8(buf) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// The first `limit` bytes of a file's content, gunzipped or LZW-expanded by its magic bytes,
/// unpacking no more than that.
pub fn read_head(path: &Path, limit: usize) -> std::io::Result<Vec<u8>> {
    let mut file = std::io::BufReader::new(std::fs::File::open(path)?);
    let magic = std::io::BufRead::fill_buf(&mut file)?;
    let mut buf = Vec::new();
    if super::lzw::is_compress(magic) {
        // LZW rarely packs text below a quarter: four times the wanted length holds it, and
        // a prefix of the stream expands to a prefix of the text.
        file.take(limit.saturating_mul(4) as u64 + 64)
            .read_to_end(&mut buf)?;
        return super::lzw::decompress_head(&buf, limit)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e));
    }
    if magic.starts_with(&[0x1f, 0x8b]) {
        flate2::bufread::MultiGzDecoder::new(file)
            .take(limit as u64)
            .read_to_end(&mut buf)?;
    } else {
        file.take(limit as u64).read_to_end(&mut buf)?;
    }
    Ok(buf)
}

/// [`read_obs`] keeping only the satellites of `systems` (all when `None`): the other systems'
/// lines are passed over unparsed, which is most of the reading time of a multi-GNSS file.
pub fn read_obs_of(
    text: &str,
    systems: Option<&[Gnss]>,
) -> Result<(Vec<Epoch>, Option<[f64; 3]>), RinexError> {
    let mut lines = crate::gnss::lines::lines(text)
        .enumerate()
        .map(|(i, l)| (i + 1, l));
    let header = obs_header(&mut lines)?;
    let kept = Systems::new(&header, systems);
    let mut epochs = Vec::new();
    let mut current: Option<Epoch> = None;
    let mut remaining = 0usize;
    let mut skip = false;
    for (ln, l) in lines {
        if let Some(rest) = l.strip_prefix('>') {
            if let Some(e) = current.take() {
                epochs.push(e);
            }
            let (time, flag, count) = epoch_head(rest, ln)?;
            remaining = count;
            skip = flag > 1;
            if !skip {
                current = Some(Epoch {
                    time,
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
        let Some(&(sys, ref types)) = l.as_bytes().first().and_then(|&c| kept.get(c)) else {
            continue;
        };
        let Some(prn) = l.get(1..3).and_then(|p| p.trim().parse::<u8>().ok()) else {
            continue;
        };
        cur.sats
            .push(sat_obs(sys, prn, kept.channel(sys, prn), types, |k| {
                let start = 3 + 16 * k;
                let value = l
                    .get(start..(start + 14).min(l.len()))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())?
                    .parse::<f64>()
                    .ok()?;
                let lli = l
                    .get(start + 14..start + 15)
                    .and_then(|c| c.trim().parse::<u8>().ok())
                    .unwrap_or(0);
                Some((value, lli))
            }));
    }
    if let Some(e) = current.take() {
        epochs.push(e);
    }
    Ok((epochs, header.approx))
}
