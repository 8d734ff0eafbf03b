//! The station's RTCM3 stream per output message set, with the observation messages an older
//! rover needs made from the MSMs the receiver sends ([`Transcoder`], [`msm`]).
//!
//! A [`Transcoder`] is one output's view of the stream (a caster mountpoint, a push, a radio):
//!
//! * A frame whose type is in the set passes through byte for byte, at most once per its
//!   interval of *data* time (an interval of 0 or none: every one). Frames without a data time
//!   pass. Every part of a split epoch (two 1077 of one instant) passes with the first.
//! * A requested MSM4 that the stream does not carry is made from the system's MSM7, 6 or 5 (the
//!   most detailed one the stream carries); a requested 1004 or 1012 from its GPS or GLONASS
//!   MSM4–7. "Carries" means a frame of that type within the last [`CARRIED_WITHIN_S`] of data
//!   time, so a native message always wins and a receiver that stops sending it is covered.
//! * Observation messages of one epoch are grouped: a made message has its multiple-message
//!   bit (MSM) or synchronous flag (legacy) set exactly when another observation message of the
//!   same epoch follows it in this output. Frames passed through keep their own bits. Made
//!   messages are held until the receiver's last MSM of the epoch (multiple-message bit clear)
//!   or the next epoch's first, so the delay is the receiver's own epoch burst.
//!
//! An empty set means the whole stream, unchanged. Frames that are not RTCM3 are not sent.

pub mod msm;

use std::collections::{BTreeMap, HashMap};

use crate::feeds::message_set::MessageRate;
use crate::framing::rtcm3::{more_of_epoch, payload as frame_payload};
use crate::framing::{FrameKind, RawFrame, rtcm3_frame};
use crate::gnss::Gnss;
use crate::gnss::time::Gpst;
use crate::messages::rtcm3::msm::{Msm, is_msm};
use crate::messages::rtcm3::{self, Message};

/// A type seen within this much data time counts as carried by the stream.
pub const CARRIED_WITHIN_S: f64 = 5.0;

/// What a transcoder did, for counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TranscoderStats {
    pub passed: u64,
    pub made: BTreeMap<u16, u64>,
    /// Frames of a requested or source type that did not decode (counted, skipped).
    pub undecodable: u64,
    pub legacy: msm::LegacyStats,
}

/// One output message held back until the epoch's grouping is known.
enum Held {
    /// Passed through: bytes fixed; `obs` tells whether it is an observation message.
    Pass {
        bytes: Vec<u8>,
        obs: bool,
    },
    Msm(Msm),
    Gps(rtcm3::legacy::GpsObs),
    Glo(rtcm3::legacy::GloObs),
}

impl Held {
    fn is_obs(&self) -> bool {
        match self {
            Held::Pass { obs, .. } => *obs,
            _ => true,
        }
    }
    fn into_frame(self, more: bool) -> Vec<u8> {
        match self {
            Held::Pass { bytes, .. } => bytes,
            Held::Msm(mut m) => {
                m.multiple = more;
                rtcm3_frame(&m.encode())
            }
            Held::Gps(mut m) => {
                m.synchronous = more;
                rtcm3_frame(&m.encode())
            }
            Held::Glo(mut m) => {
                m.synchronous = more;
                rtcm3_frame(&m.encode())
            }
        }
    }
}

/// Identifies an epoch: its data time, or without one the MSM's own time field.
#[derive(Clone, Copy, Debug, PartialEq)]
enum EpochKey {
    Time(Gpst),
    Raw(Gnss, u32),
}

/// One output's message set over the station stream (see the module documentation).
pub struct Transcoder {
    rates: Vec<MessageRate>,
    last_sent: BTreeMap<u16, Gpst>,
    /// Last data time each type was seen in the stream.
    seen: HashMap<u16, Gpst>,
    glonass_channels: BTreeMap<u8, i8>,
    legacy: msm::LegacyEncoder,
    epoch: Option<EpochKey>,
    epoch_time: Option<Gpst>,
    /// Source MSMs of the open epoch for 1004 and 1012.
    gps: Vec<Msm>,
    glo: Vec<Msm>,
    held: Vec<Held>,
    pub stats: TranscoderStats,
}

