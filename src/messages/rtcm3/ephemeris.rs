//! Broadcast ephemerides: 1019 GPS, 1020 GLONASS, 1042 BeiDou, 1044 QZSS, 1045/1046 Galileo.
//!
//! Units: seconds, metres, radians and their rates. The standard gives angles in semicircles
//! with power-of-two scales (2^-31 sc); here the scale is 2^-31·π rad, which is not a power of
//! two, but every raw value is recovered exactly on encoding (the f64 product is within one ulp,
//! far inside half a step), and the round-trip test over every recorded frame checks it.
//! GLONASS positions come in km and go out in metres, the same way.
//!
//! Week numbers stay as transmitted (GPS/QZSS 10-bit, BDT 13-bit, GST 12-bit); the conversion
//! to [`crate::gnss::nav::Ephemeris`] resolves them against a reference time.

use std::f64::consts::PI;

use serde::Serialize;

use super::DecodeError;
use super::fields::fixed_message;
use crate::gnss::Gnss;
use crate::gnss::nav::{Ephemeris, OrbitParams, kepler_constants};
use crate::gnss::orbit::{GlonassState, Kepler};
use crate::gnss::time::{Gpst, SECONDS_PER_DAY};
use crate::messages::bits::{Df, p2};

/// Semicircles → radians, with a power-of-two semicircle step.
const fn sc(bits: u32, k: i32) -> Df {
    Df::i(bits, p2(k) * PI)
}

// GPS 1019 (DF009 … DF137).
const DF009: Df = Df::u(6, 1.0);
const DF076: Df = Df::u(10, 1.0);
const DF077: Df = Df::u(4, 1.0);
const DF078: Df = Df::u(2, 1.0);
/// IDOT, rad/s.
const DF079: Df = sc(14, -43);
const DF071: Df = Df::u(8, 1.0);
/// toc, s (16 s steps).
const DF081: Df = Df::u(16, 16.0);
const DF082: Df = Df::i(8, p2(-55));
const DF083: Df = Df::i(16, p2(-43));
const DF084: Df = Df::i(22, p2(-31));
const DF085: Df = Df::u(10, 1.0);
const DF086: Df = Df::i(16, p2(-5));
const DF087: Df = sc(16, -43);
const DF088: Df = sc(32, -31);
const DF089: Df = Df::i(16, p2(-29));
const DF090: Df = Df::u(32, p2(-33));
const DF091: Df = Df::i(16, p2(-29));
const DF092: Df = Df::u(32, p2(-19));
const DF093: Df = Df::u(16, 16.0);
const DF094: Df = Df::i(16, p2(-29));
const DF095: Df = sc(32, -31);
const DF096: Df = Df::i(16, p2(-29));
const DF097: Df = sc(32, -31);
const DF098: Df = Df::i(16, p2(-5));
const DF099: Df = sc(32, -31);
const DF100: Df = sc(24, -43);
const DF101: Df = Df::i(8, p2(-31));
const DF102: Df = Df::u(6, 1.0);
const BIT: Df = Df::u(1, 1.0);

fixed_message! {
    /// 1019: GPS LNAV ephemeris.
    GpsEph = 1019;
    sat: u8 = DF009,
    /// Week number modulo 1024.
    week: u16 = DF076,
    ura_index: u8 = DF077,
    code_on_l2: u8 = DF078,
    idot: f64 = DF079,
    iode: u8 = DF071,
    toc: f64 = DF081,
    af2: f64 = DF082,
    af1: f64 = DF083,
    af0: f64 = DF084,
    iodc: u16 = DF085,
    crs: f64 = DF086,
    delta_n: f64 = DF087,
    m0: f64 = DF088,
    cuc: f64 = DF089,
    e: f64 = DF090,
    cus: f64 = DF091,
    sqrt_a: f64 = DF092,
    toe: f64 = DF093,
    cic: f64 = DF094,
    omega0: f64 = DF095,
    cis: f64 = DF096,
    i0: f64 = DF097,
    crc: f64 = DF098,
    omega: f64 = DF099,
    omega_dot: f64 = DF100,
    tgd: f64 = DF101,
    health: u8 = DF102,
    l2p_data_flag: bool = BIT,
    fit_interval: bool = BIT,
}

