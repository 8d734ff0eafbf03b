//! Reflectometry on a stream: per epoch, only the C/N0 of each satellite and signal while the
//! satellite is near the elevation window, packed; once per span (by default the GNSS day,
//! closed when the data's time crosses midnight GPS time) the span is handed out whole, to be
//! analysed off the data path.
//!
//! What a span keeps: per satellite, its geometry every [`GEO_EVERY_S`] s (12 bytes; elevation
//! and azimuth in between are interpolated, off by under 0.001° over that step) and, per epoch
//! while it is within a degree of the fitted elevations, a time (4 bytes) and per signal a C/N0
//! (2 bytes, 0.01 dB-Hz). The only work per epoch beyond storing those values is one orbit
//! evaluation per satellite every [`GEO_EVERY_S`] s. A satellite no orbit places yet (its
//! ephemeris not received) has its epochs kept for up to [`WAIT_FOR_ORBIT_S`] s and placed when
//! the orbit comes.

use std::collections::BTreeMap;

use nalgebra::Vector3;

use super::{
    ArcResult, Sample, Satellite, Settings, Signal, SignalTrack, glonass_channel, is_beidou_geo,
    standard_atmosphere,
};
use crate::gnss::Gnss;
use crate::gnss::geodesy::{ecef_to_geodetic, elevation_azimuth};
use crate::gnss::nav::EphemerisStore;
use crate::gnss::obs::{Epoch, SignalCode};
use crate::gnss::orbit::{C, GPS_CONSTANTS, earth_rotation};
use crate::gnss::time::{Gpst, SECONDS_PER_DAY};

/// Seconds between geometry samples of a satellite.
pub const GEO_EVERY_S: i64 = 10;

/// How long a satellite's C/N0 waits for an orbit to place it. A stream sends a rising
/// satellite's ephemeris some minutes after its first observations (and a GLONASS set now and
/// then after the old one has expired); `corsd reflect` places those epochs with the orbits of
/// the whole recording, so the daemon keeps them until the orbit comes. Older waiting epochs
/// are dropped, which bounds what a satellite without any ephemeris costs.
pub const WAIT_FOR_ORBIT_S: u32 = 900;

/// What a stream's reflectometry analyses and when (`[reflection]`).
#[derive(Clone, Debug, PartialEq)]
pub struct ReflectionSettings {
    /// Elevation and RH windows, quality control (gnssrefl's defaults); its azimuth window is
    /// the first to the last sector boundary.
    pub analysis: Settings,
    /// Azimuth sector boundaries (degrees, increasing): one daily median per sector.
    pub sectors: Vec<f64>,
    /// Signals analysed; empty: all.
    pub signals: Vec<Signal>,
    /// Hours of the GPS day (0–23, increasing) at which a span closes and is analysed.
    pub hours: Vec<u8>,
    /// Correct the elevations for refraction (standard atmosphere at the antenna's height).
    pub refraction: bool,
}

impl Default for ReflectionSettings {
    fn default() -> Self {
        let mut analysis = Settings::default();
        analysis.azim = vec![(0.0, 360.0)];
        ReflectionSettings {
            analysis,
            sectors: vec![0.0, 90.0, 180.0, 270.0, 360.0],
            signals: Vec::new(),
            hours: vec![0],
            refraction: true,
        }
    }
}

impl ReflectionSettings {
    /// The span boundary at or before `t`, and the next one.
    fn span_of(&self, t: Gpst) -> (Gpst, Gpst) {
        let day = t.secs().div_euclid(SECONDS_PER_DAY) * SECONDS_PER_DAY;
        let mut hours: Vec<i64> = self.hours.iter().map(|&h| i64::from(h) * 3600).collect();
        if hours.is_empty() {
            hours.push(0);
        }
        let into = t.secs() - day;
        let start = hours.iter().rev().find(|&&h| h <= into).copied();
        let (start, next) = match start {
            Some(s) => {
                let next = hours
                    .iter()
                    .find(|&&h| h > s)
                    .map_or(day + SECONDS_PER_DAY + hours[0], |&h| day + h);
                (day + s, next)
            }
            // Before the day's first hour: the span opened at the previous day's last hour.
            None => (
                day - SECONDS_PER_DAY + hours[hours.len() - 1],
                day + hours[0],
            ),
        };
        (Gpst::new(start, 0.0), Gpst::new(next, 0.0))
    }

