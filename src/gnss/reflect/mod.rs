//! GNSS interferometric reflectometry (GNSS-IR): the reflector height (the antenna's height
//! above the reflecting ground) from the interference of each satellite's direct signal with its
//! own ground reflection, seen in the C/N0 of low satellites.
//!
//! The method follows gnssrefl (Larson et al.) and its defaults, so the two agree arc by arc:
//! per satellite, elevations bent by refraction (Bennett); passes split at gaps over 10 min and
//! where the elevation turns; per signal, C/N0 from dB-Hz to linear volts/volts, a 4th-order
//! polynomial in elevation removed over 5–30° ([`arcs`]); inside the elevation window, a
//! Lomb–Scargle periodogram against sin(elevation)/(λ/2) on a 5 mm grid up to the top of the
//! RH window, the highest peak inside the window ([`lsp`]); quality control by elevation
//! coverage, arc length, amplitude and peak-to-noise ratio over the RH window.

pub mod arcs;
pub mod collect;
pub mod lsp;

use super::obs::SignalCode;
use super::{Gnss, median};

/// One sample of one satellite: time, geometry and the C/N0 of each of its reflection signals.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Seconds since the start of the analysed day (GPS time).
    pub t: f64,
    /// Elevation (degrees), geometric, before refraction.
    pub elev: f64,
    /// Azimuth (degrees, 0–360).
    pub azim: f64,
}

/// The C/N0 of one signal of one satellite over all its samples (`NaN` where not tracked).
#[derive(Clone, Debug, PartialEq)]
pub struct SignalTrack {
    pub signal: Signal,
    /// The observation code that gave the values (`1C`, `2L`, …).
    pub code: SignalCode,
    /// Half the carrier wavelength (m): the periodogram's scale.
    pub half_wavelength: f64,
    /// C/N0 (dB-Hz) per sample, parallel to [`Satellite::samples`].
    pub cn0: Vec<f64>,
}

/// Everything observed of one satellite over the analysed span.
#[derive(Clone, Debug, PartialEq)]
pub struct Satellite {
    pub sys: Gnss,
    pub prn: u8,
    /// In time order.
    pub samples: Vec<Sample>,
    pub signals: Vec<SignalTrack>,
}

/// A reflection signal: a system's band as GNSS-IR names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signal {
    pub sys: Gnss,
    pub band: u8,
}

impl Signal {
    /// The signal's usual name: `L1`, `L2C`, `L5`, `E1`, `E5a`, `B1I`, …
    pub fn name(self) -> &'static str {
        match (self.sys, self.band) {
            (Gnss::Gps | Gnss::Qzss, 1) => "L1",
            (Gnss::Gps | Gnss::Qzss, 2) => "L2C",
            (Gnss::Gps | Gnss::Qzss, 5) => "L5",
            (Gnss::Glonass, 1) => "L1",
            (Gnss::Glonass, 2) => "L2",
            (Gnss::Galileo, 1) => "E1",
            (Gnss::Galileo, 5) => "E5a",
            (Gnss::Galileo, 6) => "E6",
            (Gnss::Galileo, 7) => "E5b",
            (Gnss::Galileo, 8) => "E5",
            (Gnss::Beidou, 1) => "B1C",
            (Gnss::Beidou, 2) => "B1I",
            (Gnss::Beidou, 5) => "B2a",
            (Gnss::Beidou, 6) => "B3I",
            (Gnss::Beidou, 7) => "B2I",
            (Gnss::Beidou, 8) => "B2ab",
            _ => "?",
        }
    }

    /// `G L1`, `C B1I`: the system letter and the signal name.
    pub fn label(self) -> String {
        format!("{} {}", self.sys.letter(), self.name())
    }

    /// The reflection signal an observation code belongs to, with its rank (0 first): per
    /// band, the tracking modes gnssrefl prefers, so both read the same C/N0. GPS L2 is the
    /// civil L2C only (L2 P(Y) is semi-codeless and its C/N0 follows L1).
    pub fn of_code(sys: Gnss, code: SignalCode) -> Option<(Signal, u8)> {
        let band = code.band();
        let attr = code.0[1];
        let rank = |list: &[u8]| list.iter().position(|&a| a == attr).map(|r| r as u8);
        let r = match (sys, band) {
            (Gnss::Gps | Gnss::Qzss, 1) => rank(b"CX"),
            (Gnss::Gps | Gnss::Qzss, 2) => rank(b"XLS"),
            (Gnss::Gps | Gnss::Qzss, 5) => rank(b"IQX"),
            (Gnss::Glonass, 1 | 2) => rank(b"PC"),
            (Gnss::Galileo, 1 | 5 | 6 | 7 | 8) => Some(attr.saturating_sub(b'A')),
            (Gnss::Beidou, 2 | 6 | 7) => rank(b"CIX"),
            (Gnss::Beidou, 1 | 5) => rank(b"XP"),
            (Gnss::Beidou, 8) => rank(b"X"),
            _ => None,
        }?;
        Some((Signal { sys, band }, r))
    }

    /// Every reflection signal of the systems, in a stable order.
    pub fn parse(name: &str) -> Vec<Signal> {
        let mut out = Vec::new();
        for sys in [
            Gnss::Gps,
            Gnss::Glonass,
            Gnss::Galileo,
            Gnss::Beidou,
            Gnss::Qzss,
        ] {
            for band in 1..=8 {
                let s = Signal { sys, band };
                if s.name() != "?"
                    && (s.name().eq_ignore_ascii_case(name) || s.label().eq_ignore_ascii_case(name))
                {
                    out.push(s);
                }
            }
        }
        out
    }
}

