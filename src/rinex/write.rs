//! RINEX 3.04 observation files (DESIGN §5), written as the epochs arrive.
//!
//! The header must list every observation type of the file, which a live writer only knows at
//! the end: the body goes to a temporary file while each system's type list grows in order of
//! first appearance (new types only ever go to the end, so earlier records stay valid: a record
//! shorter than the list means the missing types were not observed), and closing writes the
//! header followed by the body under the final name. The same epochs give the same bytes.
//!
//! Per signal the types are C (pseudorange, m), L (carrier phase, cycles), D (Doppler, Hz) and
//! S (C/N0, dB-Hz), each F14.3 with the loss-of-lock indicator (bit 0: lock lost since the last
//! epoch; bit 1: half-cycle ambiguity) and the signal strength indicator 1–9 from C/N0.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Timelike};
use nalgebra::Vector3;

use crate::gnss::Gnss;
use crate::gnss::obs::{Epoch, SignalCode};
use crate::gnss::time::{Gpst, leap_seconds_at};

/// What the header says about the station (from the configuration or 1005/1006/1008/1033).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StationInfo {
    /// 4-character site id.
    pub name: String,
    /// ISO 3166 alpha-3 country code for the long file name.
    pub country: String,
    pub receiver: String,
    pub receiver_version: String,
    pub antenna: String,
    /// Antenna reference point (ECEF, m).
    pub position: Option<Vector3<f64>>,
    /// Antenna height, east, north eccentricity (m).
    pub delta_hen: [f64; 3],
}

/// The order systems appear in within an epoch.
const SYSTEM_ORDER: [Gnss; 7] = [
    Gnss::Gps,
    Gnss::Glonass,
    Gnss::Galileo,
    Gnss::Qzss,
    Gnss::Beidou,
    Gnss::Navic,
    Gnss::Sbas,
];

fn rinex_prn(sys: Gnss, prn: u8) -> u8 {
    match sys {
        Gnss::Qzss if prn >= 193 => prn - 192,
        Gnss::Sbas if prn >= 100 => prn - 100,
        _ => prn,
    }
}

/// GPS-time calendar fields (RINEX writes GPS time as a calendar date without leap seconds).
fn calendar(t: Gpst) -> (i32, u32, u32, u32, u32, f64) {
    let leap = leap_seconds_at(t);
    let whole = Gpst::new(t.secs(), 0.0).add(leap as f64).to_utc();
    (
        whole.year(),
        whole.month(),
        whole.day(),
        whole.hour(),
        whole.minute(),
        whole.second() as f64 + t.frac(),
    )
}

/// The RINEX 3 long name: `SSSS00CCC_R_YYYYDDDHHMM_01H_01S_MO.rnx`.
pub fn long_name(station: &StationInfo, start: Gpst, span: &str, interval_s: f64) -> String {
    let leap = leap_seconds_at(start);
    let c = start.add(leap as f64).to_utc();
    let rate = if interval_s >= 1.0 {
        format!("{:02}S", interval_s.round() as u32)
    } else {
        format!("{:02}Z", (1.0 / interval_s).round() as u32)
    };
    format!(
        "{:4.4}00{:3.3}_R_{:04}{:03}{:02}{:02}_{span}_{rate}_MO.rnx",
        // A short name is padded with X (as an unknown country is XXX): no blanks in file names.
        format!(
            "{:X<4}",
            station
                .name
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_uppercase()
        ),
        format!("{:X<3}", station.country.to_ascii_uppercase()),
        c.year(),
        c.ordinal(),
        c.hour(),
        c.minute()
    )
}

/// The span field of a long name for a file covering `secs` seconds (`15M`, `01H`, `01D`).
pub fn span_name(secs: f64) -> String {
    let s = secs.max(1.0);
    if s > 86_400.0 * 1.5 {
        format!("{:02}D", (s / 86_400.0).ceil() as u32)
    } else if s >= 86_400.0 - 3600.0 {
        "01D".into()
    } else if s >= 3600.0 {
        format!("{:02}H", (s / 3600.0).ceil() as u32)
    } else {
        format!("{:02}M", (s / 60.0).ceil() as u32)
    }
}