    /// The elevations whose C/N0 is kept: those the direct-signal polynomial is fitted over,
    /// and a degree more either side for the interpolation at the edges.
    fn kept_elevations(&self) -> (f64, f64) {
        let (lo, hi) = self.analysis.poly_elev;
        (lo - 1.0, hi + 1.0)
    }
}

/// One geometry sample: ms since the span's start, elevation and azimuth (degrees).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Geo {
    t_ms: u32,
    elev: f32,
    azim: f32,
}

/// One observation code's C/N0 (0.01 dB-Hz; 0 where not tracked), parallel to the times.
#[derive(Clone, Debug, PartialEq)]
struct Column {
    code: SignalCode,
    freq_hz: Option<f64>,
    cn0: Vec<u16>,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Track {
    geo: Vec<Geo>,
    /// The geometry slot last evaluated, and whether the satellite was then near the window.
    slot: Option<i64>,
    near: bool,
    t_ms: Vec<u32>,
    columns: Vec<Column>,
    /// Where in `t_ms` the epochs no orbit has placed yet begin.
    waiting: Option<usize>,
}

/// What the station keeps of the current span.
#[derive(Debug)]
pub struct Collector {
    set: std::sync::Arc<ReflectionSettings>,
    span: Option<(Gpst, Gpst)>,
    sats: BTreeMap<(Gnss, u8), Track>,
}

/// A closed span, ready to be analysed.
#[derive(Debug)]
pub struct Span {
    pub start: Gpst,
    pub end: Gpst,
    /// The antenna (ECEF, m), for the refraction correction.
    pub position: Option<Vector3<f64>>,
    set: std::sync::Arc<ReflectionSettings>,
    sats: BTreeMap<(Gnss, u8), Track>,
}

impl Collector {
    pub fn new(set: std::sync::Arc<ReflectionSettings>) -> Self {
        Collector {
            set,
            span: None,
            sats: BTreeMap::new(),
        }
    }

    /// Take one epoch; `position` is the antenna's (surveyed, or the latest solution). A span
    /// the epoch closes comes back.
    pub fn add(
        &mut self,
        e: &Epoch,
        store: &EphemerisStore,
        position: Option<Vector3<f64>>,
    ) -> Option<Span> {
        let mut closed = None;
        match self.span {
            Some((_, next)) if e.time.diff(next) >= 0.0 => {
                closed = self.close(position);
                self.span = Some(self.set.span_of(e.time));
            }
            // Time went back (a looped recording): what was kept belongs to another pass.
            Some((start, _)) if e.time.diff(start) < 0.0 => {
                self.sats.clear();
                self.span = Some(self.set.span_of(e.time));
            }
            Some(_) => {}
            None => self.span = Some(self.set.span_of(e.time)),
        }
        let (Some((start, _)), Some(here)) = (self.span, position) else {
            return closed;
        };
        let t_ms = (e.time.diff(start) * 1000.0).round() as u32;
        let slot = e.time.secs().div_euclid(GEO_EVERY_S);
        let (lo, hi) = self.set.kept_elevations();
        for s in &e.sats {
            if s.sys == Gnss::Beidou && is_beidou_geo(s.prn) {
                continue;
            }
            let wanted = |c: SignalCode| {
                Signal::of_code(s.sys, c).is_some_and(|(sig, _)| {
                    self.set.signals.is_empty() || self.set.signals.contains(&sig)
                })
            };
            if !s
                .signals
                .iter()
                .any(|o| o.cn0_dbhz.is_some() && wanted(o.code))
            {
                continue;
            }
            let track = self.sats.entry((s.sys, s.prn)).or_default();
            if track.slot != Some(slot) {
                track.slot = Some(slot);
                match geometry(store, s.sys, s.prn, e.time, &here) {
                    Some((el, az)) => {
                        if let Some(from) = track.waiting.take() {
                            track.place(from, (lo, hi), |t| {
                                geometry(
                                    store,
                                    s.sys,
                                    s.prn,
                                    start.add(f64::from(t) / 1000.0),
                                    &here,
                                )
                            });
                        }
                        // A margin of a geometry step's motion keeps the ends interpolable.
                        if el >= lo - 1.0 && el <= hi + 1.0 {
                            track.geo.push(Geo {
                                t_ms,
                                elev: el as f32,
                                azim: az as f32,
                            });
                        }
                        track.near = el >= lo && el <= hi;
                    }
                    None => {
                        let from = *track.waiting.get_or_insert(track.t_ms.len());
                        track.forget_waiting_before(
                            from,
                            t_ms.saturating_sub(WAIT_FOR_ORBIT_S * 1000),
                        );
                        track.near = true;
                    }
                }
            }
            if !track.near {
                continue;
            }
            let i = track.t_ms.len();
            track.t_ms.push(t_ms);
            for o in &s.signals {
                let Some(cn0) = o.cn0_dbhz else { continue };
                if !wanted(o.code) {
                    continue;
                }
                let k = match track.columns.iter().position(|c| c.code == o.code) {
                    Some(k) => k,
                    None => {
                        track.columns.push(Column {
                            code: o.code,
                            freq_hz: None,
                            cn0: Vec::new(),
                        });
                        track.columns.len() - 1
                    }
                };
                let col = &mut track.columns[k];
                col.freq_hz = col.freq_hz.or(o.freq_hz);
                col.cn0.resize(i, 0);
                col.cn0
                    .push((cn0 * 100.0).round().clamp(1.0, 65535.0) as u16);
            }
        }
        closed
    }

