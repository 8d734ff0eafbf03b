//! Antenna phase-centre offsets (PCO) and variations (PCV) from ANTEX 1.4 files
//! (Rothacher & Schmid, "ANTEX: The Antenna Exchange Format, Version 1.4", IGS 2010).
//!
//! Receiver antennas are found by type and radome; satellite antennas by system, PRN and the
//! VALID FROM/UNTIL period (a PRN is reassigned to new satellites over the years, so the PRN
//! alone is not an antenna). Values in the file are millimetres; everything returned is metres.
//!
//! Conventions (the ANTEX specification's):
//! * receiver PCO is NORTH/EAST/UP from the antenna reference point (ARP) to the mean phase
//!   centre; satellite PCO is X/Y/Z in the IGS body frame from the centre of mass;
//! * the phase centre seen along a unit line of sight `e` (receiver → satellite) is displaced so
//!   that the measured range is `ρ_ARP − PCO·e + PCV(zenith, azimuth)`: the receiver correction
//!   below is the term to add to a modelled ARP range;
//! * PCV grids run in zenith (receivers) or nadir (satellites) angle from ZEN1 to ZEN2 by DZEN,
//!   optionally in azimuth by DAZI; angles outside the grid take the nearest edge value.
//!
//! Frequencies are the ANTEX codes (system letter and RINEX band: G01 G02 G05, R01 R02, E01 E05
//! E07 E08 E06, C01 C02 C07 C06 C05 C08, J01 J02 J05 …). Many receiver calibrations, all of
//! igs05.atx's among them, have GPS G01/G02 only; a signal without its own calibration takes, in
//! this order, the antenna's calibration of the same system nearest in carrier frequency, then
//! the GPS calibration nearest in carrier frequency (so BeiDou B1I uses G01, Galileo E5a and
//! BeiDou B3I use G02 there, as the IGS does when a system has no values). The returned
//! [`FreqUse`] says which one was used, so the caller can warn.

use nalgebra::Vector3;

use super::Gnss;
use super::time::{Gpst, SECONDS_PER_DAY, SECONDS_PER_WEEK};

mod direction;
pub use direction::LineOfSight;

/// An open-ended satellite entry (no VALID UNTIL) is trusted this long after the file's release
/// week: PRNs move to new satellites a few times a year.
pub const SATELLITE_TRUST_WEEKS: i64 = 26;

/// What went wrong reading or searching an ANTEX file.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AntexError {
    /// The text does not start with an ANTEX version line.
    #[error("not an ANTEX file (no ANTEX VERSION / SYST line)")]
    NotAntex,
    /// A line could not be read.
    #[error("ANTEX line {line}: {what}")]
    Line { line: usize, what: String },
    /// No calibration of this antenna and radome.
    #[error("antenna {antenna} with radome {radome} is not in the ANTEX file")]
    ReceiverNotFound { antenna: String, radome: String },
    /// No entry of this satellite valid at the time.
    #[error("no ANTEX entry for satellite {sat} valid at GPS week {week}")]
    SatelliteNotFound { sat: String, week: i64 },
    /// The only entry is open-ended and the time is long after the file was issued: the PRN may
    /// belong to another satellite by now.
    #[error(
        "ANTEX entry of {sat} ({svn}) is open-ended in a file of GPS week {file_week}, \
         {weeks} weeks before the data: the PRN may belong to another satellite by now"
    )]
    SatelliteOutdated {
        sat: String,
        svn: String,
        file_week: i64,
        weeks: i64,
    },
    /// The line of sight is zero or not finite.
    #[error("line of sight ({east}, {north}, {up}) is not a direction")]
    BadDirection { east: f64, north: f64, up: f64 },
    /// The antenna has no calibration usable for the signal.
    #[error("antenna {antenna} has no calibration for {wanted} nor a GPS one to fall back to")]
    NoFrequency { antenna: String, wanted: String },
}

/// An ANTEX frequency code, e.g. `G01`, `C07`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FreqCode {
    pub sys: Gnss,
    /// RINEX band digit (1, 2, 5, 6, 7, 8, 9).
    pub band: u8,
}

impl FreqCode {
    fn parse(s: &str) -> Option<FreqCode> {
        let b = s.as_bytes();
        if b.len() != 3 || !b[1].is_ascii_digit() || !b[2].is_ascii_digit() {
            return None;
        }
        let sys = Gnss::from_letter(b[0] as char)?;
        let band = (b[1] - b'0') * 10 + (b[2] - b'0');
        Some(FreqCode { sys, band })
    }

