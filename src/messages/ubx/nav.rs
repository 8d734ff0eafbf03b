//! The receiver's own solution and sky: UBX-NAV-PVT (0x01 0x07), NAV-STATUS (0x01 0x03),
//! NAV-SAT (0x01 0x35) and NAV-SIG (0x01 0x43).
//!
//! Angles in degrees, lengths in metres, speeds in m/s, times in ms of the GPS week (`itow_ms`)
//! or ns. Bitfields stay as sent and are read through named accessors.

use super::fields::{bit, bits, ubx_block, ubx_fixed, ubx_groups};

ubx_block! {
    /// NAV-PVT: position, velocity and time of the receiver's own fix.
    NavPvt {
        itow_ms: U4,
        year: U2,
        month: U1,
        day: U1,
        hour: U1,
        min: U1,
        sec: U1,
        /// Bit 0 validDate, 1 validTime, 2 fullyResolved, 3 validMag.
        valid: U1,
        t_acc_ns: U4,
        nano_ns: I4,
        /// 0 none, 1 dead reckoning, 2 2D, 3 3D, 4 GNSS + DR, 5 time only.
        fix_type: U1,
        /// Bit 0 gnssFixOK, 1 diffSoln, 2–4 psmState, 5 headVehValid, 6–7 carrSoln.
        flags: U1,
        /// Bit 5 confirmedAvai, 6 confirmedDate, 7 confirmedTime.
        flags2: U1,
        num_sv: U1,
        lon_deg: I4 * 1e-7,
        lat_deg: I4 * 1e-7,
        /// Height above the ellipsoid.
        height_m: I4 * 1e-3,
        h_msl_m: I4 * 1e-3,
        h_acc_m: U4 * 1e-3,
        v_acc_m: U4 * 1e-3,
        vel_n_mps: I4 * 1e-3,
        vel_e_mps: I4 * 1e-3,
        vel_d_mps: I4 * 1e-3,
        g_speed_mps: I4 * 1e-3,
        head_mot_deg: I4 * 1e-5,
        s_acc_mps: U4 * 1e-3,
        head_acc_deg: U4 * 1e-5,
        p_dop: U2 * 0.01,
        /// Bit 0 invalidLlh, 1–4 lastCorrectionAge.
        flags3: U2,
        reserved: B4,
        head_veh_deg: I4 * 1e-5,
        mag_dec_deg: I2 * 1e-2,
        mag_acc_deg: U2 * 1e-2,
    }
}

ubx_fixed!(NavPvt = "NAV-PVT");

impl NavPvt {
    pub fn valid_date(&self) -> bool {
        bit(self.valid.into(), 0)
    }
    pub fn valid_time(&self) -> bool {
        bit(self.valid.into(), 1)
    }
    pub fn fully_resolved(&self) -> bool {
        bit(self.valid.into(), 2)
    }
    pub fn gnss_fix_ok(&self) -> bool {
        bit(self.flags.into(), 0)
    }
    pub fn diff_soln(&self) -> bool {
        bit(self.flags.into(), 1)
    }
    /// 0 none, 1 float, 2 fixed.
    pub fn carr_soln(&self) -> u8 {
        bits(self.flags.into(), 6, 2) as u8
    }
    pub fn invalid_llh(&self) -> bool {
        bit(self.flags3.into(), 0)
    }
}

ubx_block! {
    /// NAV-STATUS: fix state and the spoofing detector.
    NavStatus {
        itow_ms: U4,
        gps_fix: U1,
        /// Bit 0 gpsFixOk, 1 diffSoln, 2 wknSet, 3 towSet.
        flags: U1,
        fix_stat: U1,
        /// Bits 0–1 psmState, 3–4 spoofDetState, 6–7 carrSoln.
        flags2: U1,
        ttff_ms: U4,
        msss_ms: U4,
    }
}

ubx_fixed!(NavStatus = "NAV-STATUS");

