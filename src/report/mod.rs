//! The station QC report (`corsd report`): one self-contained HTML file with SVG plots of a log
//! or a day — position offsets, sky per GNSS, C/N0 against elevation, satellites and DOP, cycle
//! slips, multipath, completeness and gaps, reflector heights (GNSS-IR) — the content of teqc's and BNC's QC summaries,
//! plotted for people who would rather look than read. No script and no outside asset: it opens
//! offline, from a USB stick in the field office too.
//!
//! A [`Collector`] takes the epochs and solutions as the pipeline hands them out and keeps only
//! what the plots need (sampled, binned), so a day at 1 Hz stays a few megabytes in memory and
//! under a megabyte on disk.

mod html;
pub mod plots;
mod reflection;

use std::collections::BTreeMap;

use nalgebra::Vector3;

use crate::gnss::Gnss;
use crate::gnss::corrections::Multipath;
use crate::gnss::geodesy::elevation_azimuth;
use crate::gnss::nav::{EphemerisStore, OrbitParams};
use crate::gnss::obs::{Epoch, SignalCode};
use crate::gnss::qc::Qc;
use crate::gnss::spp::Solution;
use crate::gnss::time::Gpst;

/// Why no report could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error("no epochs in the input: nothing to report")]
    NoEpochs,
    /// A chart could not be drawn.
    #[error("drawing a chart: {0}")]
    Plot(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl<E: std::error::Error + Send + Sync + 'static> From<plotters::drawing::DrawingAreaErrorKind<E>>
    for ReportError
{
    fn from(e: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        ReportError::Plot(Box::new(e))
    }
}

/// Sky and C/N0 samples are taken this often (s of data time).
const SKY_EVERY_S: i64 = 60;
const CN0_EVERY_S: i64 = 30;
/// Time series are drawn with at most this many points.
const MAX_POINTS: usize = 1500;

/// What the offsets are measured from.
#[derive(Clone, Debug)]
pub enum Reference {
    /// A known position and how it is known (surveyed, the stream's ARP, a RINEX header).
    Given(Vector3<f64>, String),
    /// None: the mean of the solutions (offsets then show scatter only).
    Mean,
}

#[derive(Clone, Copy, Debug)]
struct SolRow {
    t: Gpst,
    pos: Vector3<f64>,
    used: u32,
    pdop: f64,
}

/// Running collection of what the report plots.
pub struct Collector {
    title: String,
    pub qc: Qc,
    multipath: Multipath,
    mp: BTreeMap<(Gnss, SignalCode), (f64, u64)>,
    sols: Vec<SolRow>,
    tracked: Vec<(Gpst, u32)>,
    slips: Vec<(Gpst, Gnss)>,
    sky: BTreeMap<(Gnss, u8), Vec<(f64, f64)>>,
    /// C/N0 against elevation as 1° × 1 dB-Hz cells per system and band.
    cn0: BTreeMap<(Gnss, u8), std::collections::BTreeSet<(i32, i32)>>,
    beidou_class: BTreeMap<u8, &'static str>,
    sky_slot: Option<i64>,
    cn0_slot: Option<i64>,
    /// Where the antenna is, for elevations (the reference, else the latest solution).
    here: Option<Vector3<f64>>,
    pub inputs: Vec<String>,
    pub notes: Vec<String>,
    reflection: reflection::Reflection,
}

impl Collector {
    pub fn new(title: &str, position: Option<Vector3<f64>>) -> Self {
        Collector {
            title: title.to_string(),
            qc: Qc::new(),
            multipath: Multipath::new(),
            mp: BTreeMap::new(),
            sols: Vec::new(),
            tracked: Vec::new(),
            slips: Vec::new(),
            sky: BTreeMap::new(),
            cn0: BTreeMap::new(),
            beidou_class: BTreeMap::new(),
            sky_slot: None,
            cn0_slot: None,
            here: position,
            inputs: Vec::new(),
            notes: Vec::new(),
            reflection: reflection::Reflection::new(),
        }
    }

    /// Set the antenna position for elevations once it is known (from 1005/1006).
    pub fn know_position(&mut self, p: Vector3<f64>) {
        self.here.get_or_insert(p);
    }

    /// Take one epoch, with the ephemerides known at that time.
    pub fn epoch(&mut self, e: &Epoch, store: &EphemerisStore) {
        self.qc.add(e);
        self.tracked.push((e.time, e.sats.len() as u32));
        for s in &e.sats {
            for g in &s.signals {
                if g.slip && g.phase_cycles.is_some() {
                    self.slips.push((e.time, s.sys));
                    break;
                }
            }
        }
        for (sys, _, code, mp) in self.multipath.update(e) {
            let v = self.mp.entry((sys, code)).or_default();
            v.0 += mp * mp;
            v.1 += 1;
        }
        self.reflection.epoch(e, store, self.here);
        let Some(here) = self.here else {
            return;
        };
        let secs = e.time.secs();
        let sky_now = self.sky_slot != Some(secs.div_euclid(SKY_EVERY_S));
        let cn0_now = self.cn0_slot != Some(secs.div_euclid(CN0_EVERY_S));
        if !(sky_now || cn0_now) {
            return;
        }
        self.sky_slot = Some(secs.div_euclid(SKY_EVERY_S));
        self.cn0_slot = Some(secs.div_euclid(CN0_EVERY_S));
        for s in &e.sats {
            let prn = if s.sys == Gnss::Qzss && s.prn < 193 {
                s.prn.saturating_add(192)
            } else {
                s.prn
            };
            let Some(eph) = store.select(s.sys, prn, e.time) else {
                continue;
            };
            if s.sys == Gnss::Beidou && !self.beidou_class.contains_key(&s.prn) {
                self.beidou_class.insert(s.prn, beidou_class(eph));
            }
            let (p, _) = eph.position_clock(e.time.add(-0.075));
            let (el, az) = elevation_azimuth(&here, &p);
            let (el, az) = (el.to_degrees(), az.to_degrees());
            if el < 0.0 {
                continue;
            }
            if sky_now {
                self.sky.entry((s.sys, s.prn)).or_default().push((el, az));
            }
            if cn0_now {
                for g in &s.signals {
                    // RINEX writes a missing S value as 0 or blank: neither is a measurement.
                    if let Some(c) = g.cn0_dbhz.filter(|c| *c > 0.0) {
                        self.cn0
                            .entry((s.sys, g.code.band()))
                            .or_default()
                            .insert((el.round() as i32, c.round() as i32));
                    }
                }
            }
        }
    }

    /// The input is over: the reflector heights of the last span are analysed.
    pub fn finish(&mut self) {
        self.reflection.finish(self.here);
    }

    pub fn solutions(&self) -> usize {
        self.sols.len()
    }

    pub fn first_epoch(&self) -> Option<Gpst> {
        self.tracked.first().map(|t| t.0)
    }

    pub fn solution(&mut self, s: &Solution) {
        let pos = Vector3::from(s.position);
        self.sols.push(SolRow {
            t: s.time,
            pos,
            used: s.used.len() as u32,
            pdop: s.pdop,
        });
        if self.here.is_none() {
            self.here = Some(pos);
        }
    }
}

/// BeiDou orbit class from the broadcast elements: geosynchronous semi-major axis with a low
/// inclination is GEO, inclined IGSO; the rest MEO.
fn beidou_class(e: &crate::gnss::nav::Ephemeris) -> &'static str {
    match &e.orbit {
        OrbitParams::Kepler { elements, .. } => {
            let a = elements.sqrt_a * elements.sqrt_a;
            if a < 35.0e6 {
                "MEO"
            } else if elements.i0.to_degrees() < 20.0 {
                "GEO"
            } else {
                "IGSO"
            }
        }
        OrbitParams::Glonass { .. } => "MEO",
    }
}