    /// Nominal carrier frequency (MHz): GLONASS FDMA bands at channel 0. Used only to choose the
    /// nearest calibration.
    pub fn nominal_mhz(self) -> Option<f64> {
        Some(match (self.sys, self.band) {
            (Gnss::Glonass, 1) => 1602.0,
            (Gnss::Glonass, 2) => 1246.0,
            (Gnss::Glonass, 3) => 1202.025,
            (Gnss::Glonass, 4) => 1600.995,
            (Gnss::Glonass, 6) => 1248.06,
            (Gnss::Beidou, 2) => 1561.098,
            (Gnss::Beidou, 6) => 1268.52,
            (Gnss::Navic, 9) => 2492.028,
            (Gnss::Glonass, _) => return None,
            (_, 1) => 1575.42,
            (_, 2) => 1227.60,
            (_, 5) => 1176.45,
            (_, 6) => 1278.75,
            (_, 7) => 1207.14,
            (_, 8) => 1191.795,
            _ => return None,
        })
    }
}

impl std::fmt::Display for FreqCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{:02}", self.sys.letter(), self.band)
    }
}

/// Which calibration served a signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreqUse {
    pub wanted: FreqCode,
    pub used: FreqCode,
}

impl FreqUse {
    /// The signal's own calibration was missing and another frequency's was used.
    pub fn is_fallback(&self) -> bool {
        self.wanted != self.used
    }
}

/// One frequency's calibration.
#[derive(Clone, Debug, PartialEq)]
pub struct FreqCal {
    pub code: FreqCode,
    /// Receiver: north, east, up; satellite: x, y, z in the body frame (m).
    pub pco: Vector3<f64>,
    /// Non-azimuth-dependent PCV by zenith/nadir angle (m).
    pub noazi: Vec<f64>,
    /// Azimuth-dependent PCV, one row per azimuth 0, DAZI, … 360 (m); empty when DAZI is 0.
    pub grid: Vec<Vec<f64>>,
}

/// One antenna entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Antenna {
    /// Antenna type: `ASH701945E_M`, `BLOCK IIR-M`, …
    pub kind: String,
    /// Radome code of a receiver antenna (`NONE` when blank); empty for satellites.
    pub radome: String,
    /// Satellite: its PRN code (`G01`); receiver: the serial number (empty for type means).
    pub serial: String,
    /// Satellite: the SVN code (`G049`).
    pub svn: String,
    /// GPS week the entry's file was issued (see [`Antex::file_week`]), kept per entry so that
    /// entries of merged files are judged by their own file's age.
    pub file_week: Option<i64>,
    pub valid_from: Option<Gpst>,
    pub valid_until: Option<Gpst>,
    /// Azimuth step (deg), 0 for no azimuth dependence.
    pub dazi: f64,
    /// Zenith or nadir grid: first, last, step (deg).
    pub zen: [f64; 3],
    pub freqs: Vec<FreqCal>,
}

/// The contents of an ANTEX file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Antex {
    pub receivers: Vec<Antenna>,
    pub satellites: Vec<Antenna>,
    /// GPS week the file was issued, from its SINEX CODE (`IGS05_1627`) or, failing that, the
    /// latest VALID FROM.
    pub file_week: Option<i64>,
    /// Structural faults that were worked around (an antenna not closed before the next one
    /// starts, a frequency count that does not match): each names its line, for the caller to
    /// log.
    pub warnings: Vec<String>,
}

/// A range correction for one signal along one line of sight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RangeCorrection {
    /// Metres to add to the modelled range (subtract from the observation).
    pub metres: f64,
    pub freq: FreqUse,
}

impl Antex {
    /// Parses ANTEX text (the caller reads and decompresses the file).
    pub fn parse(text: &str) -> Result<Antex, AntexError> {
        parse(text, &|_| true)
    }

    /// Parses ANTEX text keeping every satellite but only the receiver antennas named by the
    /// descriptors (`LEIAR25.R3      NONE`, as [`Antex::receiver_by_descriptor`] reads them):
    /// a daemon that needs two receivers' calibrations holds those, not the file's hundreds
    /// (megabytes of azimuth grids). The grids of the antennas left out are not read.
    pub fn parse_receivers(text: &str, descriptors: &[&str]) -> Result<Antex, AntexError> {
        let wanted: Vec<(&str, &str)> = descriptors
            .iter()
            .map(|d| match split_descriptor(d) {
                (k, "") => (k, "NONE"),
                kr => kr,
            })
            .collect();
        parse(text, &|a: &Antenna| {
            wanted.iter().any(|(k, r)| a.kind == *k && a.radome == *r)
        })
    }

