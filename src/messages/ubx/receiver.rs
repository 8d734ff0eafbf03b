//! One u-blox receiver's message stream as corsd's products: observation epochs from RXM-RAWX
//! (with cycle-slip flags, which need the previous epoch) and broadcast ephemerides from
//! RXM-SFRBX, every bad unit counted.
//!
//! Sans-IO: fed decoded messages, it returns what each one completed. Time comes from the data:
//! the RAWX epochs (GPS week and time of week), before the first of them a fully resolved
//! NAV-PVT; it resolves the GPS week modulo 1024 of LNAV and the GLONASS day.
//!
//! Slips: a signal's carrier lock is lost between two epochs when its lock time restarts (0,
//! or less than the previous value grown by the time between the epochs, up to the 64.5 s cap
//! of the field), or when the receiver changed whether it subtracted a half cycle.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Ubx;
use super::rawx::Rawx;
use crate::gnss::nav::Ephemeris;
use crate::gnss::obs::{Epoch, SignalCode};
use crate::gnss::time::Gpst;
use crate::gnss::{Gnss, SatMap};
use crate::messages::navmsg::{NavDecoder, NavRecord, NavStats};

/// The largest lock time RXM-RAWX reports (s).
const LOCK_CAP_S: f64 = 64.5;
/// Slack between two epochs' lock times: the lock field counts ms, epochs are rounded to ms.
const LOCK_SLACK_S: f64 = 0.002;

/// What one message completed.
#[derive(Clone, Debug, PartialEq)]
pub enum UbxEvent {
    /// An observation epoch.
    Epoch(Epoch),
    /// A complete, consistent broadcast ephemeris (boxed: it is several times an epoch's
    /// size).
    Ephemeris(Box<NavEphemeris>),
}

/// A broadcast ephemeris as the message gave it, with the engine's view when the time is known
/// well enough to give it (LNAV's week, the GLONASS day).
#[derive(Clone, Debug, PartialEq)]
pub struct NavEphemeris {
    pub record: NavRecord,
    pub ephemeris: Option<Ephemeris>,
}

/// Counters of what the receiver sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UbxStats {
    /// RAWX epochs turned into observation epochs.
    pub epochs: u64,
    /// RAWX epochs before the receiver knew the GPS week (a cold start): dropped.
    pub unresolved_time: u64,
    /// RAWX epochs with no measurement corsd uses.
    pub empty_epochs: u64,
    /// RAWX epochs not later than the previous one: dropped.
    pub stale_epochs: u64,
    /// RAWX measurements of signals or satellites corsd has no name for.
    pub unknown_signals: u64,
    /// SFRBX of signals corsd does not decode (SBAS, CNAV, F/NAV, B-CNAV).
    pub sfrbx_not_decoded: u64,
    /// Ephemerides completed before any time reference (no engine view).
    pub unreferenced_ephemerides: u64,
}

/// The previous epoch of a signal, for slip detection.
#[derive(Clone, Copy, Debug)]
struct LockState {
    lock_s: f64,
    at: Gpst,
    half_subtracted: bool,
}

/// One receiver's stream state.
#[derive(Debug, Default)]
pub struct UbxReceiver {
    nav: NavDecoder,
    locks: SatMap<(Gnss, u8, SignalCode), LockState>,
    last_epoch: Option<Gpst>,
    /// The time everything is resolved against.
    pub reference: Option<Gpst>,
    pub stats: UbxStats,
    /// Messages per name (`RXM-RAWX` …), for the `message` series.
    pub messages: BTreeMap<String, u64>,
}

impl UbxReceiver {
    pub fn new(reference: Option<Gpst>) -> Self {
        UbxReceiver {
            reference,
            ..Default::default()
        }
    }

    /// Navigation-message units checked, dropped and assembled.
    pub fn nav_stats(&self) -> &NavStats {
        &self.nav.stats
    }

    /// The GPS broadcast ionosphere, once a subframe 4 page 18 came.
    pub fn klobuchar(&self) -> Option<crate::gnss::atmosphere::Klobuchar> {
        self.nav.iono_utc.get(&Gnss::Gps).map(|p| p.klobuchar)
    }