fn is_obs_number(n: u16) -> bool {
    is_msm(n) || (1001..=1004).contains(&n) || (1009..=1012).contains(&n)
}

impl Transcoder {
    pub fn new(messages: &[MessageRate]) -> Self {
        Transcoder {
            rates: messages.to_vec(),
            last_sent: BTreeMap::new(),
            seen: HashMap::new(),
            glonass_channels: BTreeMap::new(),
            legacy: msm::LegacyEncoder::new(),
            epoch: None,
            epoch_time: None,
            gps: Vec::new(),
            glo: Vec::new(),
            held: Vec::new(),
            stats: TranscoderStats::default(),
        }
    }

    fn requested(&self, n: u16) -> bool {
        self.rates.iter().any(|r| r.number == n)
    }

    /// Whether a message of type `n` at data time `t` is due (and if so, mark it sent).
    fn due(&mut self, n: u16, t: Option<Gpst>) -> bool {
        if self.rates.is_empty() {
            return true;
        }
        let Some(rate) = self.rates.iter().find(|r| r.number == n) else {
            return false;
        };
        if rate.interval_s <= 0.0 {
            return true;
        }
        let Some(t) = t else {
            return true;
        };
        if let Some(prev) = self.last_sent.get(&n) {
            let dt = t.diff(*prev);
            // Same instant: another part of a message already sent. Time going back: a new
            // stream, start over.
            if dt > 0.0 && dt < rate.interval_s - 0.5 {
                return false;
            }
        }
        self.last_sent.insert(n, t);
        true
    }

    fn carried(&self, n: u16, t: Option<Gpst>) -> bool {
        self.seen.get(&n).is_some_and(|s| match t {
            Some(t) => t.diff(*s).abs() <= CARRIED_WITHIN_S,
            None => true,
        })
    }

    /// The MSM number the conversions of `sys` take as their source at `t`: the most detailed
    /// carried (7, then 6, 5, 4).
    fn source_msm(&self, sys_base: u16, t: Option<Gpst>, min: u16) -> Option<u16> {
        [7, 6, 5, 4]
            .into_iter()
            .filter(|&k| k >= min)
            .map(|k| sys_base + k)
            .find(|&n| self.carried(n, t))
    }