/// The GLONASS frequency channel of each slot (1–28), for files whose header does not list
/// them: the constellation's published assignment.
pub fn glonass_channel(slot: u8) -> Option<i8> {
    const CH: [i8; 28] = [
        1, -4, 5, 6, 1, -4, 5, 6, -2, -7, 0, -1, -2, -7, 0, -1, 4, -3, 3, 2, 4, -3, 3, 2, 3, -6,
        -5, 7,
    ];
    CH.get(usize::from(slot).checked_sub(1)?).copied()
}

/// BeiDou geostationary satellites, left out as gnssrefl leaves them: their elevation hardly
/// changes, so they draw no interference pattern.
pub fn is_beidou_geo(prn: u8) -> bool {
    super::is_beidou_geo(prn)
}

/// What an analysis keeps and how it judges an arc.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Elevation window (degrees).
    pub elev: (f64, f64),
    /// Reflector height window (m).
    pub rh: (f64, f64),
    /// Elevations the direct-signal polynomial is fitted over (degrees).
    pub poly_elev: (f64, f64),
    pub poly_order: usize,
    /// Periodogram grid spacing (m).
    pub precision: f64,
    /// Smallest accepted periodogram peak (volts/volts).
    pub min_amp: f64,
    /// Smallest accepted ratio of the peak to the mean periodogram over the noise band.
    pub min_pk2noise: f64,
    /// The noise band (m).
    pub noise_band: (f64, f64),
    /// How far an arc may stop short of the window's edges (degrees).
    pub ediff: f64,
    /// Longest arc (minutes).
    pub max_arc_min: f64,
    /// Azimuth windows (degrees): an arc counts when its azimuth at its lowest point is in one.
    pub azim: Vec<(f64, f64)>,
    /// Refraction: pressure (hPa) and temperature (°C) at the antenna; `None` leaves the
    /// elevations geometric.
    pub refraction: Option<(f64, f64)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings::new((5.0, 25.0), (0.5, 8.0))
    }
}

impl Settings {
    /// gnssrefl's defaults for an elevation and RH window: the noise band is the RH window,
    /// the polynomial spans 5–30° widened to the window.
    pub fn new(elev: (f64, f64), rh: (f64, f64)) -> Settings {
        Settings {
            elev,
            rh,
            poly_elev: (elev.0.min(5.0), elev.1.max(30.0)),
            poly_order: 4,
            precision: 0.005,
            min_amp: 5.0,
            min_pk2noise: 2.8,
            noise_band: rh,
            ediff: 2.0,
            max_arc_min: 75.0,
            azim: vec![(0.0, 360.0)],
            refraction: None,
        }
    }
}

/// Standard atmosphere at a height (m): pressure (hPa) and temperature (°C), for the
/// refraction correction.
pub fn standard_atmosphere(h: f64) -> (f64, f64) {
    let h = h.clamp(-500.0, 9000.0);
    (
        1013.25 * (1.0 - 2.2557e-5 * h).powf(5.2568),
        15.0 - 6.5e-3 * h,
    )
}

/// Bennett's refraction: the apparent elevation (degrees) of a geometric elevation.
pub fn refracted(elev: f64, pressure: f64, temp_c: f64) -> f64 {
    let arcmin = 510.0 / (9.0 / 5.0 * temp_c + 492.0) * pressure
        / 1010.16
        / (elev + 7.31 / (elev + 4.4)).to_radians().tan();
    elev + arcmin / 60.0
}

/// Why an arc was not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rejection {
    /// It does not reach within `ediff` of both ends of the elevation window.
    Coverage,
    /// Longer than the longest arc.
    Length,
    /// The peak sits at an edge of the RH window.
    Edge,
    Amplitude,
    PeakToNoise,
}

impl Rejection {
    pub fn name(self) -> &'static str {
        match self {
            Rejection::Coverage => "elevation coverage",
            Rejection::Length => "arc length",
            Rejection::Edge => "peak at the RH window's edge",
            Rejection::Amplitude => "amplitude",
            Rejection::PeakToNoise => "peak-to-noise",
        }
    }
}