    /// The type-mean calibration of a receiver antenna and radome (`NONE` for none, as an
    /// empty radome is written).
    pub fn receiver(&self, antenna: &str, radome: &str) -> Result<&Antenna, AntexError> {
        let radome = match radome.trim() {
            "" => "NONE",
            r => r,
        };
        let antenna = antenna.trim();
        let found = |serial_blank: bool| {
            self.receivers.iter().find(|a| {
                a.kind == antenna && a.radome == radome && a.serial.is_empty() == serial_blank
            })
        };
        found(true)
            .or_else(|| found(false))
            .ok_or_else(|| AntexError::ReceiverNotFound {
                antenna: antenna.to_string(),
                radome: radome.to_string(),
            })
    }

    /// A receiver antenna from a 20-character IGS descriptor as RTCM 1008/1033 and the RINEX
    /// header carry it: type in columns 1–16, radome in 17–20 (`ASH701945E_M    SCIS`);
    /// also accepts the two words separated by any spaces.
    pub fn receiver_by_descriptor(&self, descriptor: &str) -> Result<&Antenna, AntexError> {
        let (kind, radome) = split_descriptor(descriptor);
        self.receiver(kind, radome)
    }

    /// The satellite antenna of a PRN valid at `t`, refusing an open-ended entry more than
    /// [`SATELLITE_TRUST_WEEKS`] after the file's release.
    pub fn satellite(&self, sys: Gnss, prn: u8, t: Gpst) -> Result<&Antenna, AntexError> {
        let a = self.satellite_in_file(sys, prn, t)?;
        if a.valid_until.is_none()
            && let Some(file_week) = a.file_week.or(self.file_week)
        {
            let weeks = t.week() - file_week;
            if weeks > SATELLITE_TRUST_WEEKS {
                return Err(AntexError::SatelliteOutdated {
                    sat: a.serial.clone(),
                    svn: a.svn.clone(),
                    file_week,
                    weeks,
                });
            }
        }
        Ok(a)
    }

    /// Adds a further file: its receiver antennas after this file's (the first file that has an
    /// antenna serves it), its satellites beside them (by validity, then the newer file).
    pub fn merge(&mut self, other: Antex) {
        self.receivers.extend(other.receivers);
        self.satellites.extend(other.satellites);
        self.warnings.extend(other.warnings);
        self.file_week = self.file_week.max(other.file_week);
    }

    /// The satellite antenna of a space vehicle (`G063`, `E210`) by its SVN and the VALID
    /// FROM/UNTIL period: the identity that stays with the hardware when PRNs are reassigned,
    /// for a caller that knows the SVN (satellite metadata, a newer ANTEX's PRN table).
    pub fn satellite_by_svn(&self, svn: &str, t: Gpst) -> Result<&Antenna, AntexError> {
        let svn = svn.trim();
        self.satellites
            .iter()
            .find(|a| a.svn.eq_ignore_ascii_case(svn) && a.valid_at(t))
            .ok_or_else(|| AntexError::SatelliteNotFound {
                sat: svn.to_string(),
                week: t.week(),
            })
    }

    /// The satellite antenna of a PRN valid at `t` by the file's VALID FROM/UNTIL alone, however
    /// old the file (RTKLIB's rule); of merged files, the newest file's entry.
    pub fn satellite_in_file(&self, sys: Gnss, prn: u8, t: Gpst) -> Result<&Antenna, AntexError> {
        let sat = super::sat_name(sys, prn);
        self.satellites
            .iter()
            .filter(|a| a.serial == sat && a.valid_at(t))
            .fold(None, |best: Option<&Antenna>, a| match best {
                Some(b) if b.file_week >= a.file_week => Some(b),
                _ => Some(a),
            })
            .ok_or(AntexError::SatelliteNotFound {
                sat,
                week: t.week(),
            })
    }
}

impl Antenna {
    fn valid_at(&self, t: Gpst) -> bool {
        self.valid_from.is_none_or(|f| t >= f) && self.valid_until.is_none_or(|u| t <= u)
    }

