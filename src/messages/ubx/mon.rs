//! Receiver hardware health: UBX-MON-RF (0x0A 0x38), one block per RF front end, and the older
//! UBX-MON-HW (0x0A 0x09).
//!
//! The jamming indicators: `jamming_state` (0 unknown, 1 OK, 2 warning, 3 critical) and
//! `jam_ind` (continuous-wave interference, 0 none … 255 strong); the automatic gain control
//! count `agc_cnt` (0 … 8191; a drop means more power in the band than the antenna's noise);
//! the antenna supervisor: `ant_status` (0 init, 1 unknown, 2 OK, 3 short, 4 open) and
//! `ant_power` (0 off, 1 on, 2 unknown).

use super::fields::{bit, bits, ubx_block, ubx_fixed, ubx_groups};

/// Full scale of the AGC count.
pub const AGC_FULL_SCALE: f64 = 8191.0;

ubx_block! {
    /// The fixed part of MON-RF.
    MonRfHead {
        version: U1,
        n_blocks: U1,
        reserved: B2,
    }
}

ubx_block! {
    /// One RF front end of MON-RF.
    MonRfBlock {
        block_id: U1,
        /// Bits 0–1: jamming state.
        flags: U1,
        ant_status: U1,
        ant_power: U1,
        post_status: U4,
        reserved1: B4,
        noise_per_ms: U2,
        agc_cnt: U2,
        /// Continuous-wave jamming indicator.
        jam_ind: U1,
        ofs_i: I1,
        mag_i: U1,
        ofs_q: I1,
        mag_q: U1,
        reserved2: B3,
    }
}

impl MonRfBlock {
    pub fn jamming_state(&self) -> u8 {
        bits(self.flags.into(), 0, 2) as u8
    }
    /// The AGC as a share of its range (%).
    pub fn agc_percent(&self) -> f64 {
        f64::from(self.agc_cnt) / AGC_FULL_SCALE * 100.0
    }
}

ubx_groups! {
    /// MON-RF.
    MonRf = "MON-RF" { MonRfHead, blocks: MonRfBlock, count: n_blocks }
}

ubx_block! {
    /// MON-HW: the hardware status of the first RF front end and the I/O pins.
    MonHw {
        pin_sel: U4,
        pin_bank: U4,
        pin_dir: U4,
        pin_val: U4,
        noise_per_ms: U2,
        agc_cnt: U2,
        a_status: U1,
        a_power: U1,
        /// Bit 0 rtcCalib, 1 safeBoot, 2–3 jammingState, 4 xtalAbsent.
        flags: U1,
        reserved0: U1,
        used_mask: U4,
        vp: B17,
        jam_ind: U1,
        reserved1: B2,
        pin_irq: U4,
        pull_h: U4,
        pull_l: U4,
    }
}

ubx_fixed!(MonHw = "MON-HW");

impl MonHw {
    pub fn rtc_calib(&self) -> bool {
        bit(self.flags.into(), 0)
    }
    pub fn safe_boot(&self) -> bool {
        bit(self.flags.into(), 1)
    }
    pub fn jamming_state(&self) -> u8 {
        bits(self.flags.into(), 2, 2) as u8
    }
    pub fn xtal_absent(&self) -> bool {
        bit(self.flags.into(), 4)
    }
}