    /// The latest LNAV ionosphere and UTC parameters of a system (GPS, QZSS).
    pub fn iono_utc(&self, sys: Gnss) -> Option<&crate::messages::navmsg::lnav::LnavIonoUtc> {
        self.nav.iono_utc.get(&sys)
    }

    /// Take in one message.
    pub fn push(&mut self, msg: &Ubx) -> Option<UbxEvent> {
        let (class, id) = msg.class_id();
        *self
            .messages
            .entry(super::message_name(class, id))
            .or_default() += 1;
        match msg {
            Ubx::Rawx(r) => self.rawx(r).map(UbxEvent::Epoch),
            Ubx::Sfrbx(s) => {
                let unit = match s.nav_unit() {
                    Ok(Some(u)) => u,
                    Ok(None) => {
                        self.stats.sfrbx_not_decoded += 1;
                        return None;
                    }
                    Err(e) => {
                        self.nav.reject(&e);
                        return None;
                    }
                };
                let record = self.nav.push(&unit).ok().flatten()?;
                let ephemeris = match (&record, self.reference) {
                    (NavRecord::Inav(e), _) => Some(e.to_ephemeris()),
                    (NavRecord::Bds(e), _) => Some(e.to_ephemeris()),
                    (r, Some(near)) => Some(r.to_ephemeris(near)),
                    (_, None) => {
                        self.stats.unreferenced_ephemerides += 1;
                        None
                    }
                };
                Some(UbxEvent::Ephemeris(Box::new(NavEphemeris {
                    record,
                    ephemeris,
                })))
            }
            Ubx::NavPvt(p) => {
                if self.reference.is_none()
                    && p.valid_date()
                    && p.valid_time()
                    && p.fully_resolved()
                    && let Some(t) = pvt_time(p)
                {
                    self.reference = Some(t);
                }
                None
            }
            _ => None,
        }
    }

    fn rawx(&mut self, r: &Rawx) -> Option<Epoch> {
        let Some(t) = r.time() else {
            self.stats.unresolved_time += 1;
            return None;
        };
        if self.last_epoch.is_some_and(|last| t.diff(last) <= 0.0) {
            self.stats.stale_epochs += 1;
            return None;
        }
        self.last_epoch = Some(t);
        self.reference = Some(t);
        let mut sats = Vec::new();
        for m in &r.meas {
            let Some((sys, prn, mut obs)) = m.observation() else {
                self.stats.unknown_signals += 1;
                continue;
            };
            if obs.phase_cycles.is_some() {
                let now = LockState {
                    lock_s: obs.lock_s.unwrap_or(0.0),
                    at: t,
                    half_subtracted: m.half_cycle_subtracted(),
                };
                if let Some(prev) = self.locks.insert((sys, prn, obs.code), now) {
                    let grown = (prev.lock_s + t.diff(prev.at)).min(LOCK_CAP_S);
                    obs.slip |= now.lock_s + LOCK_SLACK_S < grown
                        || now.half_subtracted != prev.half_subtracted;
                }
            }
            match sats
                .iter_mut()
                .find(|s: &&mut crate::gnss::obs::SatObs| s.sys == sys && s.prn == prn)
            {
                Some(s) => s.signals.push(obs),
                None => sats.push(crate::gnss::obs::SatObs {
                    sys,
                    prn,
                    signals: vec![obs],
                }),
            }
        }
        if sats.is_empty() {
            self.stats.empty_epochs += 1;
            return None;
        }
        self.stats.epochs += 1;
        Some(Epoch { time: t, sats })
    }
}

/// The receiver's UTC time of a NAV-PVT, as GPS time.
fn pvt_time(p: &super::nav::NavPvt) -> Option<Gpst> {
    use chrono::{NaiveDate, TimeZone, Utc};
    let date = NaiveDate::from_ymd_opt(i32::from(p.year), u32::from(p.month), u32::from(p.day))?;
    let t = date.and_hms_opt(
        u32::from(p.hour),
        u32::from(p.min),
        u32::from(p.sec).min(59),
    )?;
    Some(Gpst::from_utc(Utc.from_utc_datetime(&t)).add(f64::from(p.nano_ns) * 1e-9))
}
