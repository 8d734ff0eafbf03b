//! UBX-RXM-RAWX (0x02 0x15): the receiver's raw measurements of one epoch.
//!
//! Pseudorange (m), carrier phase (cycles) and Doppler (Hz, positive towards an approaching
//! satellite, RINEX's sign) come as IEEE floats; C/N0 in whole dB-Hz; the lock time in ms
//! (capped at 64 500). `trkStat` says which of them are valid: bit 0 pseudorange, bit 1 carrier
//! phase, bit 2 half-cycle ambiguity resolved, bit 3 half a cycle subtracted from the phase.
//! The standard deviations are indices: pseudorange 0.01·2ⁿ m, phase 0.004·n cycles, Doppler
//! 0.002·2ⁿ Hz.

use super::fields::{bit, bits, ubx_block, ubx_groups};
use super::signals;
use crate::gnss::obs::{Epoch, SatObs, SignalCode, SignalObs};
use crate::gnss::time::Gpst;
use crate::gnss::{Gnss, is_beidou_geo};

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

ubx_groups! {
    /// RXM-RAWX.
    Rawx = "RXM-RAWX" { RawxHead, meas: RawxMeas, count: num_meas }
}

impl Rawx {
    /// The RXM-RAWX a receiver would send for corsd observations: each signal u-blox has an
    /// ID for, in the epoch's order (at most 255). Standard-deviation indices are nominal
    /// (code 0.16 m, phase 0.004 cycles, Doppler 0.064 Hz): the observations carry none.
    pub fn from_epoch(e: &Epoch) -> Rawx {
        let mut meas = Vec::new();
        for s in &e.sats {
            for o in &s.signals {
                let Some(sig_id) =
                    signals::sig_id(s.sys, o.code, s.sys == Gnss::Beidou && is_beidou_geo(s.prn))
                else {
                    continue;
                };
                let channel = match (s.sys, o.freq_hz, o.code.band()) {
                    (Gnss::Glonass, Some(f), 1) => ((f - 1_602e6) / 562_500.0).round(),
                    (Gnss::Glonass, Some(f), 2) => ((f - 1_246e6) / 437_500.0).round(),
                    _ => -7.0,
                };
                let trk = u8::from(o.pseudorange_m.is_some())
                    | u8::from(o.phase_cycles.is_some()) << 1
                    | u8::from(o.phase_cycles.is_some() && !o.half_cycle) << 2;
                meas.push(RawxMeas {
                    pr_m: o.pseudorange_m.unwrap_or(0.0),
                    cp_cycles: o.phase_cycles.unwrap_or(0.0),
                    do_hz: o.doppler_hz.unwrap_or(0.0) as f32,
                    gnss_id: signals::gnss_id(s.sys),
                    sv_id: signals::sv_id(s.sys, s.prn),
                    sig_id,
                    // −7 … 6 → 0 … 13 (as `as` saturates, any other value stays in a byte).
                    freq_id: (channel + 7.0).clamp(0.0, 13.0) as u8,
                    locktime_ms: (o.lock_s.unwrap_or(0.0) * 1000.0).clamp(0.0, 64_500.0) as u16,
                    cno_dbhz: o.cn0_dbhz.unwrap_or(0.0).round().clamp(0.0, 255.0) as u8,
                    pr_stdev: 4,
                    cp_stdev: 1,
                    do_stdev: 5,
                    trk_stat: trk,
                    reserved: 0,
                });
            }
        }
        meas.truncate(255);
        Rawx {
            head: RawxHead {
                rcv_tow_s: e.time.tow(),
                week: e.time.week().clamp(0, i64::from(u16::MAX)) as u16,
                leap_s: crate::gnss::time::leap_seconds_at(e.time) as i8,
                num_meas: meas.len() as u8,
                rec_stat: 1,
                version: 1,
                reserved: [0; 2],
            },
            meas,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(code: &[u8; 2], freq_hz: f64, lock_s: f64) -> SignalObs {
        SignalObs {
            code: SignalCode(*code),
            freq_hz: Some(freq_hz),
            pseudorange_m: Some(21_000_123.456),
            phase_cycles: Some(110_000_456.789),
            doppler_hz: Some(-1234.5),
            cn0_dbhz: Some(45.0),
            lock_s: Some(lock_s),
            slip: false,
            half_cycle: false,
        }
    }

    #[test]
    fn an_epoch_survives_rawx() {
        let e = Epoch {
            time: Gpst::from_week_tow(2363, 455_887.996),
            sats: vec![
                SatObs {
                    sys: Gnss::Glonass,
                    prn: 3,
                    signals: vec![signal(b"1C", 1_602e6 + 5.0 * 562_500.0, 12.0)],
                },
                SatObs {
                    sys: Gnss::Beidou,
                    prn: 2,
                    signals: vec![
                        signal(b"2I", 1_561.098e6, 64.5),
                        signal(b"7I", 1_207.14e6, 3.0),
                    ],
                },
                SatObs {
                    sys: Gnss::Qzss,
                    prn: 194,
                    signals: vec![signal(b"2L", 1_227.6e6, 0.5)],
                },
            ],
        };
        let r = Rawx::from_epoch(&e);
        assert_eq!(r.meas[0].freq_id, 12);
        // BeiDou GEO: the D2 signal IDs.
        assert_eq!((r.meas[1].sig_id, r.meas[2].sig_id), (1, 3));
        assert_eq!(r.meas[3].sv_id, 2);
        let again = Rawx::decode(&r.encode()).unwrap();
        assert_eq!(again.time(), Some(e.time));
        assert_eq!(again.observations(), e.sats);
    }
}