    /// The span so far, handed out (the end of a recording).
    pub fn finish(&mut self, position: Option<Vector3<f64>>) -> Option<Span> {
        let s = self.close(position);
        self.span = None;
        s
    }

    fn close(&mut self, position: Option<Vector3<f64>>) -> Option<Span> {
        let (start, end) = self.span?;
        let sats = std::mem::take(&mut self.sats);
        (!sats.is_empty()).then(|| Span {
            start,
            end,
            position,
            set: self.set.clone(),
            sats,
        })
    }

    /// Bytes the kept values take (vector capacities).
    pub fn bytes(&self) -> usize {
        self.sats.values().map(Track::bytes).sum()
    }

    /// Satellite epochs kept.
    pub fn samples(&self) -> usize {
        self.sats.values().map(|t| t.t_ms.len()).sum()
    }
}

impl Track {
    /// The waiting epochs from `from` on, now that an orbit has come: a geometry sample every
    /// [`GEO_EVERY_S`] s as for any epoch, and only the epochs near the fitted elevations
    /// `(lo, hi)` kept.
    fn place(&mut self, from: usize, (lo, hi): (f64, f64), at: impl Fn(u32) -> Option<(f64, f64)>) {
        let step = (GEO_EVERY_S * 1000) as u32;
        let mut slot = None;
        let mut near = false;
        let mut keep = Vec::new();
        for i in from..self.t_ms.len() {
            let t = self.t_ms[i];
            if slot != Some(t / step) {
                slot = Some(t / step);
                near = false;
                if let Some((el, az)) = at(t) {
                    if el >= lo - 1.0 && el <= hi + 1.0 {
                        self.geo.push(Geo {
                            t_ms: t,
                            elev: el as f32,
                            azim: az as f32,
                        });
                    }
                    near = el >= lo && el <= hi;
                }
            }
            if near {
                keep.push(i);
            }
        }
        self.keep_from(from, &keep);
    }

    /// Drop the waiting epochs (from `from` on) older than `t_ms`.
    fn forget_waiting_before(&mut self, from: usize, t_ms: u32) {
        // In steps of half the wait, so that epochs move seldom.
        let half = WAIT_FOR_ORBIT_S * 1000 / 2;
        if self.t_ms.get(from).is_none_or(|&t| t + half >= t_ms) {
            return;
        }
        let keep: Vec<usize> = (from..self.t_ms.len())
            .filter(|&i| self.t_ms[i] >= t_ms)
            .collect();
        self.keep_from(from, &keep);
    }

    /// Of the epochs from `from` on, keep those listed (increasing).
    fn keep_from(&mut self, from: usize, keep: &[usize]) {
        let times: Vec<u32> = keep.iter().map(|&i| self.t_ms[i]).collect();
        self.t_ms.truncate(from);
        self.t_ms.extend(times);
        for col in &mut self.columns {
            let values: Vec<u16> = keep
                .iter()
                .map(|&i| col.cn0.get(i).copied().unwrap_or(0))
                .collect();
            // A column may end early: the epochs after its end were not tracked.
            col.cn0.resize(from, 0);
            col.cn0.extend(values);
            while col.cn0.last() == Some(&0) {
                col.cn0.pop();
            }
        }
    }

