//! Station state from a decoded RTCM3 stream: ephemerides into the store, MSM messages of one
//! instant assembled into an observation epoch, receiver times resolved to full GPS time.
//!
//! MSM epochs carry only a time of week (BDT for BeiDou, GLONASS time of day for GLONASS). The
//! full time comes from a reference — the 1013 system-parameter message (MJD), a date the caller
//! gives, or the previous epoch — and each new epoch is resolved to the candidate nearest the
//! previous one, which carries the time across week rollovers (and across the 14 s in which the
//! BeiDou week still lags the GPS week). Never the wall clock.

use crate::gnss::nav::EphemerisStore;
use crate::gnss::obs::{Epoch, SignalCode};
use crate::gnss::time::{Gpst, SECONDS_PER_DAY};
use crate::gnss::{Gnss, SatMap};
use crate::messages::rtcm3::Message;
use crate::rinex::write::StationInfo;
use nalgebra::Vector3;

/// What the stream has told so far.
#[derive(Debug, Default)]
pub struct StationState {
    pub store: EphemerisStore,
    /// The time everything is resolved against.
    pub reference: Option<Gpst>,
    current: Option<Epoch>,
    /// MSM epochs whose time field is out of range (counted and dropped).
    pub invalid_epochs: u64,
    /// MSM epochs whose time of week came as a small negative number (see `push`), resolved.
    pub negative_tow: u64,
    /// MSMs seen before any time reference existed.
    pub unreferenced: u64,
    /// Station ARP from 1005/1006 (ECEF, m).
    pub arp: Option<[f64; 3]>,
    /// Epochs completed and not yet handed out (see [`StationState::take_ready`]).
    ready: std::collections::VecDeque<Epoch>,
    /// Time of the last epoch handed out.
    last_done: Option<Gpst>,
    /// The receiver cleared the multiple-message bit before the last MSM of an epoch: epochs are
    /// then completed only when the next one starts.
    pub multiple_bit_unreliable: bool,
    /// MSMs that arrived for an epoch already completed (dropped, counted).
    pub late_messages: u64,
    /// GLONASS frequency channels by slot, from the 1020 ephemerides (MSM1–4 carry none).
    pub glonass_channels: std::collections::BTreeMap<u8, i8>,
    /// Lock time of each signal at its previous epoch, for cycle-slip flags.
    locks: SatMap<(Gnss, u8, SignalCode), (f64, Gpst)>,
    /// Receiver make and antenna from 1033/1008.
    pub receiver: Option<String>,
    pub firmware: Option<String>,
    pub antenna: Option<String>,
}

impl StationState {
    /// What the stream told about the station (1033 receiver, 1008 antenna, 1005/1006 ARP),
    /// as RINEX headers take it.
    pub fn told(&self) -> StationInfo {
        StationInfo {
            receiver: self.receiver.clone().unwrap_or_default(),
            receiver_version: self.firmware.clone().unwrap_or_default(),
            antenna: self.antenna.clone().unwrap_or_default(),
            position: self.arp.map(Vector3::from),
            ..Default::default()
        }
    }

    pub fn new(reference: Option<Gpst>) -> Self {
        StationState {
            reference,
            ..Default::default()
        }
    }