    /// The calibration serving band `band` of `sys`, by the fallback rule of the module
    /// documentation.
    pub fn frequency(&self, sys: Gnss, band: u8) -> Result<(&FreqCal, FreqUse), AntexError> {
        let wanted = FreqCode { sys, band };
        let no = || AntexError::NoFrequency {
            antenna: self.kind.clone(),
            wanted: wanted.to_string(),
        };
        if let Some(f) = self.freqs.iter().find(|f| f.code == wanted) {
            return Ok((
                f,
                FreqUse {
                    wanted,
                    used: wanted,
                },
            ));
        }
        let mhz = wanted.nominal_mhz().ok_or_else(no)?;
        let nearest = |s: Gnss| {
            self.freqs
                .iter()
                .filter(|f| f.code.sys == s)
                .filter_map(|f| f.code.nominal_mhz().map(|m| (f, (m - mhz).abs())))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(f, _)| f)
        };
        let f = nearest(sys).or_else(|| nearest(Gnss::Gps)).ok_or_else(no)?;
        Ok((
            f,
            FreqUse {
                wanted,
                used: f.code,
            },
        ))
    }

    /// The receiver PCO as an east/north/up vector (m) from the ARP to the phase centre.
    pub fn receiver_pco_enu(
        &self,
        sys: Gnss,
        band: u8,
    ) -> Result<(Vector3<f64>, FreqUse), AntexError> {
        let (f, used) = self.frequency(sys, band)?;
        Ok((Vector3::new(f.pco.y, f.pco.x, f.pco.z), used))
    }

    /// Satellite PCO in ECEF (m, from the centre of mass to the phase centre) under nominal
    /// yaw steering: body z towards the Earth's centre, y along the solar panel axis
    /// (perpendicular to the Sun and the Earth), x completing the frame on the Sun's side.
    /// `None` for the attitude when the Sun, satellite and Earth are aligned (the yaw is then
    /// undefined: noon and midnight turns of eclipsing satellites).
    pub fn satellite_pco_ecef(
        &self,
        sys: Gnss,
        band: u8,
        sat: &Vector3<f64>,
        sun: &Vector3<f64>,
    ) -> Result<Option<(Vector3<f64>, FreqUse)>, AntexError> {
        let (f, used) = self.frequency(sys, band)?;
        Ok(yaw_steering_axes(sat, sun)
            .map(|[ex, ey, ez]| (ex * f.pco.x + ey * f.pco.y + ez * f.pco.z, used)))
    }

    /// Satellite PCV (m) at a nadir angle (rad), from the non-azimuth-dependent values.
    pub fn satellite_pcv(
        &self,
        sys: Gnss,
        band: u8,
        nadir: f64,
    ) -> Result<RangeCorrection, AntexError> {
        let (f, used) = self.frequency(sys, band)?;
        Ok(RangeCorrection {
            metres: interp_row(&f.noazi, self.zen, nadir.to_degrees()),
            freq: used,
        })
    }

    /// PCV at a zenith angle and azimuth (deg): bilinear in the azimuth grid when there is one.
    fn pcv(&self, f: &FreqCal, zenith: f64, azimuth: f64) -> f64 {
        if self.dazi > 0.0 && f.grid.len() >= 2 {
            let pos = azimuth / self.dazi;
            let i = (pos.floor() as usize).min(f.grid.len() - 2);
            let w = (pos - i as f64).clamp(0.0, 1.0);
            let a = interp_row(&f.grid[i], self.zen, zenith);
            let b = interp_row(&f.grid[i + 1], self.zen, zenith);
            a * (1.0 - w) + b * w
        } else {
            interp_row(&f.noazi, self.zen, zenith)
        }
    }
}

/// Body axes (unit vectors in ECEF) of a yaw-steering satellite at `sat` with the Sun at `sun`.
pub fn yaw_steering_axes(sat: &Vector3<f64>, sun: &Vector3<f64>) -> Option<[Vector3<f64>; 3]> {
    let ez = -sat.try_normalize(1e-3)?;
    let es = (sun - sat).try_normalize(1e-3)?;
    let ey = ez.cross(&es).try_normalize(1e-9)?;
    let ex = ey.cross(&ez);
    Some([ex, ey, ez])
}

/// Nadir angle (rad) at the satellite of the line to the receiver.
pub fn nadir_angle(sat: &Vector3<f64>, rcv: &Vector3<f64>) -> f64 {
    let to_earth = -sat.normalize();
    let to_rcv = (rcv - sat).normalize();
    to_earth.dot(&to_rcv).clamp(-1.0, 1.0).acos()
}

/// Linear interpolation in a row of values at `zen[0], zen[0] + zen[2], …`, clamped at the ends.
fn interp_row(row: &[f64], zen: [f64; 3], angle: f64) -> f64 {
    match row {
        [] => 0.0,
        [only] => *only,
        _ => {
            let pos = ((angle - zen[0]) / zen[2]).clamp(0.0, (row.len() - 1) as f64);
            let i = (pos.floor() as usize).min(row.len() - 2);
            let w = pos - i as f64;
            row[i] * (1.0 - w) + row[i + 1] * w
        }
    }
}