// QZSS 1044 (DF429 … DF457).
const DF429: Df = Df::u(4, 1.0);
const DF453: Df = Df::u(4, 1.0);
const DF454: Df = Df::u(6, 1.0);

fixed_message! {
    /// 1044: QZSS ephemeris.
    QzsEph = 1044;
    /// Satellite ID (PRN − 192).
    sat: u8 = DF429,
    toc: f64 = DF081,
    af2: f64 = DF082,
    af1: f64 = DF083,
    af0: f64 = DF084,
    iode: u8 = DF071,
    crs: f64 = DF086,
    delta_n: f64 = DF087,
    m0: f64 = DF088,
    cuc: f64 = DF089,
    e: f64 = DF090,
    cus: f64 = DF091,
    sqrt_a: f64 = DF092,
    toe: f64 = DF093,
    cic: f64 = DF094,
    omega0: f64 = DF095,
    cis: f64 = DF096,
    i0: f64 = DF097,
    crc: f64 = DF098,
    omega: f64 = DF099,
    omega_dot: f64 = DF100,
    idot: f64 = DF079,
    code_on_l2: u8 = DF078,
    week: u16 = DF076,
    ura_index: u8 = DF453,
    health: u8 = DF454,
    tgd: f64 = DF101,
    iodc: u16 = DF085,
    fit_interval: bool = BIT,
}

// BeiDou 1042 (DF488 … DF515).
const DF488: Df = Df::u(6, 1.0);
const DF489: Df = Df::u(13, 1.0);
const DF490: Df = Df::u(4, 1.0);
const DF492: Df = Df::u(5, 1.0);
const DF493: Df = Df::u(17, 8.0);
const DF494: Df = Df::i(11, p2(-66));
const DF495: Df = Df::i(22, p2(-50));
const DF496: Df = Df::i(24, p2(-33));
const DF498: Df = Df::i(18, p2(-6));
const DF501: Df = Df::i(18, p2(-31));
const DF505: Df = Df::u(17, 8.0);
/// TGD1/TGD2: 0.1 ns, in s.
const DF513: Df = Df::i(10, 1e-10);

fixed_message! {
    /// 1042: BeiDou D1/D2 ephemeris (B1I navigation message).
    BdsEph = 1042;
    sat: u8 = DF488,
    /// BDT week (13 bits).
    week: u16 = DF489,
    urai: u8 = DF490,
    idot: f64 = DF079,
    aode: u8 = DF492,
    toc: f64 = DF493,
    a2: f64 = DF494,
    a1: f64 = DF495,
    a0: f64 = DF496,
    aodc: u8 = DF492,
    crs: f64 = DF498,
    delta_n: f64 = DF087,
    m0: f64 = DF088,
    cuc: f64 = DF501,
    e: f64 = DF090,
    cus: f64 = DF501,
    sqrt_a: f64 = DF092,
    toe: f64 = DF505,
    cic: f64 = DF501,
    omega0: f64 = DF095,
    cis: f64 = DF501,
    i0: f64 = DF097,
    crc: f64 = DF498,
    omega: f64 = DF099,
    omega_dot: f64 = DF100,
    /// B1I group delay (s).
    tgd1: f64 = DF513,
    /// B2I group delay (s).
    tgd2: f64 = DF513,
    /// Autonomous health: true = unhealthy.
    unhealthy: bool = BIT,
}

// Galileo 1045/1046 (DF252 … DF317).
const DF252: Df = Df::u(6, 1.0);
const DF289: Df = Df::u(12, 1.0);
const DF290: Df = Df::u(10, 1.0);
const DF291: Df = Df::u(8, 1.0);
const DF293: Df = Df::u(14, 60.0);
const DF294: Df = Df::i(6, p2(-59));
const DF295: Df = Df::i(21, p2(-46));
const DF296: Df = Df::i(31, p2(-34));
const DF312: Df = Df::i(10, p2(-32));
const SHS: Df = Df::u(2, 1.0);
const RES7: Df = Df::u(7, 1.0);
const RES2: Df = Df::u(2, 1.0);

