//! UBX-RXM-RAWX (0x02 0x15): the receiver's raw measurements of one epoch.
//!
//! Pseudorange (m), carrier phase (cycles) and Doppler (Hz, positive towards an approaching
//! satellite, RINEX's sign) come as IEEE floats; C/N0 in whole dB-Hz; the lock time in ms
//! (capped at 64 500). `trkStat` says which of them are valid: bit 0 pseudorange, bit 1 carrier
//! phase, bit 2 half-cycle ambiguity resolved, bit 3 half a cycle subtracted from the phase.
//! The standard deviations are indices: pseudorange 0.01·2ⁿ m, phase 0.004·n cycles, Doppler
//! 0.002·2ⁿ Hz.

use serde::Serialize;

use super::UbxError;
use super::fields::{bit, bits, decode_groups, encode_groups, ubx_block};
use super::signals;
use crate::gnss::Gnss;
use crate::gnss::obs::{SatObs, SignalCode, SignalObs};
use crate::gnss::time::Gpst;

ubx_block! {
    /// The fixed part of RXM-RAWX.
    RawxHead {
        /// Receiver time of week (s, GPST), rounded to ms only in the printout of others.
        rcv_tow_s: R8,
        /// GPS week (0 until the receiver knows it).
        week: U2,
        /// GPST − UTC (s).
        leap_s: I1,
        num_meas: U1,
        /// Bit 0: leap seconds determined; bit 1: receiver clock reset.
        rec_stat: U1,
        version: U1,
        reserved: B2,
    }
}

ubx_block! {
    /// One measurement of RXM-RAWX.
    RawxMeas {
        pr_m: R8,
        cp_cycles: R8,
        do_hz: R4,
        gnss_id: U1,
        sv_id: U1,
        sig_id: U1,
        /// GLONASS: frequency channel + 7.
        freq_id: U1,
        locktime_ms: U2,
        cno_dbhz: U1,
        pr_stdev: U1,
        cp_stdev: U1,
        do_stdev: U1,
        trk_stat: U1,
        reserved: U1,
    }
}

/// RXM-RAWX.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rawx {
    pub head: RawxHead,
    pub meas: Vec<RawxMeas>,
}

impl Rawx {
    pub const NAME: &'static str = "RXM-RAWX";

    pub fn decode(payload: &[u8]) -> Result<Rawx, UbxError> {
        let (head, meas) = decode_groups(Self::NAME, payload, |h: &RawxHead| h.num_meas as usize)?;
        Ok(Rawx { head, meas })
    }

    /// The payload; `num_meas` is taken from the measurements (at most 255 are written).
    pub fn encode(&self) -> Vec<u8> {
        let mut head = self.head.clone();
        let meas = &self.meas[..self.meas.len().min(255)];
        head.num_meas = meas.len() as u8;
        encode_groups(&head, meas)
    }

    pub fn leap_seconds_valid(&self) -> bool {
        bit(self.head.rec_stat.into(), 0)
    }

    pub fn clock_reset(&self) -> bool {
        bit(self.head.rec_stat.into(), 1)
    }

    /// The epoch's GPS time, once the receiver knows the week (a cold start sends week 0 and
    /// a time since power-on first).
    pub fn time(&self) -> Option<Gpst> {
        let tow = self.head.rcv_tow_s;
        (self.head.week != 0 && (0.0..604_800.0).contains(&tow))
            .then(|| Gpst::from_week_tow(self.head.week as i64, tow))
    }

    /// The measurements as corsd's observations, grouped by satellite in the order the
    /// receiver sent them. Signals corsd has no code for (and GLONASS satellites whose slot is
    /// not known yet) are left out. Cycle slips need the previous epoch: `slip` is set here only
    /// when the receiver reports no lock at all.
    pub fn observations(&self) -> Vec<SatObs> {
        let mut sats: Vec<SatObs> = Vec::new();
        for m in &self.meas {
            let Some((sys, prn, obs)) = m.observation() else {
                continue;
            };
            match sats.iter_mut().find(|s| s.sys == sys && s.prn == prn) {
                Some(s) => s.signals.push(obs),
                None => sats.push(SatObs {
                    sys,
                    prn,
                    signals: vec![obs],
                }),
            }
        }
        sats
    }
}

impl RawxMeas {
    pub fn pr_valid(&self) -> bool {
        bit(self.trk_stat.into(), 0)
    }
    pub fn cp_valid(&self) -> bool {
        bit(self.trk_stat.into(), 1)
    }
    /// Half-cycle ambiguity resolved.
    pub fn half_cycle_valid(&self) -> bool {
        bit(self.trk_stat.into(), 2)
    }
    /// Half a cycle was subtracted from the phase.
    pub fn half_cycle_subtracted(&self) -> bool {
        bit(self.trk_stat.into(), 3)
    }
    pub fn pr_std_m(&self) -> f64 {
        0.01 * f64::from(1u32 << bits(self.pr_stdev.into(), 0, 4))
    }
    pub fn cp_std_cycles(&self) -> f64 {
        0.004 * f64::from(bits(self.cp_stdev.into(), 0, 4))
    }
    pub fn do_std_hz(&self) -> f64 {
        0.002 * f64::from(1u32 << bits(self.do_stdev.into(), 0, 4))
    }

    /// System, satellite and RINEX code of the measurement, when corsd knows them.
    pub fn signal(&self) -> Option<(Gnss, u8, SignalCode)> {
        let (sys, prn) = signals::satellite(self.gnss_id, self.sv_id)?;
        Some((sys, prn, signals::signal_code(sys, self.sig_id)?))
    }

    /// The measurement as a corsd signal observation.
    pub fn observation(&self) -> Option<(Gnss, u8, SignalObs)> {
        let (sys, prn, code) = self.signal()?;
        let finite = |v: f64| v.is_finite().then_some(v);
        let obs = SignalObs {
            code,
            freq_hz: signals::frequency_hz(sys, code, self.freq_id),
            pseudorange_m: self.pr_valid().then_some(self.pr_m).and_then(finite),
            phase_cycles: self.cp_valid().then_some(self.cp_cycles).and_then(finite),
            doppler_hz: finite(f64::from(self.do_hz)),
            cn0_dbhz: (self.cno_dbhz > 0).then(|| f64::from(self.cno_dbhz)),
            lock_s: Some(f64::from(self.locktime_ms) * 1e-3),
            slip: self.cp_valid() && self.locktime_ms == 0,
            half_cycle: self.cp_valid() && !self.half_cycle_valid(),
        };
        Some((sys, prn, obs))
    }
}