    /// Take in a message; returns a completed epoch when this message starts a new one.
    pub fn push(&mut self, msg: &Message) -> Option<Epoch> {
        match msg {
            Message::SystemParameters(p) if self.reference.is_none() => {
                // MJD 44244 is 1980-01-06; 1013 gives UTC.
                let days = p.mjd as i64 - 44_244;
                let utc_secs = days * SECONDS_PER_DAY + p.seconds_of_day as i64;
                self.reference = Some(Gpst::new(utc_secs + p.leap_seconds as i64, 0.0));
                None
            }
            Message::StationArp(a) => {
                self.arp = Some([a.x_m, a.y_m, a.z_m]);
                None
            }
            Message::Antenna(a) => {
                self.antenna = Some(a.descriptor.as_str_lossy());
                None
            }
            Message::Receiver(r) => {
                self.antenna = Some(r.antenna.as_str_lossy());
                self.receiver = Some(r.receiver.as_str_lossy());
                self.firmware = Some(r.firmware.as_str_lossy());
                None
            }
            Message::GpsEph(e) => self.with_ref(|r, s| s.store.insert(e.to_ephemeris(r))),
            Message::QzsEph(e) => self.with_ref(|r, s| s.store.insert(e.to_ephemeris(r))),
            Message::BdsEph(e) => self.with_ref(|r, s| s.store.insert(e.to_ephemeris(r))),
            Message::GalEph(e) => self.with_ref(|r, s| s.store.insert(e.to_ephemeris(r))),
            Message::GloEph(e) => {
                self.glonass_channels.insert(e.sat, e.channel());
                self.with_ref(|r, s| s.store.insert(e.to_ephemeris(r)))
            }
            Message::Msm(m) => {
                let Some(r) = self.reference else {
                    self.unreferenced += 1;
                    return None;
                };
                let t = match m.system {
                    Gnss::Glonass => {
                        let (day, tod) = m.glonass_day_tod_ms()?;
                        if tod >= 86_400_000 {
                            self.invalid_epochs += 1;
                            return None;
                        }
                        r.nearest_glonass_day_tod(day, tod as f64 / 1000.0)
                    }
                    sys => {
                        let raw = m.tow_ms()? as i64;
                        // Some receivers (Septentrio, at the GPS week start) send the BeiDou time
                        // of week as GPS TOW − 14 s in 30-bit two's complement: the last 14 s of
                        // the previous BDT week come out as 2^30 − 14 000 … 2^30 − 1 000 ms.
                        let tow = if raw >= (1 << 30) - SECONDS_PER_DAY * 1000 {
                            raw - (1 << 30)
                        } else {
                            raw
                        };
                        if !(-SECONDS_PER_DAY * 1000..604_800_000).contains(&tow) {
                            self.invalid_epochs += 1;
                            return None;
                        }
                        if tow < 0 {
                            self.negative_tow += 1;
                        }
                        if sys == Gnss::Beidou {
                            r.nearest_bdt_sow(tow as f64 / 1000.0)
                        } else {
                            r.nearest_tow(tow as f64 / 1000.0)
                        }
                    }
                };
                self.reference = Some(t);
                if self.current.is_none() && self.last_done == Some(t) {
                    // A piece of an epoch already completed by a cleared multiple-message bit.
                    self.late_messages += 1;
                    if !self.multiple_bit_unreliable {
                        self.multiple_bit_unreliable = true;
                        tracing::info!(
                            "the receiver clears the MSM multiple-message bit before the last message of an epoch; epochs are now completed when the next one starts (one epoch later)"
                        );
                    }
                    return self.ready.pop_front();
                }
                if self.current.as_ref().is_some_and(|c| c.time != t)
                    && let Some(e) = self.current.take()
                {
                    self.last_done = Some(e.time);
                    self.ready.push_back(e);
                }
                let cur = self.current.get_or_insert_with(|| Epoch {
                    time: t,
                    sats: Vec::new(),
                });
                let channels = &self.glonass_channels;
                let mut obs = m.observations_with(&|prn| channels.get(&prn).copied());
                // A slip is certain when the lock time now cannot have grown by the time since
                // the signal's previous epoch: the indicator's range ends at most at twice its
                // lower bound (or 32 ms above it, for the finest steps), and the lock then was at
                // least its lower bound. This flags a lock that went down as well as one that
                // stays at its minimum epoch after epoch (the receiver re-acquiring each time).
                for s in &mut obs {
                    for sig in &mut s.signals {
                        if let Some(lock) = sig.lock_s {
                            let key = (s.sys, s.prn, sig.code);
                            if let Some((prev, at)) = self.locks.insert(key, (lock, t)) {
                                let upper = (2.0 * lock).max(lock + 0.032);
                                if upper < prev + t.diff(at) - 1e-6 {
                                    sig.slip = true;
                                }
                            }
                        }
                    }
                }
                for s in obs {
                    match cur
                        .sats
                        .iter_mut()
                        .find(|x| x.sys == s.sys && x.prn == s.prn)
                    {
                        Some(x) => x.signals.extend(s.signals),
                        None => cur.sats.push(s),
                    }
                }
                // The multiple-message bit clear: the last MSM of this epoch, which is complete
                // now rather than when the next epoch begins a second later.
                if !m.multiple
                    && !self.multiple_bit_unreliable
                    && let Some(e) = self.current.take()
                {
                    self.last_done = Some(e.time);
                    self.ready.push_back(e);
                }
                self.ready.pop_front()
            }
            _ => None,
        }
    }

    /// A further completed epoch (when one message completed two); call after `push` until
    /// `None`.
    pub fn take_ready(&mut self) -> Option<Epoch> {
        self.ready.pop_front()
    }

    /// The epochs still held (call at the end of the stream, until `None`).
    pub fn finish(&mut self) -> Option<Epoch> {
        self.ready.pop_front().or_else(|| self.current.take())
    }

    fn with_ref(&mut self, f: impl FnOnce(Gpst, &mut Self) -> bool) -> Option<Epoch> {
        if let Some(r) = self.reference {
            f(r, self);
        }
        None
    }
}