impl NavStatus {
    /// 0 unknown or off, 1 no spoofing indicated, 2 spoofing indicated, 3 several indications.
    pub fn spoof_det_state(&self) -> u8 {
        bits(self.flags2.into(), 3, 2) as u8
    }
}

ubx_block! {
    /// The fixed part of NAV-SAT.
    NavSatHead {
        itow_ms: U4,
        version: U1,
        num_svs: U1,
        reserved: B2,
    }
}

ubx_block! {
    /// One satellite of NAV-SAT.
    NavSatSv {
        gnss_id: U1,
        sv_id: U1,
        cno_dbhz: U1,
        /// −90…90; outside that range: unknown.
        elev_deg: I1,
        /// 0…360; outside that range: unknown.
        azim_deg: I2,
        pr_res_m: I2 * 0.1,
        flags: U4,
    }
}

impl NavSatSv {
    /// 0 no signal … 4 code locked, 5–7 code and carrier locked.
    pub fn quality_ind(&self) -> u8 {
        bits(self.flags, 0, 3) as u8
    }
    pub fn sv_used(&self) -> bool {
        bit(self.flags, 3)
    }
    /// 0 unknown, 1 healthy, 2 unhealthy.
    pub fn health(&self) -> u8 {
        bits(self.flags, 4, 2) as u8
    }
    pub fn diff_corr(&self) -> bool {
        bit(self.flags, 6)
    }
    pub fn smoothed(&self) -> bool {
        bit(self.flags, 7)
    }
    /// 0 none, 1 ephemeris, 2 almanac, 3 AssistNow Offline, 4 AssistNow Autonomous, 5–7 other.
    pub fn orbit_source(&self) -> u8 {
        bits(self.flags, 8, 3) as u8
    }
    pub fn eph_avail(&self) -> bool {
        bit(self.flags, 11)
    }
    pub fn alm_avail(&self) -> bool {
        bit(self.flags, 12)
    }
}

ubx_groups! {
    /// NAV-SAT.
    NavSat = "NAV-SAT" { NavSatHead, svs: NavSatSv, count: num_svs }
}

ubx_block! {
    /// The fixed part of NAV-SIG.
    NavSigHead {
        itow_ms: U4,
        version: U1,
        num_sigs: U1,
        reserved: B2,
    }
}

ubx_block! {
    /// One signal of NAV-SIG.
    NavSigSig {
        gnss_id: U1,
        sv_id: U1,
        sig_id: U1,
        freq_id: U1,
        pr_res_m: I2 * 0.1,
        cno_dbhz: U1,
        /// As NAV-SAT's `quality_ind`.
        quality_ind: U1,
        /// 0 none, 1 SBAS, 2 BeiDou, 3 RTCM2, 4 RTCM3 OSR, 5 RTCM3 SSR, 6 QZSS SLAS, 7 SPARTN, 8 CLAS.
        corr_source: U1,
        /// 0 none, 1 Klobuchar GPS, 2 SBAS, 3 Klobuchar BeiDou, 8 dual-frequency.
        iono_model: U1,
        /// Bits 0–1 health, 2 prSmoothed, 3 prUsed, 4 crUsed, 5 doUsed, 6 prCorrUsed,
        /// 7 crCorrUsed, 8 doCorrUsed.
        sig_flags: U2,
        reserved: B4,
    }
}

impl NavSigSig {
    /// 0 unknown, 1 healthy, 2 unhealthy.
    pub fn health(&self) -> u8 {
        bits(self.sig_flags.into(), 0, 2) as u8
    }
    pub fn pr_smoothed(&self) -> bool {
        bit(self.sig_flags.into(), 2)
    }
    pub fn pr_used(&self) -> bool {
        bit(self.sig_flags.into(), 3)
    }
    pub fn cr_used(&self) -> bool {
        bit(self.sig_flags.into(), 4)
    }
    pub fn do_used(&self) -> bool {
        bit(self.sig_flags.into(), 5)
    }
}

ubx_groups! {
    /// NAV-SIG.
    NavSig = "NAV-SIG" { NavSigHead, sigs: NavSigSig, count: num_sigs }
}