/// Antenna type and radome of an IGS descriptor.
fn split_descriptor(d: &str) -> (&str, &str) {
    if d.len() == 20 && d.is_char_boundary(16) && !d[..16].trim().contains(' ') {
        return (d[..16].trim(), d[16..].trim());
    }
    let mut words = d.split_whitespace();
    (words.next().unwrap_or(""), words.next().unwrap_or(""))
}

fn parse(text: &str, keep: &dyn Fn(&Antenna) -> bool) -> Result<Antex, AntexError> {
    let mut lines = super::lines::lines(text).enumerate();
    match lines.next() {
        Some((_, l)) if label(l) == Some("ANTEX VERSION / SYST") => {}
        _ => return Err(AntexError::NotAntex),
    }
    let mut out = Antex::default();
    let mut ant: Option<Antenna> = None;
    let mut freq: Option<FreqCal> = None;
    let mut in_rms = false;
    let mut file_week = None;
    // The declared number of frequencies and its line.
    let mut declared: Option<(usize, usize)> = None;
    // Inside a receiver antenna `keep` turned down: only its end and the file's SINEX week
    // are read, not its grids.
    let mut passing = false;
    for (i, line) in lines {
        let no = i + 1;
        let err = |what: String| AntexError::Line { line: no, what };
        if passing {
            match label(line) {
                Some("END OF ANTENNA") => {
                    (passing, ant, freq, declared) = (false, None, None, None);
                    continue;
                }
                Some("START OF ANTENNA") => (passing, ant, freq) = (false, None, None),
                Some("SINEX CODE") => {}
                _ => continue,
            }
        }
        match label(line) {
            Some("START OF ANTENNA") => {
                if let Some(open) = ant.take() {
                    out.warnings.push(format!(
                        "line {no}: {} {} not closed by END OF ANTENNA",
                        open.kind, open.serial
                    ));
                    if freq.take().is_some() {
                        out.warnings
                            .push(format!("line {no}: unfinished frequency dropped"));
                    }
                    out.push(open, &mut declared, keep);
                }
                declared = None;
                ant = Some(Antenna {
                    kind: String::new(),
                    radome: String::new(),
                    serial: String::new(),
                    svn: String::new(),
                    file_week: None,
                    valid_from: None,
                    valid_until: None,
                    dazi: 0.0,
                    zen: [0.0, 90.0, 5.0],
                    freqs: Vec::new(),
                });
            }
            Some("END OF ANTENNA") => {
                let a = ant
                    .take()
                    .ok_or_else(|| err("END OF ANTENNA without START".into()))?;
                if freq.take().is_some() {
                    out.warnings
                        .push(format!("line {no}: unfinished frequency dropped"));
                }
                out.push(a, &mut declared, keep);
            }
            Some("# OF FREQUENCIES") => {
                declared = Some((numbers(line, 1).map_err(err)?[0] as usize, no));
            }
            Some("TYPE / SERIAL NO") => {
                let a = ant
                    .as_mut()
                    .ok_or_else(|| err("TYPE outside an antenna".into()))?;
                let col = |r: std::ops::Range<usize>| line.get(r).unwrap_or("").trim().to_string();
                a.kind = col(0..16);
                a.radome = col(16..20);
                a.serial = col(20..40);
                a.svn = col(40..50);
                if !is_satellite(a) && a.radome.is_empty() {
                    a.radome = "NONE".into();
                }
                if is_satellite(a) {
                    a.kind = col(0..20);
                    a.radome.clear();
                } else if !keep(a) {
                    passing = true;
                }
            }
            Some("DAZI") => {
                let a = ant
                    .as_mut()
                    .ok_or_else(|| err("DAZI outside an antenna".into()))?;
                a.dazi = numbers(line, 1).map_err(err)?[0];
                if a.dazi < 0.0 || (a.dazi > 0.0 && 360.0 % a.dazi != 0.0) {
                    return Err(err(format!("DAZI {} does not divide 360°", a.dazi)));
                }
            }
            Some("ZEN1 / ZEN2 / DZEN") => {
                let a = ant
                    .as_mut()
                    .ok_or_else(|| err("ZEN outside an antenna".into()))?;
                let z = numbers(line, 3).map_err(err)?;
                if z[2].is_nan() || z[2] <= 0.0 || z[1] < z[0] {
                    return Err(err(format!("zenith grid {} {} {}", z[0], z[1], z[2])));
                }
                a.zen = [z[0], z[1], z[2]];
            }
            Some("VALID FROM") | Some("VALID UNTIL") => {
                let a = ant
                    .as_mut()
                    .ok_or_else(|| err("VALID outside an antenna".into()))?;
                let t = calendar(line).map_err(err)?;
                if label(line) == Some("VALID FROM") {
                    a.valid_from = Some(t);
                } else {
                    a.valid_until = Some(t);
                }
            }
            Some("SINEX CODE") => {
                let code = line.get(..10).unwrap_or("").trim();
                if let Some(w) = code.rsplit('_').next().and_then(|w| w.parse::<i64>().ok())
                    && code.contains('_')
                {
                    file_week = Some(file_week.map_or(w, |f: i64| f.max(w)));
                }
            }
            Some("START OF FREQUENCY") => {
                let c = line.get(3..6).unwrap_or("");
                let code =
                    FreqCode::parse(c).ok_or_else(|| err(format!("frequency code {c:?}")))?;
                freq = Some(FreqCal {
                    code,
                    pco: Vector3::zeros(),
                    noazi: Vec::new(),
                    grid: Vec::new(),
                });
            }
            Some("NORTH / EAST / UP") => {
                let f = freq
                    .as_mut()
                    .ok_or_else(|| err("PCO outside a frequency".into()))?;
                let v = numbers(line, 3).map_err(err)?;
                f.pco = Vector3::new(v[0], v[1], v[2]) * 1e-3;
            }
            Some("END OF FREQUENCY") => {
                let f = freq
                    .take()
                    .ok_or_else(|| err("END OF FREQUENCY without START".into()))?;
                let a = ant
                    .as_mut()
                    .ok_or_else(|| err("frequency outside an antenna".into()))?;
                check_grid(a, &f).map_err(err)?;
                a.freqs.push(f);
            }
            Some("START OF FREQ RMS") => in_rms = true,
            Some("END OF FREQ RMS") => in_rms = false,
            Some(_) => {}
            None if in_rms || line.trim().is_empty() => {}
            None => {
                // A PCV row: `NOAZI` or an azimuth, then values in mm.
                let (Some(a), Some(f)) = (ant.as_ref(), freq.as_mut()) else {
                    continue;
                };
                let mut words = line.split_whitespace();
                let first = words.next().unwrap_or("");
                let values: Vec<f64> = words
                    .map(|w| w.parse::<f64>().map(|v| v * 1e-3))
                    .collect::<Result<_, _>>()
                    .map_err(|_| err("PCV value is not a number".into()))?;
                let expect = grid_len(a.zen);
                if values.len() != expect {
                    return Err(err(format!(
                        "{} PCV values, {expect} expected",
                        values.len()
                    )));
                }
                if first == "NOAZI" {
                    f.noazi = values;
                } else {
                    let az: f64 = first
                        .parse()
                        .map_err(|_| err(format!("azimuth {first:?}")))?;
                    let want = f.grid.len() as f64 * a.dazi;
                    if a.dazi <= 0.0 || (az - want).abs() > 1e-6 {
                        return Err(err(format!("azimuth row {az}, {want} expected")));
                    }
                    f.grid.push(values);
                }
            }
        }
    }
    if let Some(open) = ant.take() {
        out.warnings.push(format!(
            "line {}: file ends inside {} {}",
            text.lines().count(),
            open.kind,
            open.serial
        ));
        out.push(open, &mut declared, keep);
    }
    out.file_week = file_week.or_else(|| {
        out.satellites
            .iter()
            .filter_map(|a| a.valid_from.map(|t| t.week()))
            .max()
    });
    for a in &mut out.satellites {
        a.file_week = out.file_week;
    }
    Ok(out)
}