    /// Take in one frame of the station stream; the whole RTCM3 frames to send now.
    pub fn feed(&mut self, frame: &RawFrame) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        if frame.kind != FrameKind::Rtcm3 {
            return out;
        }
        let Some(n) = frame.number else {
            return out;
        };
        let t = frame.data_time_ns.map(Gpst::from_gps_ns);
        if self.rates.is_empty() {
            self.stats.passed += 1;
            out.push(frame.bytes.to_vec());
            return out;
        }
        let sys = crate::messages::rtcm3::msm::msm_system(n).filter(|_| is_msm(n));
        let wants_conversion = sys.is_some_and(|s| self.conversion_target(s, n).is_some())
            || (n == 1020 && self.requested(1012));
        let decoded = if wants_conversion {
            match rtcm3::decode(frame_payload(&frame.bytes)) {
                Ok(m) => Some(m),
                Err(_) => {
                    self.stats.undecodable += 1;
                    None
                }
            }
        } else {
            None
        };
        if let Some(Message::GloEph(e)) = &decoded {
            self.glonass_channels.insert(e.sat, e.channel());
        }
        let msm = match decoded {
            Some(Message::Msm(m)) => Some(m),
            _ => None,
        };
        if let Some(s) = sys {
            let key = match (t, &msm) {
                (Some(t), _) => EpochKey::Time(t),
                (None, Some(m)) => EpochKey::Raw(s, m.epoch_raw),
                (None, None) => EpochKey::Raw(s, u32::MAX),
            };
            if self.epoch.is_some_and(|k| k != key) {
                self.close_epoch(&mut out);
            }
            self.epoch = Some(key);
            self.epoch_time = t;
        }
        match t {
            Some(t) => {
                self.seen.insert(n, t);
            }
            None => {
                self.seen.entry(n).or_default();
            }
        }
        // Passed through as it came.
        if self.requested(n) && self.due(n, t) {
            self.stats.passed += 1;
            self.push(
                Held::Pass {
                    bytes: frame.bytes.to_vec(),
                    obs: is_obs_number(n),
                },
                &mut out,
            );
        }
        if let Some(m) = msm {
            self.convert(m, t, &mut out);
        }
        // The receiver's last MSM of the epoch: what this output holds can go.
        let last = sys.is_some() && more_of_epoch(frame_payload(&frame.bytes)) == Some(false);
        if last {
            self.close_epoch(&mut out);
        }
        out
    }

    /// The end of the stream: whatever is held.
    pub fn finish(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        self.close_epoch(&mut out);
        out
    }

    /// What `n` (an MSM of `sys`) would be converted to in this set, if anything.
    fn conversion_target(&self, sys: Gnss, n: u16) -> Option<()> {
        let base = n - n % 10;
        let msm4 = base + 4;
        let to_msm4 = n % 10 >= 5 && self.requested(msm4);
        let legacy = match sys {
            Gnss::Gps => self.requested(1004),
            Gnss::Glonass => self.requested(1012),
            _ => false,
        };
        (to_msm4 || (legacy && n % 10 >= 4)).then_some(())
    }

    fn convert(&mut self, m: Msm, t: Option<Gpst>, out: &mut Vec<Vec<u8>>) {
        let n = m.number();
        let base = n - n % 10;
        let msm4 = base + 4;
        if m.msm >= 5
            && self.requested(msm4)
            && !self.carried(msm4, t)
            && self.source_msm(base, t, 5) == Some(n)
            && self.due(msm4, t)
            && let Some(m4) = msm::to_msm4(&m)
        {
            *self.stats.made.entry(msm4).or_default() += 1;
            self.push(Held::Msm(m4), out);
        }
        let legacy = match m.system {
            Gnss::Gps => Some(1004),
            Gnss::Glonass => Some(1012),
            _ => None,
        };
        if let Some(l) = legacy
            && self.requested(l)
            && !self.carried(l, t)
            && self.source_msm(base, t, 4) == Some(n)
        {
            if m.system == Gnss::Gps {
                self.gps.push(m);
            } else {
                self.glo.push(m);
            }
        }
    }

    fn push(&mut self, h: Held, out: &mut Vec<Vec<u8>>) {
        let holding = !self.held.is_empty() || !matches!(h, Held::Pass { .. });
        if holding {
            self.held.push(h);
        } else {
            out.push(h.into_frame(false));
        }
    }

    /// The epoch is over: make its legacy messages, set the grouping bits, send.
    fn close_epoch(&mut self, out: &mut Vec<Vec<u8>>) {
        let t = self.epoch_time;
        let t_s = t.map(Gpst::as_f64);
        if !self.gps.is_empty() {
            let msms = std::mem::take(&mut self.gps);
            let refs: Vec<&Msm> = msms.iter().collect();
            let ts = t_s.unwrap_or(msms[0].epoch_raw as f64 / 1000.0);
            if self.due(1004, t) {
                for m in self.legacy.gps(&refs, ts) {
                    *self.stats.made.entry(1004).or_default() += 1;
                    self.held.push(Held::Gps(m));
                }
            }
        }
        if !self.glo.is_empty() {
            let msms = std::mem::take(&mut self.glo);
            let refs: Vec<&Msm> = msms.iter().collect();
            let ts = t_s.unwrap_or((msms[0].epoch_raw & 0x07FF_FFFF) as f64 / 1000.0);
            if self.due(1012, t) {
                let channels = &self.glonass_channels;
                for m in self
                    .legacy
                    .glonass(&refs, &|slot| channels.get(&slot).copied(), ts)
                {
                    *self.stats.made.entry(1012).or_default() += 1;
                    self.held.push(Held::Glo(m));
                }
            }
        }
        self.stats.legacy = self.legacy.stats.clone();
        let held = std::mem::take(&mut self.held);
        let obs_after: Vec<bool> = {
            let mut v = vec![false; held.len()];
            let mut any = false;
            for (i, h) in held.iter().enumerate().rev() {
                v[i] = any;
                any |= h.is_obs();
            }
            v
        };
        for (h, more) in held.into_iter().zip(obs_after) {
            out.push(h.into_frame(more));
        }
        self.epoch = None;
    }
}
