//! NMEA 0183 (up to 4.11) sentences: parsing with nom, formatting back, and the merged sky view.
//!
//! `parse` takes one whole sentence, checks its checksum and splits the envelope with nom
//! (`$` / `!`, talker, sentence type, comma fields, `*hh`); the typed sentences are GGA RMC GSA
//! GSV GST GNS ZDA VTG GLL GBS TXT for every talker (GP GL GA GB BD GQ GI PQ GN …). Anything
//! else — proprietary `$P…` sentences, non-standard talkers such as `$GYOACC` — is kept as
//! [`Data::Other`] with its fields, never rejected for being unknown.
//!
//! Empty fields are `None`. Latitude and longitude are decimal degrees, speeds m/s (knots kept
//! as sent), times plain UTC parts (no time zone library needed).

mod encode;
pub mod sky;

use nom::bytes::complete::{take_till, take_while_m_n};
use nom::character::complete::char as chr;
use nom::{IResult, Parser};
use serde::Serialize;

use crate::framing::nmea_checksum;
use crate::gnss::Gnss;

pub use sky::{SkySat, SkyView};

/// Why a sentence could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NmeaError {
    /// Not `$`/`!` … `*hh`.
    #[error("not an NMEA sentence")]
    Envelope,
    /// The XOR checksum does not match.
    #[error("checksum mismatch: computed {computed:02X}, sentence carries {carried:02X}")]
    Checksum { computed: u8, carried: u8 },
    /// A field of a known sentence holds something that is not a number or flag.
    #[error("{sentence} field {index} is not valid: {value:?}")]
    Field {
        sentence: &'static str,
        index: usize,
        value: String,
    },
}

/// UTC time of day.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Time {
    pub hour: u8,
    pub minute: u8,
    pub second: f64,
}

/// Calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Date {
    pub day: u8,
    pub month: u8,
    pub year: u16,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gga {
    pub time: Option<Time>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Fix quality: 0 none, 1 GNSS, 2 DGNSS, 4 RTK fixed, 5 RTK float, 6 estimated …
    pub quality: Option<u8>,
    pub satellites: Option<u8>,
    pub hdop: Option<f64>,
    /// Altitude above mean sea level (m).
    pub altitude: Option<f64>,
    /// Geoid separation (m).
    pub geoid_separation: Option<f64>,
    pub age_s: Option<f64>,
    pub station: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rmc {
    pub time: Option<Time>,
    pub valid: bool,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub speed_knots: Option<f64>,
    pub course_deg: Option<f64>,
    pub date: Option<Date>,
    pub magnetic_variation_deg: Option<f64>,
    pub mode: Option<char>,
    pub nav_status: Option<char>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gsa {
    pub selection: Option<char>,
    /// 1 no fix, 2 2D, 3 3D.
    pub fix: Option<u8>,
    pub satellites: Vec<u16>,
    pub pdop: Option<f64>,
    pub hdop: Option<f64>,
    pub vdop: Option<f64>,
    /// NMEA 4.10 system ID (1 GPS, 2 GLONASS, 3 Galileo, 4 BeiDou, 5 QZSS, 6 NavIC).
    pub system_id: Option<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct GsvSat {
    pub prn: u16,
    pub elevation_deg: Option<f64>,
    pub azimuth_deg: Option<f64>,
    pub snr_dbhz: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gsv {
    pub total: u8,
    pub index: u8,
    pub in_view: Option<u16>,
    pub sats: Vec<GsvSat>,
    /// NMEA 4.10 signal ID.
    pub signal_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gst {
    pub time: Option<Time>,
    pub rms: Option<f64>,
    pub major: Option<f64>,
    pub minor: Option<f64>,
    pub orientation_deg: Option<f64>,
    pub lat_sd: Option<f64>,
    pub lon_sd: Option<f64>,
    pub alt_sd: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gns {
    pub time: Option<Time>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// One mode character per system (N, A, D, P, R, F, E …).
    pub mode: String,
    pub satellites: Option<u8>,
    pub hdop: Option<f64>,
    pub altitude: Option<f64>,
    pub geoid_separation: Option<f64>,
    pub age_s: Option<f64>,
    pub station: Option<String>,
    pub nav_status: Option<char>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Zda {
    pub time: Option<Time>,
    pub date: Option<Date>,
    pub zone_hours: Option<i8>,
    pub zone_minutes: Option<u8>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Vtg {
    pub course_true_deg: Option<f64>,
    pub course_magnetic_deg: Option<f64>,
    pub speed_knots: Option<f64>,
    pub speed_kmh: Option<f64>,
    pub mode: Option<char>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gll {
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub time: Option<Time>,
    pub valid: bool,
    pub mode: Option<char>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gbs {
    pub time: Option<Time>,
    pub lat_error: Option<f64>,
    pub lon_error: Option<f64>,
    pub alt_error: Option<f64>,
    pub failed_sat: Option<u16>,
    pub probability: Option<f64>,
    pub bias: Option<f64>,
    pub bias_sd: Option<f64>,
    pub system_id: Option<u8>,
    pub signal_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Txt {
    pub total: Option<u8>,
    pub index: Option<u8>,
    pub kind: Option<u8>,
    pub text: String,
}

/// The content of a sentence.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Data {
    Gga(Gga),
    Rmc(Rmc),
    Gsa(Gsa),
    Gsv(Gsv),
    Gst(Gst),
    Gns(Gns),
    Zda(Zda),
    Vtg(Vtg),
    Gll(Gll),
    Gbs(Gbs),
    Txt(Txt),
    /// Any other sentence, kept as its fields.
    Other {
        fields: Vec<String>,
    },
}

/// One parsed sentence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sentence {
    /// Two-letter talker (GP, GN, GB …), `P` for proprietary sentences, empty for
    /// non-standard addresses.
    pub talker: String,
    /// Sentence type (GGA …; for proprietary ones the rest of the address, e.g. `STMVER`).
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(flatten)]
    pub data: Data,
}

impl Sentence {
    pub fn kind_name(&self) -> String {
        self.kind.clone()
    }
    pub fn talker_id(&self) -> String {
        self.talker.clone()
    }

    /// The system a talker speaks for (`GN`: several, `None`).
    pub fn talker_system(&self) -> Option<Gnss> {
        talker_system(&self.talker)
    }
}

/// The system of a talker ID.
pub fn talker_system(t: &str) -> Option<Gnss> {
    Some(match t {
        "GP" => Gnss::Gps,
        "GL" => Gnss::Glonass,
        "GA" => Gnss::Galileo,
        "GB" | "BD" => Gnss::Beidou,
        "GQ" | "PQ" | "QZ" => Gnss::Qzss,
        "GI" => Gnss::Navic,
        _ => return None,
    })
}

fn is_addr(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

/// The envelope: `$`/`!`, address, body, `*hh`.
fn envelope(input: &[u8]) -> IResult<&[u8], (&[u8], &[u8], u8)> {
    let (i, _) = nom::branch::alt((chr('$'), chr('!'))).parse(input)?;
    let (i, addr) = take_while_m_n(1, 24, is_addr).parse(i)?;
    let (i, body) = take_till(|c| c == b'*').parse(i)?;
    let (i, _) = chr('*').parse(i)?;
    let (i, hex) = take_while_m_n(2, 2, |c: u8| c.is_ascii_hexdigit()).parse(i)?;
    let carried = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("00"), 16).unwrap_or(0);
    Ok((i, (addr, body, carried)))
}

/// Parse one sentence (with or without the trailing CR LF).
pub fn parse(sentence: &[u8]) -> Result<Sentence, NmeaError> {
    let s = trim_line_end(sentence);
    let (rest, (addr, body, carried)) = envelope(s).map_err(|_| NmeaError::Envelope)?;
    if !rest.is_empty() {
        return Err(NmeaError::Envelope);
    }
    let star = 1 + addr.len() + body.len();
    let computed = nmea_checksum(&s[1..star]);
    if computed != carried {
        return Err(NmeaError::Checksum { computed, carried });
    }
    let addr = String::from_utf8_lossy(addr).into_owned();
    let body = String::from_utf8_lossy(body);
    let fields: Vec<&str> = match body.strip_prefix(',') {
        Some(b) => b.split(',').collect(),
        None if body.is_empty() => Vec::new(),
        None => return Err(NmeaError::Envelope),
    };
    // Proprietary sentences start with P; the standard ones are a 2-letter talker and a 3-letter
    // type; anything else (e.g. Unicore's $GYOACC, $SNRSTAT) has no talker we know.
    let (talker, kind) = if let Some(rest) = addr.strip_prefix('P') {
        ("P".to_string(), rest.to_string())
    } else if addr.len() == 5 {
        (addr[..2].to_string(), addr[2..].to_string())
    } else {
        (String::new(), addr.clone())
    };
    let data = if talker == "P" || talker.is_empty() {
        Data::Other {
            fields: fields.iter().map(|f| f.to_string()).collect(),
        }
    } else {
        parse_data(&kind, &fields)?
    };
    Ok(Sentence { talker, kind, data })
}

fn trim_line_end(s: &[u8]) -> &[u8] {
    let mut end = s.len();
    while end > 0 && matches!(s[end - 1], b'\r' | b'\n') {
        end -= 1;
    }
    &s[..end]
}

/// Field access with typed, tolerant parsing.
struct Fields<'a> {
    f: &'a [&'a str],
    name: &'static str,
}

impl<'a> Fields<'a> {
    fn raw(&self, i: usize) -> Option<&'a str> {
        self.f.get(i).copied().filter(|s| !s.is_empty())
    }
    fn num<T: std::str::FromStr>(&self, i: usize) -> Result<Option<T>, NmeaError> {
        match self.raw(i) {
            None => Ok(None),
            Some(s) => s.trim().parse().map(Some).map_err(|_| NmeaError::Field {
                sentence: self.name,
                index: i,
                value: s.to_string(),
            }),
        }
    }
    /// A number that some receivers fill with junk: invalid becomes `None`, not an error.
    fn lenient<T: std::str::FromStr>(&self, i: usize) -> Option<T> {
        self.raw(i).and_then(|s| s.trim().parse().ok())
    }
    fn ch(&self, i: usize) -> Option<char> {
        self.raw(i).and_then(|s| s.chars().next())
    }
    fn string(&self, i: usize) -> Option<String> {
        self.raw(i).map(str::to_string)
    }
    fn time(&self, i: usize) -> Result<Option<Time>, NmeaError> {
        let Some(s) = self.raw(i) else {
            return Ok(None);
        };
        let bad = || NmeaError::Field {
            sentence: self.name,
            index: i,
            value: s.to_string(),
        };
        if s.len() < 6 || !s.is_char_boundary(2) || !s.is_char_boundary(4) {
            return Err(bad());
        }
        let hour: u8 = s[..2].parse().map_err(|_| bad())?;
        let minute: u8 = s[2..4].parse().map_err(|_| bad())?;
        let second: f64 = s[4..].parse().map_err(|_| bad())?;
        Ok(Some(Time {
            hour,
            minute,
            second,
        }))
    }
    fn date(&self, i: usize) -> Result<Option<Date>, NmeaError> {
        let Some(s) = self.raw(i) else {
            return Ok(None);
        };
        let bad = || NmeaError::Field {
            sentence: self.name,
            index: i,
            value: s.to_string(),
        };
        if s.len() != 6 || !s.is_ascii() {
            return Err(bad());
        }
        let day: u8 = s[..2].parse().map_err(|_| bad())?;
        let month: u8 = s[2..4].parse().map_err(|_| bad())?;
        let yy: u16 = s[4..].parse().map_err(|_| bad())?;
        // Two-digit years: 80–99 are 1980–1999 (GPS began in 1980), the rest 2000–2079.
        let year = if yy >= 80 { 1900 + yy } else { 2000 + yy };
        Ok(Some(Date { day, month, year }))
    }
    /// ddmm.mmmm / dddmm.mmmm with a hemisphere letter.
    fn angle(&self, i: usize, deg_digits: usize) -> Result<Option<f64>, NmeaError> {
        let (Some(v), hemi) = (self.raw(i), self.ch(i + 1)) else {
            return Ok(None);
        };
        let bad = || NmeaError::Field {
            sentence: self.name,
            index: i,
            value: v.to_string(),
        };
        if v.len() < deg_digits + 2 || !v.is_ascii() {
            return Err(bad());
        }
        let deg: f64 = v[..deg_digits].parse().map_err(|_| bad())?;
        let min: f64 = v[deg_digits..].parse().map_err(|_| bad())?;
        let x = deg + min / 60.0;
        Ok(Some(match hemi {
            Some('S') | Some('W') => -x,
            _ => x,
        }))
    }
}

fn parse_data(kind: &str, f: &[&str]) -> Result<Data, NmeaError> {
    macro_rules! fields {
        ($name:expr) => {
            Fields { f, name: $name }
        };
    }
    Ok(match kind {
        "GGA" => {
            let x = fields!("GGA");
            Data::Gga(Gga {
                time: x.time(0)?,
                lat: x.angle(1, 2)?,
                lon: x.angle(3, 3)?,
                quality: x.num(5)?,
                satellites: x.num(6)?,
                hdop: x.num(7)?,
                altitude: x.num(8)?,
                geoid_separation: x.num(10)?,
                age_s: x.lenient(12),
                station: x.string(13),
            })
        }
        "RMC" => {
            let x = fields!("RMC");
            let var: Option<f64> = x.num(9)?;
            Data::Rmc(Rmc {
                time: x.time(0)?,
                valid: x.ch(1) == Some('A'),
                lat: x.angle(2, 2)?,
                lon: x.angle(4, 3)?,
                speed_knots: x.num(6)?,
                course_deg: x.num(7)?,
                date: x.date(8)?,
                magnetic_variation_deg: var.map(|v| if x.ch(10) == Some('W') { -v } else { v }),
                mode: x.ch(11),
                nav_status: x.ch(12),
            })
        }
        "GSA" => {
            let x = fields!("GSA");
            let sats = (2..14).filter_map(|i| x.lenient::<u16>(i)).collect();
            Data::Gsa(Gsa {
                selection: x.ch(0),
                fix: x.num(1)?,
                satellites: sats,
                pdop: x.lenient(14),
                hdop: x.lenient(15),
                vdop: x.lenient(16),
                // Some receivers put a float here (SiRF); only an integer is a system ID.
                system_id: x.raw(17).and_then(|s| u8::from_str_radix(s, 16).ok()),
            })
        }
        "GSV" => {
            let x = fields!("GSV");
            let n = f.len();
            // 4 header-ish fields (total, index, in view) + 4 per satellite, plus an optional
            // signal ID at the end (NMEA 4.10).
            let sat_fields = n.saturating_sub(3);
            let (nsat, signal_id) = if sat_fields % 4 == 1 {
                (sat_fields / 4, x.string(n - 1))
            } else {
                (sat_fields.div_ceil(4), None)
            };
            let mut sats = Vec::with_capacity(nsat);
            for k in 0..nsat {
                let b = 3 + 4 * k;
                if let Some(prn) = x.lenient::<u16>(b) {
                    sats.push(GsvSat {
                        prn,
                        elevation_deg: x.lenient(b + 1),
                        azimuth_deg: x.lenient(b + 2),
                        snr_dbhz: x.lenient(b + 3),
                    });
                }
            }
            Data::Gsv(Gsv {
                total: x.num(0)?.unwrap_or(1),
                index: x.num(1)?.unwrap_or(1),
                in_view: x.num(2)?,
                sats,
                signal_id,
            })
        }
        "GST" => {
            let x = fields!("GST");
            Data::Gst(Gst {
                time: x.time(0)?,
                rms: x.num(1)?,
                major: x.num(2)?,
                minor: x.num(3)?,
                orientation_deg: x.num(4)?,
                lat_sd: x.num(5)?,
                lon_sd: x.num(6)?,
                alt_sd: x.num(7)?,
            })
        }
        "GNS" => {
            let x = fields!("GNS");
            Data::Gns(Gns {
                time: x.time(0)?,
                lat: x.angle(1, 2)?,
                lon: x.angle(3, 3)?,
                mode: x.string(5).unwrap_or_default(),
                satellites: x.lenient(6),
                hdop: x.lenient(7),
                altitude: x.lenient(8),
                geoid_separation: x.lenient(9),
                age_s: x.lenient(10),
                station: x.string(11),
                nav_status: x.ch(12),
            })
        }
        "ZDA" => {
            let x = fields!("ZDA");
            let (d, m, y): (Option<u8>, Option<u8>, Option<u16>) =
                (x.num(1)?, x.num(2)?, x.num(3)?);
            Data::Zda(Zda {
                time: x.time(0)?,
                date: match (d, m, y) {
                    (Some(day), Some(month), Some(year)) => Some(Date { day, month, year }),
                    _ => None,
                },
                zone_hours: x.lenient(4),
                zone_minutes: x.lenient(5),
            })
        }
        "VTG" => {
            let x = fields!("VTG");
            Data::Vtg(Vtg {
                course_true_deg: x.num(0)?,
                course_magnetic_deg: x.num(2)?,
                speed_knots: x.num(4)?,
                speed_kmh: x.num(6)?,
                mode: x.ch(8),
            })
        }
        "GLL" => {
            let x = fields!("GLL");
            Data::Gll(Gll {
                lat: x.angle(0, 2)?,
                lon: x.angle(2, 3)?,
                time: x.time(4)?,
                valid: x.ch(5) == Some('A'),
                mode: x.ch(6),
            })
        }
        "GBS" => {
            let x = fields!("GBS");
            Data::Gbs(Gbs {
                time: x.time(0)?,
                lat_error: x.num(1)?,
                lon_error: x.num(2)?,
                alt_error: x.num(3)?,
                failed_sat: x.lenient(4),
                probability: x.lenient(5),
                bias: x.lenient(6),
                bias_sd: x.lenient(7),
                system_id: x.raw(8).and_then(|s| u8::from_str_radix(s, 16).ok()),
                signal_id: x.string(9),
            })
        }
        "TXT" => {
            let x = fields!("TXT");
            Data::Txt(Txt {
                total: x.lenient(0),
                index: x.lenient(1),
                kind: x.lenient(2),
                text: f.get(3..).map(|t| t.join(",")).unwrap_or_default(),
            })
        }
        _ => Data::Other {
            fields: f.iter().map(|s| s.to_string()).collect(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gga_round_trip() {
        let s = b"$GNGGA,001043.00,4404.14036,N,12118.85961,W,1,12,0.98,1113.0,M,-21.3,M,,*47\r\n";
        let p = parse(s).unwrap();
        let Data::Gga(g) = &p.data else { panic!("GGA") };
        assert_eq!(p.talker, "GN");
        assert!((g.lat.unwrap() - 44.069006).abs() < 1e-6);
        assert!((g.lon.unwrap() + 121.3143268).abs() < 1e-6);
        assert_eq!(g.quality, Some(1));
        let again = parse(p.to_nmea().as_bytes()).unwrap();
        let Data::Gga(h) = &again.data else {
            panic!("GGA")
        };
        assert!((h.lat.unwrap() - g.lat.unwrap()).abs() < 1e-9);
        assert_eq!(h.altitude, g.altitude);
    }

    #[test]
    fn bad_checksum_and_unknown_sentences() {
        assert!(matches!(
            parse(b"$GPGGA,,,,,,0,00,99.99,,,,,,*49"),
            Err(NmeaError::Checksum { .. })
        ));
        let p = parse(b"$PSTMVER,GNSSLIB_9749c549631df_ARM*09").unwrap();
        assert_eq!(p.talker, "P");
        assert!(matches!(p.data, Data::Other { .. }));
    }

    #[test]
    fn gsv_with_signal_id() {
        let body = "GBGSV,1,1,04,34,57,269,35,25,45,271,40,23,15,320,22,38,11,027,23,5";
        let cs = nmea_checksum(body.as_bytes());
        let p = parse(format!("${body}*{cs:02X}").as_bytes()).unwrap();
        let Data::Gsv(g) = &p.data else { panic!("GSV") };
        assert_eq!(g.sats.len(), 4);
        assert_eq!(g.signal_id.as_deref(), Some("5"));
        assert_eq!(g.sats[0].prn, 34);
    }

    /// Found by the nmea_parse fuzzer: a long non-proprietary address must format back to the
    /// same address, not gain a `P`.
    #[test]
    fn long_unknown_address_formats_back() {
        let s = b"$GPRM111111111111111132C8,1220.,,A14134.49865454,N9,0345.03316077,W,1.885.,9248,103280,11.5985,E,D*2C";
        let p = parse(s).unwrap();
        assert_eq!(p.talker, "");
        let again = parse(p.to_nmea().as_bytes()).unwrap();
        assert_eq!(again.kind, p.kind);
        let p = parse(b"$SNRSTAT,1,1,0,0*5D").unwrap();
        assert_eq!((p.talker.as_str(), p.kind.as_str()), ("", "SNRSTAT"));
    }
}