fixed_message! {
    /// 1045: Galileo F/NAV ephemeris.
    GalFnav = 1045;
    sat: u8 = DF252,
    week: u16 = DF289,
    iodnav: u16 = DF290,
    sisa: u8 = DF291,
    idot: f64 = DF079,
    toc: f64 = DF293,
    af2: f64 = DF294,
    af1: f64 = DF295,
    af0: f64 = DF296,
    crs: f64 = DF086,
    delta_n: f64 = DF087,
    m0: f64 = DF088,
    cuc: f64 = DF089,
    e: f64 = DF090,
    cus: f64 = DF091,
    sqrt_a: f64 = DF092,
    toe: f64 = DF293,
    cic: f64 = DF094,
    omega0: f64 = DF095,
    cis: f64 = DF096,
    i0: f64 = DF097,
    crc: f64 = DF098,
    omega: f64 = DF099,
    omega_dot: f64 = DF100,
    bgd_e5a_e1: f64 = DF312,
    e5a_health: u8 = SHS,
    e5a_data_validity: bool = BIT,
    reserved: u8 = RES7,
}

fixed_message! {
    /// 1046: Galileo I/NAV ephemeris.
    GalInav = 1046;
    sat: u8 = DF252,
    week: u16 = DF289,
    iodnav: u16 = DF290,
    sisa: u8 = DF291,
    idot: f64 = DF079,
    toc: f64 = DF293,
    af2: f64 = DF294,
    af1: f64 = DF295,
    af0: f64 = DF296,
    crs: f64 = DF086,
    delta_n: f64 = DF087,
    m0: f64 = DF088,
    cuc: f64 = DF089,
    e: f64 = DF090,
    cus: f64 = DF091,
    sqrt_a: f64 = DF092,
    toe: f64 = DF293,
    cic: f64 = DF094,
    omega0: f64 = DF095,
    cis: f64 = DF096,
    i0: f64 = DF097,
    crc: f64 = DF098,
    omega: f64 = DF099,
    omega_dot: f64 = DF100,
    bgd_e5a_e1: f64 = DF312,
    bgd_e5b_e1: f64 = DF312,
    e5b_health: u8 = SHS,
    e5b_data_validity: bool = BIT,
    e1b_health: u8 = SHS,
    e1b_data_validity: bool = BIT,
    reserved: u8 = RES2,
}

/// 1045 or 1046.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum GalEph {
    Fnav(GalFnav),
    Inav(GalInav),
}

impl GalEph {
    pub fn number(&self) -> u16 {
        match self {
            GalEph::Fnav(_) => 1045,
            GalEph::Inav(_) => 1046,
        }
    }
    pub fn decode(payload: &[u8]) -> Result<Self, DecodeError> {
        match super::message_number(payload) {
            Some(1045) => GalFnav::decode(payload).map(GalEph::Fnav),
            _ => GalInav::decode(payload).map(GalEph::Inav),
        }
    }
    pub fn encode(&self) -> Vec<u8> {
        match self {
            GalEph::Fnav(m) => m.encode(),
            GalEph::Inav(m) => m.encode(),
        }
    }
}

// GLONASS 1020 (DF038 … DF136).
const DF038: Df = Df::u(6, 1.0);
const DF040: Df = Df::u(5, 1.0);
const DF106: Df = Df::u(2, 1.0);
const DF107: Df = Df::u(12, 1.0);
const DF110: Df = Df::u(7, 900.0);
/// Velocity: 2^-20 km/s in m/s.
const DF111: Df = Df::sm(24, p2(-20) * 1000.0);
/// Position: 2^-11 km in m.
const DF112: Df = Df::sm(27, p2(-11) * 1000.0);
/// Acceleration: 2^-30 km/s² in m/s².
const DF113: Df = Df::sm(5, p2(-30) * 1000.0);
const DF121: Df = Df::sm(11, p2(-40));
const DF124: Df = Df::sm(22, p2(-30));
const DF125: Df = Df::sm(5, p2(-30));
const DF126: Df = Df::u(5, 1.0);
const DF128: Df = Df::u(4, 1.0);
const DF129: Df = Df::u(11, 1.0);
const DF130: Df = Df::u(2, 1.0);
const DF132: Df = Df::u(11, 1.0);
const DF133: Df = Df::sm(32, p2(-31));
const DF134: Df = Df::u(5, 1.0);
const DF135: Df = Df::sm(22, p2(-30));