fn ssi(cn0: Option<f64>) -> char {
    match cn0 {
        Some(c) if c.is_finite() && c > 0.0 => {
            char::from(b'0' + ((c / 6.0).floor() as i64).clamp(1, 9) as u8)
        }
        _ => ' ',
    }
}

fn value(out: &mut String, v: Option<f64>, lli: Option<char>, ssi: char) {
    match v {
        Some(x) if x.is_finite() && x.abs() < 1e10 => {
            push_f14_3(out, x);
            out.push(lli.unwrap_or(' '));
            out.push(ssi);
        }
        _ => out.push_str("                "),
    }
}

/// `x` as `format!("{x:14.3}")` writes it, byte for byte: the exact binary value rounded to
/// thousandths, ties to even (C/N0 in sixteenths of a dB-Hz ties often), a minus sign whenever
/// the sign bit is set. The general float formatter was three quarters of a replay's time.
fn push_f14_3(out: &mut String, x: f64) {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    // |x| = mant · 2^exp.
    let (mant, exp) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, biased - 1075)
    };
    if exp >= 0 || !x.is_finite() {
        // Above 2^52: not an observation value, and not worth a fast path.
        let _ = write!(out, "{x:14.3}");
        return;
    }
    let n = u128::from(mant) * 1000;
    let shift = exp.unsigned_abs();
    let thousandths = if shift >= 128 {
        0
    } else {
        let (q, r, half) = (n >> shift, n & ((1u128 << shift) - 1), 1u128 << (shift - 1));
        if r > half || (r == half && q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    let mut buf = [b' '; 48];
    let mut i = buf.len();
    let (mut whole, milli) = (thousandths / 1000, thousandths % 1000);
    for d in [milli % 10, milli / 10 % 10, milli / 100] {
        i -= 1;
        buf[i] = b'0' + d as u8;
    }
    i -= 1;
    buf[i] = b'.';
    loop {
        i -= 1;
        buf[i] = b'0' + (whole % 10) as u8;
        whole /= 10;
        if whole == 0 {
            break;
        }
    }
    if bits >> 63 == 1 {
        i -= 1;
        buf[i] = b'-';
    }
    let start = i.min(buf.len() - 14);
    // Only ASCII digits, '.', '-' and spaces were written.
    out.push_str(std::str::from_utf8(&buf[start..]).unwrap_or_default());
}

fn header_line(out: &mut String, content: &str, label: &str) {
    let _ = writeln!(out, "{content:<60.60}{label:<20}");
}

/// A RINEX 3.04 observation file being written.
pub struct ObsWriter {
    station: StationInfo,
    dir: PathBuf,
    span: String,
    tmp_path: PathBuf,
    body: BufWriter<File>,
    /// Per system, the observation types in column order.
    types: BTreeMap<Gnss, Vec<(char, SignalCode)>>,
    first: Option<Gpst>,
    last: Option<Gpst>,
    interval: Option<f64>,
    glonass_channels: BTreeMap<u8, i8>,
    pub epochs: u64,
}

impl ObsWriter {
    /// Start a file in `dir` (named when closed; `span` goes into the name, e.g. `01H`, or is
    /// computed from the epochs when empty).
    pub fn create(dir: &Path, station: StationInfo, span: &str) -> std::io::Result<ObsWriter> {
        std::fs::create_dir_all(dir)?;
        let tmp_path = dir.join(format!(
            ".{}-{}-{:x}.obs.part",
            station.name,
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        let body = BufWriter::with_capacity(256 * 1024, File::create(&tmp_path)?);
        Ok(ObsWriter {
            station,
            dir: dir.to_path_buf(),
            span: span.to_string(),
            tmp_path,
            body,
            types: BTreeMap::new(),
            first: None,
            last: None,
            interval: None,
            glonass_channels: BTreeMap::new(),
            epochs: 0,
        })
    }

    /// Fill header fields the stream told (`told`: 1033/1008 descriptors, 1005/1006 ARP) where
    /// the configuration left them empty.
    pub fn learn(&mut self, told: &StationInfo) {
        if self.station.receiver.is_empty() && !told.receiver.is_empty() {
            self.station.receiver = told.receiver.clone();
            self.station.receiver_version = told.receiver_version.clone();
        }
        if self.station.antenna.is_empty() && !told.antenna.is_empty() {
            self.station.antenna = told.antenna.clone();
        }
        if self.station.position.is_none() {
            self.station.position = told.position;
        }
    }

    /// The span field of the file's name (given, or from the epochs written).
    pub fn span_label(&self) -> String {
        if !self.span.is_empty() {
            return self.span.clone();
        }
        let interval = self.interval.unwrap_or(1.0);
        match (self.first, self.last) {
            (Some(f), Some(l)) => span_name(l.diff(f) + interval),
            _ => span_name(interval),
        }
    }

    /// The station facts of the header.
    pub fn station(&self) -> &StationInfo {
        &self.station
    }

    /// The first epoch's time.
    pub fn start(&self) -> Option<Gpst> {
        self.first
    }

    /// Append one epoch.
    pub fn write(&mut self, e: &Epoch) -> std::io::Result<()> {
        if let Some(prev) = self.last {
            let dt = e.time.diff(prev);
            if dt <= 0.0 {
                // Out of order or repeated: RINEX epochs must increase.
                return Ok(());
            }
            if self.interval.is_none_or(|i| dt < i - 1e-6) {
                self.interval = Some(dt);
            }
        }
        self.first.get_or_insert(e.time);
        self.last = Some(e.time);
        let mut sats: Vec<_> = e.sats.iter().filter(|s| !s.signals.is_empty()).collect();
        sats.sort_by_key(|s| {
            (
                SYSTEM_ORDER.iter().position(|g| *g == s.sys).unwrap_or(9),
                rinex_prn(s.sys, s.prn),
            )
        });
        let (y, mo, d, h, mi, sec) = calendar(e.time);
        let mut rec = String::with_capacity(64 + sats.len() * 200);
        let _ = writeln!(
            rec,
            "> {y:04} {mo:02} {d:02} {h:02} {mi:02}{sec:11.7}  0{:3}",
            sats.len()
        );
        let mut fields = String::new();
        for s in sats {
            let list = self.types.entry(s.sys).or_default();
            for sig in &s.signals {
                for t in ['C', 'L', 'D', 'S'] {
                    let present = match t {
                        'C' => sig.pseudorange_m.is_some(),
                        'L' => sig.phase_cycles.is_some(),
                        'D' => sig.doppler_hz.is_some(),
                        _ => sig.cn0_dbhz.is_some(),
                    };
                    if present && !list.contains(&(t, sig.code)) {
                        list.push((t, sig.code));
                    }
                }
                if s.sys == Gnss::Glonass
                    && let Some(f) = sig.freq_hz
                    && sig.code.band() == 1
                {
                    let k = ((f - 1_602e6) / 562_500.0).round() as i8;
                    self.glonass_channels.insert(s.prn, k);
                }
            }
            let _ = write!(rec, "{}{:02}", s.sys.letter(), rinex_prn(s.sys, s.prn));
            // Trailing empty fields are left out.
            fields.clear();
            let mut kept = 0;
            for (t, code) in list.iter() {
                let sig = s.signals.iter().find(|x| x.code == *code);
                let strength = ssi(sig.and_then(|x| x.cn0_dbhz));
                match (t, sig) {
                    ('C', Some(x)) => value(&mut fields, x.pseudorange_m, None, strength),
                    ('L', Some(x)) => {
                        let lli = (x.slip as u8) | ((x.half_cycle as u8) << 1);
                        let lli = (lli != 0).then(|| char::from(b'0' + lli));
                        value(&mut fields, x.phase_cycles, lli, strength)
                    }
                    ('D', Some(x)) => value(&mut fields, x.doppler_hz, None, strength),
                    ('S', Some(x)) => value(&mut fields, x.cn0_dbhz, None, ' '),
                    _ => value(&mut fields, None, None, ' '),
                }
                // The line so far without its trailing blanks (all ASCII).
                let b = fields.as_bytes();
                kept = (kept..b.len())
                    .rev()
                    .find(|&i| b[i] != b' ')
                    .map_or(kept, |i| i + 1);
            }
            fields.truncate(kept);
            rec.push_str(&fields);
            rec.push('\n');
        }
        self.body.write_all(rec.as_bytes())?;
        self.epochs += 1;
        Ok(())
    }

    fn header(&self) -> String {
        let mut h = String::new();
        header_line(
            &mut h,
            &format!(
                "{:>9}{:11}{:<20}{:<20}",
                "3.04", "", "OBSERVATION DATA", "M (MIXED)"
            ),
            "RINEX VERSION / TYPE",
        );
        // The run date is the data's own end, not the wall clock: the same input gives the same
        // file.
        let date = self.last.map(|t| {
            let (y, mo, d, hh, mi, s) = calendar(t);
            format!(
                "{y:04}{mo:02}{d:02} {hh:02}{mi:02}{:02} GPS",
                s.floor() as u32
            )
        });
        header_line(
            &mut h,
            &format!(
                "{:<20}{:<20}{:<20}",
                format!("corsd {}", env!("CARGO_PKG_VERSION")),
                "",
                date.unwrap_or_default()
            ),
            "PGM / RUN BY / DATE",
        );
        header_line(&mut h, &self.station.name, "MARKER NAME");
        header_line(&mut h, "GEODETIC", "MARKER TYPE");
        header_line(&mut h, "", "OBSERVER / AGENCY");
        header_line(
            &mut h,
            &format!(
                "{:<20}{:<20.20}{:<20.20}",
                "", self.station.receiver, self.station.receiver_version
            ),
            "REC # / TYPE / VERS",
        );
        header_line(
            &mut h,
            &format!("{:<20}{:<20}", "", self.station.antenna),
            "ANT # / TYPE",
        );
        let p = self.station.position.unwrap_or_else(Vector3::zeros);
        header_line(
            &mut h,
            &format!("{:14.4}{:14.4}{:14.4}", p.x, p.y, p.z),
            "APPROX POSITION XYZ",
        );
        let [dh, de, dn] = self.station.delta_hen;
        header_line(
            &mut h,
            &format!("{dh:14.4}{de:14.4}{dn:14.4}"),
            "ANTENNA: DELTA H/E/N",
        );
        for sys in SYSTEM_ORDER {
            let Some(list) = self.types.get(&sys) else {
                continue;
            };
            let names: Vec<String> = list.iter().map(|(t, c)| format!("{t}{c}")).collect();
            for (i, chunk) in names.chunks(13).enumerate() {
                let lead = if i == 0 {
                    format!("{}  {:3}", sys.letter(), names.len())
                } else {
                    "      ".to_string()
                };
                let body: String = chunk.iter().map(|n| format!(" {n}")).collect();
                header_line(&mut h, &format!("{lead}{body}"), "SYS / # / OBS TYPES");
            }
        }
        header_line(&mut h, "DBHZ", "SIGNAL STRENGTH UNIT");
        if let Some(i) = self.interval {
            header_line(&mut h, &format!("{i:10.3}"), "INTERVAL");
        }
        for (t, label) in [
            (self.first, "TIME OF FIRST OBS"),
            (self.last, "TIME OF LAST OBS"),
        ] {
            if let Some(t) = t {
                let (y, mo, d, hh, mi, s) = calendar(t);
                header_line(
                    &mut h,
                    &format!("{y:6}{mo:6}{d:6}{hh:6}{mi:6}{s:13.7}     GPS"),
                    label,
                );
            }
        }
        // RINEX 3.04 requires the phase-shift and GLONASS lines in mixed files: corsd applies no
        // phase alignment and knows no code-phase biases.
        for sys in SYSTEM_ORDER {
            if let Some(list) = self.types.get(&sys) {
                for (t, c) in list {
                    if *t == 'L' {
                        header_line(
                            &mut h,
                            &format!("{} L{c}", sys.letter()),
                            "SYS / PHASE SHIFT",
                        );
                    }
                }
            }
        }
        if self.types.contains_key(&Gnss::Glonass) {
            let slots: Vec<String> = self
                .glonass_channels
                .iter()
                .map(|(prn, k)| format!("R{prn:02} {k:2}"))
                .collect();
            let mut first = true;
            for chunk in slots.chunks(8) {
                let lead = if first {
                    format!("{:3} ", slots.len())
                } else {
                    "    ".to_string()
                };
                first = false;
                header_line(
                    &mut h,
                    &format!("{lead}{}", chunk.join(" ")),
                    "GLONASS SLOT / FRQ #",
                );
            }
            if slots.is_empty() {
                header_line(&mut h, "  0", "GLONASS SLOT / FRQ #");
            }
            header_line(
                &mut h,
                " C1C    0.000 C1P    0.000 C2C    0.000 C2P    0.000",
                "GLONASS COD/PHS/BIS",
            );
        }
        if let Some(t) = self.first {
            header_line(&mut h, &format!("{:6}", leap_seconds_at(t)), "LEAP SECONDS");
        }
        header_line(&mut h, "", "END OF HEADER");
        h
    }

    /// Finish the file: header + body under its long name in the directory. Returns the path,
    /// or `None` when no epoch was written (nothing is left behind then).
    pub fn close(mut self) -> std::io::Result<Option<PathBuf>> {
        self.body.flush()?;
        let Some(start) = self.first else {
            let _ = std::fs::remove_file(&self.tmp_path);
            return Ok(None);
        };
        let interval = self.interval.unwrap_or(1.0);
        let span = self.span_label();
        let name = long_name(&self.station, start, &span, interval);
        let path = self.dir.join(&name);
        let part = self.dir.join(format!("{name}.part"));
        {
            let mut out = BufWriter::with_capacity(256 * 1024, File::create(&part)?);
            out.write_all(self.header().as_bytes())?;
            let mut body = File::open(&self.tmp_path)?;
            std::io::copy(&mut body, &mut out)?;
            out.flush()?;
            out.get_ref().sync_data()?;
        }
        std::fs::rename(&part, &path)?;
        std::fs::remove_file(&self.tmp_path)?;
        Ok(Some(path))
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn observation_values_format_as_the_standard_formatter_does() {
        let mut cases = vec![
            0.0,
            -0.0,
            0.0005,
            -0.0005,
            0.0015,
            0.0625,
            -0.0625,
            45.0625,
            45.1875,
            0.4999,
            1e-300,
            -1e-300,
            5e-324,
            0.9995,
            9.9995,
            123456789.0005,
            9999999999.9999,
            -9999999999.9999,
            22_345_678.123_456,
            -1234.5678,
            2.5e-4,
            7.5e-4,
        ];
        // Sixteenths and thousandths (exact ties in binary), and a pseudo-random spread.
        cases.extend((0..4000).map(|k| k as f64 / 16.0 - 100.0));
        cases.extend((0..4000).map(|k| k as f64 * 0.0005 - 1.0));
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let scale = 10f64.powi((state % 11) as i32 - 1);
            cases.push(((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.0 * scale);
        }
        for x in cases {
            let mut got = String::new();
            push_f14_3(&mut got, x);
            assert_eq!(got, format!("{x:14.3}"), "{x:e}");
        }
    }
    use super::*;

    #[test]
    fn long_names() {
        let st = StationInfo {
            name: "vte1".into(),
            country: "lao".into(),
            ..Default::default()
        };
        // 2018-07-15 00:00:00 GPST.
        let t = Gpst::from_week_tow(2010, 0.0);
        assert_eq!(
            long_name(&st, t, "01H", 1.0),
            "VTE100LAO_R_20181960000_01H_01S_MO.rnx"
        );
        assert_eq!(
            long_name(&st, t, "01D", 30.0),
            "VTE100LAO_R_20181960000_01D_30S_MO.rnx"
        );
        let short = StationInfo {
            name: "day".into(),
            country: "".into(),
            ..Default::default()
        };
        assert_eq!(
            long_name(&short, t, "01D", 1.0),
            "DAYX00XXX_R_20181960000_01D_01S_MO.rnx"
        );
    }

    #[test]
    fn strength_indicator() {
        assert_eq!(ssi(Some(45.0)), '7');
        assert_eq!(ssi(Some(5.0)), '1');
        assert_eq!(ssi(Some(60.0)), '9');
        assert_eq!(ssi(None), ' ');
    }
}

/// A number as RINEX writes it: `D19.12` with an `E` and a two-digit exponent.
pub fn d19(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return " 0.000000000000E+00".into();
    }
    let mut e = x.abs().log10().floor() as i32;
    let mut m = x.abs() / 10f64.powi(e);
    // Rounding to 12 decimals may carry into a new digit.
    if (m * 1e12).round() >= 1e13 {
        m /= 10.0;
        e += 1;
    }
    format!(
        "{}{m:.12}E{}{:02}",
        if x < 0.0 { '-' } else { ' ' },
        if e < 0 { '-' } else { '+' },
        e.abs()
    )
}

fn nav_epoch(t: Gpst, scale_offset_s: f64) -> String {
    // A calendar in the system's own time scale (GPST, GST = GPST, BDT = GPST − 14 s).
    let (y, mo, d, h, mi, s) = calendar(t.add(scale_offset_s));
    format!(
        "{y:04} {mo:02} {d:02} {h:02} {mi:02} {:02}",
        s.round() as u32
    )
}

/// A RINEX 3.04 mixed navigation file of every broadcast ephemeris in the store: GPS, QZSS,
/// Galileo and BeiDou Keplerian records and GLONASS state vectors. Ionosphere lines are not
/// written: the stream does not carry them. Returns the path, or `None` without ephemerides.
pub fn write_nav(
    dir: &Path,
    station: &StationInfo,
    store: &crate::gnss::nav::EphemerisStore,
    start: Gpst,
    span: &str,
) -> std::io::Result<Option<PathBuf>> {
    use crate::gnss::nav::OrbitParams;
    let mut body = String::new();
    let mut first: Option<Gpst> = None;
    let mut sets: Vec<&crate::gnss::nav::Ephemeris> = store.all().collect();
    sets.sort_by(|a, b| {
        let key = |e: &crate::gnss::nav::Ephemeris| {
            (
                SYSTEM_ORDER.iter().position(|g| *g == e.sys).unwrap_or(9),
                rinex_prn(e.sys, e.prn),
            )
        };
        key(a).cmp(&key(b)).then(a.toe.diff(b.toe).total_cmp(&0.0))
    });
    for e in sets {
        first = Some(first.map_or(e.toe, |f| if e.toe.diff(f) < 0.0 { e.toe } else { f }));
        let name = format!("{}{:02}", e.sys.letter(), rinex_prn(e.sys, e.prn));
        let line = |out: &mut String, v: [f64; 4]| {
            let _ = writeln!(
                out,
                "    {}{}{}{}",
                d19(v[0]),
                d19(v[1]),
                d19(v[2]),
                d19(v[3])
            );
        };
        match &e.orbit {
            OrbitParams::Kepler { elements: k, .. } => {
                let bds = e.sys == Gnss::Beidou;
                let offset = if bds {
                    crate::gnss::time::BDT_MINUS_GPST_S as f64
                } else {
                    0.0
                };
                let _ = writeln!(
                    body,
                    "{name} {}{}{}{}",
                    nav_epoch(e.toc, offset),
                    d19(k.af0),
                    d19(k.af1),
                    d19(k.af2)
                );
                let week = if bds { e.toe.bdt().0 } else { e.toe.week() } as f64;
                line(&mut body, [e.iode as f64, k.crs, k.delta_n, k.m0]);
                line(&mut body, [k.cuc, k.e, k.cus, k.sqrt_a]);
                line(&mut body, [k.toe, k.cic, k.omega0, k.cis]);
                line(&mut body, [k.i0, k.crc, k.omega, k.omega_dot]);
                let health = if e.healthy { 0.0 } else { 1.0 };
                let acc = e.accuracy_m.unwrap_or(0.0);
                match e.sys {
                    Gnss::Galileo => {
                        // Data sources: I/NAV E1-B (bit 0) with E5b/E1 clocks (bit 9).
                        line(&mut body, [k.idot, 513.0, week, 0.0]);
                        line(&mut body, [acc, health, e.tgd[0], e.tgd[1]]);
                        line(&mut body, [k.toe, 0.0, 0.0, 0.0]);
                    }
                    Gnss::Beidou => {
                        line(&mut body, [k.idot, 0.0, week, 0.0]);
                        line(&mut body, [acc, health, e.tgd[0], e.tgd[1]]);
                        line(&mut body, [k.toe, 0.0, 0.0, 0.0]);
                    }
                    _ => {
                        line(&mut body, [k.idot, 0.0, week, 0.0]);
                        line(&mut body, [acc, health, e.tgd[0], e.iode as f64]);
                        line(&mut body, [k.toe, 4.0, 0.0, 0.0]);
                    }
                }
            }
            OrbitParams::Glonass { state, channel, .. } => {
                // GLONASS records are dated in UTC.
                let leap = leap_seconds_at(e.toe) as f64;
                let _ = writeln!(
                    body,
                    "{name} {}{}{}{}",
                    nav_epoch(e.toe, -leap),
                    // RINEX writes −τn; the state holds τn as broadcast.
                    d19(-state.tau_n),
                    d19(state.gamma_n),
                    d19(0.0)
                );
                let health = if e.healthy { 0.0 } else { 1.0 };
                let km = |v: f64| v / 1000.0;
                line(
                    &mut body,
                    [km(state.pos[0]), km(state.vel[0]), km(state.acc[0]), health],
                );
                line(
                    &mut body,
                    [
                        km(state.pos[1]),
                        km(state.vel[1]),
                        km(state.acc[1]),
                        *channel as f64,
                    ],
                );
                line(
                    &mut body,
                    [km(state.pos[2]), km(state.vel[2]), km(state.acc[2]), 0.0],
                );
            }
        }
    }
    if first.is_none() {
        return Ok(None);
    }
    let mut h = String::new();
    header_line(
        &mut h,
        &format!(
            "{:>9}{:11}{:<20}{:<20}",
            "3.04", "", "N: GNSS NAV DATA", "M: MIXED"
        ),
        "RINEX VERSION / TYPE",
    );
    let (y, mo, d, hh, mi, s) = calendar(start);
    header_line(
        &mut h,
        &format!(
            "{:<20}{:<20}{y:04}{mo:02}{d:02} {hh:02}{mi:02}{:02} GPS",
            format!("corsd {}", env!("CARGO_PKG_VERSION")),
            "",
            s.floor() as u32
        ),
        "PGM / RUN BY / DATE",
    );
    header_line(
        &mut h,
        &format!("{:6}", leap_seconds_at(start)),
        "LEAP SECONDS",
    );
    header_line(&mut h, "", "END OF HEADER");
    let name = long_name(station, start, span, 1.0).replace("_01S_MO.rnx", "_MN.rnx");
    std::fs::create_dir_all(dir)?;
    let path = dir.join(&name);
    let part = dir.join(format!("{name}.part"));
    std::fs::write(&part, format!("{h}{body}"))?;
    std::fs::rename(&part, &path)?;
    Ok(Some(path))
}

#[cfg(test)]
mod nav_tests {
    use super::*;

    #[test]
    fn d19_format() {
        assert_eq!(d19(0.0), " 0.000000000000E+00");
        assert_eq!(d19(-1.2345e-5), "-1.234500000000E-05");
        assert_eq!(d19(5153.7), " 5.153700000000E+03");
        assert_eq!(d19(9.9999999999999e2), " 1.000000000000E+03");
        assert_eq!(d19(1.0), " 1.000000000000E+00");
    }
}