    fn bytes(&self) -> usize {
        self.geo.capacity() * std::mem::size_of::<Geo>()
            + self.t_ms.capacity() * 4
            + self
                .columns
                .iter()
                .map(|c| c.cn0.capacity() * 2 + std::mem::size_of::<Column>())
                .sum::<usize>()
    }

    /// The satellite as the analysis reads it: geometry interpolated to each kept epoch (those
    /// more than two geometry steps from a geometry sample are left out), C/N0 per signal
    /// from the best-ranked code of its band.
    fn unpack(&self, sys: Gnss, prn: u8) -> Option<Satellite> {
        // Geometry samples come every epoch of a 30 s stream, every 10 s of a faster one; up to
        // two minutes apart a straight line is off by under 0.003°.
        let max_spacing = 120_000u32;
        let max_gap = (2 * GEO_EVERY_S * 1000) as u32;
        let mut samples = Vec::with_capacity(self.t_ms.len());
        let mut kept = Vec::with_capacity(self.t_ms.len());
        let mut j = 0;
        for (i, &t) in self.t_ms.iter().enumerate() {
            while j + 2 < self.geo.len() && self.geo[j + 1].t_ms <= t {
                j += 1;
            }
            let (Some(a), Some(b)) = (self.geo.get(j), self.geo.get(j + 1)) else {
                continue;
            };
            if b.t_ms <= a.t_ms
                || b.t_ms - a.t_ms > max_spacing
                || t + max_gap < a.t_ms
                || t > b.t_ms + max_gap
            {
                continue;
            }
            let f = (f64::from(t) - f64::from(a.t_ms)) / f64::from(b.t_ms - a.t_ms);
            let daz = (f64::from(b.azim) - f64::from(a.azim) + 540.0).rem_euclid(360.0) - 180.0;
            samples.push(Sample {
                t: f64::from(t) / 1000.0,
                elev: f64::from(a.elev) + f * (f64::from(b.elev) - f64::from(a.elev)),
                azim: (f64::from(a.azim) + f * daz).rem_euclid(360.0),
            });
            kept.push(i);
        }
        if samples.is_empty() {
            return None;
        }
        let mut best: BTreeMap<Signal, (u8, usize)> = BTreeMap::new();
        for (k, col) in self.columns.iter().enumerate() {
            if let Some((sig, rank)) = Signal::of_code(sys, col.code) {
                let e = best.entry(sig).or_insert((rank, k));
                if rank < e.0 {
                    *e = (rank, k);
                }
            }
        }
        let mut signals = Vec::new();
        for (sig, (_, k)) in best {
            let col = &self.columns[k];
            let freq = col.freq_hz.or_else(|| {
                crate::gnss::signal::carrier_hz(sys, col.code.0[0], glonass_channel(prn))
            });
            let Some(freq) = freq else { continue };
            let cn0 = kept
                .iter()
                .map(|&i| match col.cn0.get(i).copied().unwrap_or(0) {
                    0 => f64::NAN,
                    v => f64::from(v) / 100.0,
                })
                .collect();
            signals.push(SignalTrack {
                signal: sig,
                code: col.code,
                half_wavelength: C / freq / 2.0,
                cn0,
            });
        }
        (!signals.is_empty()).then_some(Satellite {
            sys,
            prn,
            samples,
            signals,
        })
    }
}

/// Elevation and azimuth (degrees) of a satellite from the broadcast orbits, at transmission.
fn geometry(
    store: &EphemerisStore,
    sys: Gnss,
    prn: u8,
    t: Gpst,
    here: &Vector3<f64>,
) -> Option<(f64, f64)> {
    let eph = store.select(sys, prn, t)?;
    let p0 = eph.position_clock(t.add(-0.075)).0;
    let tau = (p0 - here).norm() / C;
    let p = earth_rotation(
        &eph.position_clock(t.add(-tau)).0,
        GPS_CONSTANTS.omega_e,
        tau,
    );
    let (el, az) = elevation_azimuth(here, &p);
    Some((el.to_degrees(), az.to_degrees()))
}

impl Span {
    /// Bytes the span's values take.
    pub fn bytes(&self) -> usize {
        self.sats.values().map(Track::bytes).sum()
    }