impl Antex {
    /// Files a finished antenna; one without any complete frequency is dropped with a warning.
    fn push(
        &mut self,
        a: Antenna,
        declared: &mut Option<(usize, usize)>,
        keep: &dyn Fn(&Antenna) -> bool,
    ) {
        if let Some((n, line)) = declared.take()
            && n != a.freqs.len()
        {
            self.warnings.push(format!(
                "line {line}: {} {} declares {n} frequencies, has {}",
                a.kind,
                a.serial,
                a.freqs.len()
            ));
        }
        if a.freqs.is_empty() {
            self.warnings.push(format!(
                "{} {} has no complete frequency: dropped",
                a.kind, a.serial
            ));
        } else if is_satellite(&a) {
            self.satellites.push(a);
        } else if keep(&a) {
            self.receivers.push(a);
        }
    }
}

fn is_satellite(a: &Antenna) -> bool {
    let b = a.serial.as_bytes();
    b.len() == 3
        && Gnss::from_letter(b[0] as char).is_some()
        && b[1].is_ascii_digit()
        && b[2].is_ascii_digit()
        && a.radome.is_empty()
}

fn grid_len(zen: [f64; 3]) -> usize {
    ((zen[1] - zen[0]) / zen[2]).round() as usize + 1
}

/// A frequency block must have its NOAZI row and, with DAZI, every azimuth row.
fn check_grid(a: &Antenna, f: &FreqCal) -> Result<(), String> {
    if f.noazi.is_empty() {
        return Err(format!("{} of {} has no NOAZI row", f.code, a.kind));
    }
    if a.dazi > 0.0 {
        let rows = (360.0 / a.dazi).round() as usize + 1;
        if f.grid.len() != rows {
            return Err(format!(
                "{} of {} has {} azimuth rows, {rows} expected",
                f.code,
                a.kind,
                f.grid.len()
            ));
        }
    }
    Ok(())
}