fixed_message! {
    /// 1020: GLONASS ephemeris (PZ-90 state vector at tb).
    GloEph = 1020;
    sat: u8 = DF038,
    /// Frequency channel + 7.
    channel_plus_7: u8 = DF040,
    almanac_health: bool = BIT,
    almanac_health_available: bool = BIT,
    p1: u8 = DF106,
    /// tk as transmitted: hours (5 bits), minutes (6 bits), 30-second flag.
    tk: u16 = DF107,
    bn_msb: bool = BIT,
    p2: bool = BIT,
    /// tb, seconds of the GLONASS day (15-minute steps).
    tb: f64 = DF110,
    vx: f64 = DF111,
    x: f64 = DF112,
    ax: f64 = DF113,
    vy: f64 = DF111,
    y: f64 = DF112,
    ay: f64 = DF113,
    vz: f64 = DF111,
    z: f64 = DF112,
    az: f64 = DF113,
    p3: bool = BIT,
    gamma_n: f64 = DF121,
    p: u8 = DF106,
    ln3: bool = BIT,
    tau_n: f64 = DF124,
    delta_tau_n: f64 = DF125,
    en: u8 = DF126,
    p4: bool = BIT,
    ft: u8 = DF128,
    nt: u16 = DF129,
    m: u8 = DF130,
    additional_data: bool = BIT,
    na: u16 = DF132,
    tau_c: f64 = DF133,
    n4: u8 = DF134,
    tau_gps: f64 = DF135,
    ln5: bool = BIT,
    reserved: u8 = RES7,
}

/// Keplerian elements of any of the Keplerian ephemeris structs (clock terms named per system).
macro_rules! kepler_of {
    ($m:expr, $af0:ident, $af1:ident, $af2:ident) => {
        crate::messages::kepler_elements!($m, toe, toc, $af0, $af1, $af2)
    };
}

impl GpsEph {
    /// The engine's view; the 10-bit week is resolved against `near`.
    pub fn to_ephemeris(&self, near: Gpst) -> Ephemeris {
        let week = near.full_gps_week(self.week as i64, 1024);
        kepler_ephemeris(
            Gnss::Gps,
            self.sat,
            week,
            kepler_of!(self, af0, af1, af2),
            self.iode as u32,
            self.health == 0,
            crate::gnss::nav::ura_m(self.ura_index),
            [self.tgd, 0.0],
            if self.fit_interval {
                4.0 * 3600.0
            } else {
                2.0 * 3600.0
            },
            near,
        )
    }
}

impl QzsEph {
    /// The engine's view (QZSS PRN = 192 + satellite ID).
    pub fn to_ephemeris(&self, near: Gpst) -> Ephemeris {
        let week = near.full_gps_week(self.week as i64, 1024);
        let k = kepler_of!(self, af0, af1, af2);
        kepler_ephemeris(
            Gnss::Qzss,
            self.sat.saturating_add(192),
            week,
            k,
            self.iode as u32,
            self.health == 0,
            crate::gnss::nav::ura_m(self.ura_index),
            [self.tgd, 0.0],
            2.0 * 3600.0,
            near,
        )
    }
}

impl BdsEph {
    /// The engine's view: BDT week and times; GEO satellites get the GEO orbit.
    pub fn to_ephemeris(&self, near: Gpst) -> Ephemeris {
        let k = kepler_of!(self, a0, a1, a2);
        let toe = nearest_week_time(near, Gpst::from_bdt(self.week as i64, self.toe));
        let toc = nearest_week_time(toe, Gpst::from_bdt(self.week as i64, self.toc));
        Ephemeris {
            sys: Gnss::Beidou,
            prn: self.sat,
            toe,
            toc,
            // AODE alone repeats; toe makes the set unique.
            iode: self.aode as u32,
            healthy: !self.unhealthy,
            accuracy_m: crate::gnss::nav::ura_m(self.urai),
            tgd: [self.tgd1, self.tgd2],
            fit_half_s: 2.0 * 3600.0,
            orbit: OrbitParams::Kepler {
                elements: k,
                constants: kepler_constants(Gnss::Beidou),
                beidou_geo: crate::gnss::is_beidou_geo(self.sat),
            },
        }
    }
}