/// One analysed arc.
#[derive(Clone, Debug, PartialEq)]
pub struct ArcResult {
    pub sys: Gnss,
    pub prn: u8,
    pub signal: Signal,
    pub code: SignalCode,
    /// Mean time of the samples in the window (s since the day's start, GPS time).
    pub t_mid: f64,
    /// Circular mean azimuth over the window (degrees).
    pub az: f64,
    /// Azimuth at the arc's lowest elevation (degrees): where gnssrefl files the arc.
    pub az_low: f64,
    pub rh: f64,
    pub amp: f64,
    pub pk2noise: f64,
    pub rising: bool,
    pub elev_min: f64,
    pub elev_max: f64,
    pub points: usize,
    /// Minutes.
    pub duration_min: f64,
    pub rejected: Option<Rejection>,
}

/// Analyse every satellite: all arcs tried, each with its verdict.
pub fn analyse(sats: &[Satellite], s: &Settings) -> Vec<ArcResult> {
    let mut out = Vec::new();
    let mut grid = lsp::Grid::default();
    for sat in sats {
        let elev: Vec<f64> = match s.refraction {
            Some((p, t)) => sat
                .samples
                .iter()
                .map(|x| refracted(x.elev, p, t))
                .collect(),
            None => sat.samples.iter().map(|x| x.elev).collect(),
        };
        for arc in arcs::extract(sat, &elev, s) {
            out.push(judge(sat, arc, s, &mut grid));
        }
    }
    out.sort_by(|a, b| a.t_mid.total_cmp(&b.t_mid));
    out
}

fn judge(sat: &Satellite, arc: arcs::Arc, s: &Settings, grid: &mut lsp::Grid) -> ArcResult {
    let peak = lsp::peak(&arc.x, &arc.y, arc.half_wavelength, s, grid);
    let elev_min = arc.x.iter().copied().fold(f64::INFINITY, f64::min);
    let elev_max = arc.x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let t0 = arc.t.first().copied().unwrap_or(0.0);
    let t1 = arc.t.last().copied().unwrap_or(0.0);
    let duration_min = (t1 - t0).abs() / 60.0;
    let rejected = if elev_min - s.elev.0 > s.ediff || elev_max - s.elev.1 < -s.ediff {
        Some(Rejection::Coverage)
    } else if duration_min >= s.max_arc_min {
        Some(Rejection::Length)
    } else if peak.amp == 0.0 || (peak.rh - s.rh.0).abs() < 0.1 || (peak.rh - s.rh.1).abs() < 0.1 {
        Some(Rejection::Edge)
    } else if peak.amp <= s.min_amp {
        Some(Rejection::Amplitude)
    } else if !(peak.noise > 0.0 && peak.amp / peak.noise > s.min_pk2noise) {
        Some(Rejection::PeakToNoise)
    } else {
        None
    };
    ArcResult {
        sys: sat.sys,
        prn: sat.prn,
        signal: arc.signal,
        code: arc.code,
        t_mid: arc.t.iter().sum::<f64>() / arc.t.len().max(1) as f64,
        az: arc.az_mean,
        az_low: arc.az_low,
        rh: peak.rh,
        amp: peak.amp,
        pk2noise: if peak.noise > 0.0 {
            peak.amp / peak.noise
        } else {
            0.0
        },
        rising: arc.rising,
        elev_min,
        elev_max,
        points: arc.x.len(),
        duration_min,
        rejected,
    }
}

/// The highest reflector height the arcs' sampling resolves (m): the median over arcs of the
/// Nyquist height of their mean spacing in sin(elevation)/(λ/2). `None` without arcs.
pub fn resolvable_rh(sats: &[Satellite], s: &Settings) -> Option<f64> {
    let mut nyq: Vec<f64> = Vec::new();
    for sat in sats {
        let elev: Vec<f64> = sat.samples.iter().map(|x| x.elev).collect();
        for arc in arcs::extract(sat, &elev, s) {
            let (lo, hi) = arc
                .x
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &e| {
                    (a.min(e), b.max(e))
                });
            let w = (hi.to_radians().sin() - lo.to_radians().sin()) / arc.half_wavelength;
            if w > 0.0 {
                nyq.push(arc.x.len() as f64 / (2.0 * w));
            }
        }
    }
    median(&mut nyq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bennett_bends_low_elevations_most() {
        let (p, t) = standard_atmosphere(0.0);
        let d5 = refracted(5.0, p, t) - 5.0;
        let d25 = refracted(25.0, p, t) - 25.0;
        assert!((0.14..0.18).contains(&d5), "{d5}");
        assert!(d25 < 0.04 && d25 > 0.0, "{d25}");
    }

    #[test]
    fn signal_codes() {
        let c = |s| SignalCode::new(s).unwrap();
        assert_eq!(
            Signal::of_code(Gnss::Gps, c("2L")).map(|x| x.0.name()),
            Some("L2C")
        );
        assert_eq!(Signal::of_code(Gnss::Gps, c("2W")), None);
        assert_eq!(
            Signal::of_code(Gnss::Beidou, c("2I")).map(|x| x.0.name()),
            Some("B1I")
        );
        assert_eq!(Signal::parse("e5a").len(), 1);
        assert_eq!(Signal::parse("L1").len(), 3);
        assert_eq!(glonass_channel(28), Some(7));
        assert_eq!(glonass_channel(0), None);
    }
}