/// The label in columns 61–80.
fn label(line: &str) -> Option<&str> {
    let l = line.get(60..)?.trim_end();
    const LABELS: &[&str] = &[
        "ANTEX VERSION / SYST",
        "PCV TYPE / REFANT",
        "COMMENT",
        "END OF HEADER",
        "START OF ANTENNA",
        "TYPE / SERIAL NO",
        "METH / BY / # / DATE",
        "DAZI",
        "ZEN1 / ZEN2 / DZEN",
        "# OF FREQUENCIES",
        "VALID FROM",
        "VALID UNTIL",
        "SINEX CODE",
        "START OF FREQUENCY",
        "NORTH / EAST / UP",
        "END OF FREQUENCY",
        "START OF FREQ RMS",
        "END OF FREQ RMS",
        "END OF ANTENNA",
    ];
    LABELS.iter().find(|&&x| x == l).copied()
}

/// The first `n` numbers of columns 1–60.
fn numbers(line: &str, n: usize) -> Result<Vec<f64>, String> {
    let v: Vec<f64> = line
        .get(..60)
        .unwrap_or(line)
        .split_whitespace()
        .take(n)
        .map(|w| {
            w.parse::<f64>()
                .map_err(|_| format!("{w:?} is not a number"))
        })
        .collect::<Result<_, _>>()?;
    if v.len() < n || v.iter().any(|x| !x.is_finite()) {
        return Err(format!("{n} numbers expected"));
    }
    Ok(v)
}