impl GalEph {
    /// The engine's view (GST week = GPS week − 1024).
    pub fn to_ephemeris(&self, near: Gpst) -> Ephemeris {
        let (sat, week, iodnav, k, healthy, bgd, sisa) = match self {
            GalEph::Inav(m) => (
                m.sat,
                m.week,
                m.iodnav,
                kepler_of!(m, af0, af1, af2),
                m.e1b_health == 0 && m.e5b_health == 0,
                [m.bgd_e5a_e1, m.bgd_e5b_e1],
                m.sisa,
            ),
            GalEph::Fnav(m) => (
                m.sat,
                m.week,
                m.iodnav,
                kepler_of!(m, af0, af1, af2),
                m.e5a_health == 0,
                [m.bgd_e5a_e1, 0.0],
                m.sisa,
            ),
        };
        let toe = nearest_week_time(near, Gpst::from_gst(week as i64, k.toe));
        let toc = nearest_week_time(toe, Gpst::from_gst(week as i64, k.toc));
        Ephemeris {
            sys: Gnss::Galileo,
            prn: sat,
            toe,
            toc,
            iode: iodnav as u32,
            healthy,
            accuracy_m: crate::gnss::nav::sisa_m(sisa),
            tgd: bgd,
            fit_half_s: 4.0 * 3600.0,
            orbit: OrbitParams::Kepler {
                elements: k,
                constants: kepler_constants(Gnss::Galileo),
                beidou_geo: false,
            },
        }
    }
}

impl GloEph {
    /// Frequency channel (−7 … +6).
    pub fn channel(&self) -> i8 {
        self.channel_plus_7 as i8 - 7
    }

    /// The engine's view: tb (GLONASS time of day) resolved to the day nearest `near`.
    pub fn to_ephemeris(&self, near: Gpst) -> Ephemeris {
        // tb counts the GLONASST day (UTC + 3 h): step from the reference's GLONASS time of day.
        let (_, tod_near) = near.glonass_day_tod();
        let mut toe = near.add(self.tb - tod_near);
        let d = toe.diff(near);
        if d > SECONDS_PER_DAY as f64 / 2.0 {
            toe = toe.add(-(SECONDS_PER_DAY as f64));
        } else if d < -(SECONDS_PER_DAY as f64) / 2.0 {
            toe = toe.add(SECONDS_PER_DAY as f64);
        }
        Ephemeris {
            sys: Gnss::Glonass,
            prn: self.sat,
            toe,
            toc: toe,
            iode: (self.tb / 900.0) as u32,
            healthy: !self.bn_msb,
            accuracy_m: None,
            tgd: [self.delta_tau_n, 0.0],
            fit_half_s: 15.0 * 60.0 + 60.0,
            orbit: OrbitParams::Glonass {
                state: GlonassState {
                    pos: [self.x, self.y, self.z],
                    vel: [self.vx, self.vy, self.vz],
                    acc: [self.ax, self.ay, self.az],
                    tau_n: self.tau_n,
                    gamma_n: self.gamma_n,
                },
                channel: self.channel(),
                nodes: Default::default(),
            },
        }
    }
}

/// Of `t ± k weeks`, the one nearest `near` (for week fields that may lag at rollover).
fn nearest_week_time(near: Gpst, t: Gpst) -> Gpst {
    let w = 604_800.0;
    let k = (near.diff(t) / w).round();
    t.add(k * w)
}

#[allow(clippy::too_many_arguments)]
fn kepler_ephemeris(
    sys: Gnss,
    prn: u8,
    week: i64,
    k: Kepler,
    iode: u32,
    healthy: bool,
    accuracy_m: Option<f64>,
    tgd: [f64; 2],
    fit_s: f64,
    near: Gpst,
) -> Ephemeris {
    let toe = nearest_week_time(near, Gpst::from_week_tow(week, k.toe));
    let toc = nearest_week_time(toe, Gpst::from_week_tow(week, k.toc));
    Ephemeris {
        sys,
        prn,
        toe,
        toc,
        iode,
        healthy,
        accuracy_m,
        tgd,
        fit_half_s: fit_s / 2.0 + 3600.0,
        orbit: OrbitParams::Kepler {
            elements: k,
            constants: kepler_constants(sys),
            beidou_geo: false,
        },
    }
}