    /// Satellite epochs kept.
    pub fn samples(&self) -> usize {
        self.sats.values().map(|t| t.t_ms.len()).sum()
    }

    /// Every arc of the span, judged (seconds counted from [`Span::start`]); one satellite is
    /// unpacked at a time.
    pub fn analyse(&self) -> Vec<ArcResult> {
        let mut set = self.set.analysis.clone();
        if let (true, Some(p)) = (self.set.refraction, self.position) {
            set.refraction = Some(standard_atmosphere(ecef_to_geodetic(&p).h));
        }
        let mut out = Vec::new();
        for (&(sys, prn), track) in &self.sats {
            if let Some(sat) = track.unpack(sys, prn) {
                out.extend(super::analyse(std::slice::from_ref(&sat), &set));
            }
        }
        out.sort_by(|a, b| a.t_mid.total_cmp(&b.t_mid));
        out
    }

    pub fn settings(&self) -> &ReflectionSettings {
        &self.set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Epochs every 30 s from 0; a column of two codes, the second tracked only on even epochs.
    fn waiting_track(n: u32) -> Track {
        let mut t = Track::default();
        t.t_ms = (0..n).map(|i| i * 30_000).collect();
        t.columns = vec![
            Column {
                code: SignalCode(*b"1C"),
                freq_hz: None,
                cn0: (0..n).map(|i| 4000 + i as u16).collect(),
            },
            Column {
                code: SignalCode(*b"5Q"),
                freq_hz: None,
                cn0: (0..n).map(|i| if i % 2 == 0 { 4500 } else { 0 }).collect(),
            },
        ];
        t.waiting = Some(0);
        t
    }

    #[test]
    fn epochs_wait_for_their_orbit() {
        // A rising satellite: 2° at the first epoch, 0.5° more each 30 s; the orbit comes
        // after 20 epochs. Epochs from 4° on are kept, with a geometry sample from 3° on.
        let mut t = waiting_track(20);
        t.place(0, (4.0, 31.0), |ms| {
            Some((2.0 + f64::from(ms) / 60_000.0, 90.0))
        });
        assert_eq!(t.t_ms.first(), Some(&120_000));
        assert_eq!(t.t_ms.len(), 16);
        assert_eq!(t.geo.first().map(|g| g.t_ms), Some(60_000));
        assert_eq!(t.geo.len(), 18);
        assert_eq!(t.columns[0].cn0.len(), 16);
        assert_eq!(t.columns[0].cn0[0], 4004);
        // The last epoch (19) was not tracked on the second code: the column ends early.
        assert_eq!(t.columns[1].cn0.len(), 15);
        assert_eq!(&t.columns[1].cn0[..3], &[4500, 0, 4500]);
        let sat = t.unpack(Gnss::Gps, 3).unwrap();
        assert_eq!(sat.samples.len(), 16);
        assert!((sat.samples[0].elev - 4.0).abs() < 1e-6);

        // No orbit for longer than the wait: the oldest waiting epochs go, in steps.
        let mut t = waiting_track(60);
        t.forget_waiting_before(0, 400_000);
        assert_eq!(t.t_ms.len(), 60, "within half a wait more: kept");
        t.forget_waiting_before(0, 1_500_000);
        assert_eq!(t.t_ms.first(), Some(&1_500_000));
        assert_eq!(t.columns[0].cn0.first(), Some(&4050));
        assert_eq!(t.columns[1].cn0.len(), 9);
    }

    #[test]
    fn spans_follow_the_hours() {
        let mut s = ReflectionSettings::default();
        let day = Gpst::new(100 * SECONDS_PER_DAY, 0.0);
        let (a, b) = s.span_of(day.add(5000.0));
        assert_eq!((a, b), (day, day.add(86400.0)));
        s.hours = vec![6, 18];
        let (a, b) = s.span_of(day.add(3600.0));
        assert_eq!((a, b), (day.add(-6.0 * 3600.0), day.add(6.0 * 3600.0)));
        let (a, b) = s.span_of(day.add(7.0 * 3600.0));
        assert_eq!((a, b), (day.add(6.0 * 3600.0), day.add(18.0 * 3600.0)));
        let (a, b) = s.span_of(day.add(19.0 * 3600.0));
        assert_eq!((a, b), (day.add(18.0 * 3600.0), day.add(30.0 * 3600.0)));
    }
}