/// `year month day hour minute second` (GPST) of a VALID FROM/UNTIL line.
fn calendar(line: &str) -> Result<Gpst, String> {
    let v = numbers(line, 6)?;
    let date = chrono::NaiveDate::from_ymd_opt(v[0] as i32, v[1] as u32, v[2] as u32)
        .ok_or_else(|| format!("date {} {} {}", v[0], v[1], v[2]))?;
    let gps0 = chrono::NaiveDate::from_ymd_opt(1980, 1, 6).unwrap_or_default();
    let days = (date - gps0).num_days();
    let secs = v[3] * 3600.0 + v[4] * 60.0 + v[5];
    let whole = secs.floor();
    let t = Gpst::new(days * SECONDS_PER_DAY + whole as i64, secs - whole);
    debug_assert!(t.week() * SECONDS_PER_WEEK <= t.secs());
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str =
        "     1.4            M                                       ANTEX VERSION / SYST
                                                            END OF HEADER
                                                            START OF ANTENNA
TEST_ANT        NONE                                        TYPE / SERIAL NO
     0.0                                                    DAZI
     0.0  10.0   5.0                                        ZEN1 / ZEN2 / DZEN
     1                                                      # OF FREQUENCIES
   G01                                                      START OF FREQUENCY
      1.00      2.00    100.00                              NORTH / EAST / UP
   NOAZI    0.00   -2.00   -4.00
   G01                                                      END OF FREQUENCY
                                                            END OF ANTENNA
";

    #[test]
    fn minimal_file_and_fallbacks() {
        let atx = Antex::parse(MINI).unwrap();
        let a = atx.receiver("TEST_ANT", "").unwrap();
        // Straight up: −U + PCV(0).
        let c = a.receiver_correction(Gnss::Gps, 1, &Vector3::z()).unwrap();
        assert!((c.metres + 0.1).abs() < 1e-12);
        assert!(!c.freq.is_fallback());
        // BeiDou B1I falls back to G01 and says so.
        let c = a
            .receiver_correction(Gnss::Beidou, 2, &Vector3::z())
            .unwrap();
        assert!(c.freq.is_fallback());
        assert_eq!(c.freq.used.to_string(), "G01");
        // Zenith 7.5° (between the 5° and 10° values), towards the east.
        let z = 7.5f64.to_radians();
        let e = Vector3::new(z.sin(), 0.0, z.cos());
        let c = a.receiver_correction(Gnss::Gps, 1, &e).unwrap();
        let want = -(0.002 * z.sin() + 0.1 * z.cos()) - 0.003;
        assert!((c.metres - want).abs() < 1e-12, "{} {want}", c.metres);
        assert!(matches!(
            a.receiver_correction(Gnss::Gps, 1, &Vector3::zeros()),
            Err(AntexError::BadDirection { .. })
        ));
        // Beyond the grid: the edge value.
        let c = a
            .receiver_correction(Gnss::Gps, 1, &Vector3::new(1.0, 0.0, 0.0))
            .unwrap();
        assert!((c.metres + 0.002 + 0.004).abs() < 1e-12);
    }

    #[test]
    fn only_the_named_receivers_are_kept() {
        let all = Antex::parse(MINI).unwrap();
        let named = Antex::parse_receivers(MINI, &["TEST_ANT        NONE"]).unwrap();
        assert_eq!(named, all);
        let none = Antex::parse_receivers(MINI, &["OTHER_ANT       NONE"]).unwrap();
        assert!(none.receivers.is_empty());
        assert_eq!(none.satellites, all.satellites);
        assert!(
            Antex::parse_receivers(MINI, &["TEST_ANT"])
                .unwrap()
                .receiver("TEST_ANT", "")
                .is_ok()
        );
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(Antex::parse("hello"), Err(AntexError::NotAntex));
        let atx = Antex::parse(MINI).unwrap();
        assert!(matches!(
            atx.receiver("NOPE", "NONE"),
            Err(AntexError::ReceiverNotFound { .. })
        ));
        let t = Gpst::from_week_tow(2000, 0.0);
        assert!(matches!(
            atx.satellite(Gnss::Gps, 1, t),
            Err(AntexError::SatelliteNotFound { .. })
        ));
        // Cut inside the frequency block: nothing complete, said so, nothing invented.
        let truncated: String = MINI.lines().take(10).collect::<Vec<_>>().join("\n");
        let t = Antex::parse(&truncated).unwrap();
        assert!(t.receivers.is_empty());
        assert!(
            t.warnings
                .iter()
                .any(|w| w.contains("no complete frequency")),
            "{:?}",
            t.warnings
        );
        let bad = MINI.replace(
            "   NOAZI    0.00   -2.00   -4.00",
            "   NOAZI    0.00   -2.00",
        );
        assert!(matches!(
            Antex::parse(&bad),
            Err(AntexError::Line { line: 10, .. })
        ));
        let bad = MINI.replace("-4.00", "-4.x0");
        assert!(Antex::parse(&bad).is_err());
    }

    #[test]
    fn descriptor_split() {
        assert_eq!(
            split_descriptor("ASH701945E_M    SCIS"),
            ("ASH701945E_M", "SCIS")
        );
        assert_eq!(split_descriptor("LEIAR25.R3 NONE"), ("LEIAR25.R3", "NONE"));
        assert_eq!(split_descriptor("TRM59800.00"), ("TRM59800.00", ""));
    }

    #[test]
    fn yaw_steering_frame() {
        // Satellite on +x, Sun far along +y: z to the Earth (−x), y = z × sun = −x × y = −z,
        // x = y × z = −z × −x = +y, towards the Sun.
        let sat = Vector3::new(26_000e3, 0.0, 0.0);
        let sun = Vector3::new(0.0, 1.5e11, 0.0);
        let [ex, ey, ez] = yaw_steering_axes(&sat, &sun).unwrap();
        assert!((ez - Vector3::new(-1.0, 0.0, 0.0)).norm() < 1e-9);
        assert!((ey - Vector3::new(0.0, 0.0, -1.0)).norm() < 1e-6);
        assert!((ex - Vector3::new(0.0, 1.0, 0.0)).norm() < 1e-6);
        // Sun behind the Earth, aligned: yaw undefined.
        assert!(yaw_steering_axes(&sat, &Vector3::new(-1.5e11, 0.0, 0.0)).is_none());
        assert!((nadir_angle(&sat, &Vector3::zeros())).abs() < 1e-12);
    }
}
