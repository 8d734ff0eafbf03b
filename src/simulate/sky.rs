//! The simulated sky: a built-in constellation and the observables a receiver would measure.
//!
//! The constellations follow each system's published nominal geometry (orbit radius,
//! inclination, planes and slots: GPS 6×4, GLONASS 3×8, Galileo Walker 24/3/1, BeiDou-3 MEO
//! Walker 24/3/1 plus IGSO and GEO at their assigned longitudes, QZSS quasi-zenith orbits), so
//! that a station anywhere sees a realistic number and mix of satellites, BeiDou GEOs included
//! over Asia. Slot phasings and small eccentricities are fixed numbers, not random: the sky is
//! the same on every run.
//!
//! Observables are computed from the *broadcast* orbits the stream carries (after quantisation
//! to the RTCM fields), so that a decoder + SPP engine can reproduce the station position from
//! the simulated stream to the millimetre when noise is off.

use nalgebra::Vector3;

use crate::gnss::Gnss;
use crate::gnss::atmosphere::{Klobuchar, troposphere_delay};
use crate::gnss::geodesy::{ecef_to_geodetic, elevation_azimuth};
use crate::gnss::orbit::{
    BEIDOU_CONSTANTS, C, GALILEO_CONSTANTS, GLONASS_OMEGA_E, GPS_CONSTANTS, Kepler,
    SystemConstants, earth_rotation,
};
use crate::gnss::time::Gpst;

/// One simulated signal: RTCM MSM signal ID and carrier frequency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimSignal {
    pub msm_id: u8,
    pub freq_hz: f64,
}

/// How a simulated satellite moves.
#[derive(Clone, Debug, PartialEq)]
pub enum SimOrbit {
    Kepler {
        elements: Kepler,
        constants: SystemConstants,
        beidou_geo: bool,
    },
    /// GLONASS: a circular orbit (inertial elements) from which broadcast state vectors are made.
    Glonass { elements: Kepler, channel: i8 },
}

/// A satellite of the built-in sky.
#[derive(Clone, Debug, PartialEq)]
pub struct SimSat {
    pub sys: Gnss,
    pub prn: u8,
    pub orbit: SimOrbit,
    pub signals: Vec<SimSignal>,
}

const GPS_L1: f64 = 1_575.42e6;
const GPS_L2: f64 = 1_227.60e6;
const GPS_L5: f64 = 1_176.45e6;
const GAL_E5B: f64 = 1_207.14e6;
const BDS_B1I: f64 = 1_561.098e6;
const BDS_B3I: f64 = 1_268.52e6;

/// Carrier wavelength (m).
pub fn wavelength(freq_hz: f64) -> f64 {
    C / freq_hz
}

fn sig(msm_id: u8, freq_hz: f64) -> SimSignal {
    SimSignal { msm_id, freq_hz }
}

/// GLONASS FDMA frequencies for a channel number.
pub fn glonass_freqs(channel: i8) -> (f64, f64) {
    let k = channel as f64;
    (1_602e6 + k * 0.5625e6, 1_246e6 + k * 0.4375e6)
}

fn circular(a: f64, inc_deg: f64, raan_deg: f64, arg_lat_deg: f64, e: f64) -> Kepler {
    Kepler {
        sqrt_a: a.sqrt(),
        e,
        i0: inc_deg.to_radians(),
        omega0: raan_deg.to_radians(),
        omega: 0.0,
        m0: arg_lat_deg.to_radians(),
        ..Default::default()
    }
}

/// The built-in sky for the given systems.
pub fn constellation(systems: &[Gnss]) -> Vec<SimSat> {
    let mut sats = Vec::new();
    let want = |g| systems.contains(&g);
    if want(Gnss::Gps) {
        // 6 planes × 4 slots; slot phasing offset between planes as in the nominal 24-slot
        // constellation.
        for plane in 0..6 {
            for slot in 0..4 {
                let prn = (plane * 4 + slot + 1) as u8;
                let mut el = circular(
                    26_559_700.0,
                    55.0,
                    plane as f64 * 60.0 + 12.0,
                    slot as f64 * 90.0 + plane as f64 * 15.0 + 5.0,
                    0.005 + 0.001 * slot as f64,
                );
                el.omega_dot = -8.0e-9;
                el.af0 = 1.0e-5 * ((prn as f64 * 1.7).sin());
                el.af1 = 1.0e-12 * ((prn as f64 * 0.3).cos());
                sats.push(SimSat {
                    sys: Gnss::Gps,
                    prn,
                    orbit: SimOrbit::Kepler {
                        elements: el,
                        constants: GPS_CONSTANTS,
                        beidou_geo: false,
                    },
                    signals: vec![sig(2, GPS_L1), sig(10, GPS_L2), sig(24, GPS_L5)],
                });
            }
        }
    }
    if want(Gnss::Glonass) {
        for plane in 0..3 {
            for slot in 0..8 {
                let n = plane * 8 + slot + 1;
                // Antipodal slots share a channel, as in the real FDMA plan.
                let channel = [
                    1i8, -4, 5, 6, 1, -4, 5, 6, -2, -7, 0, -1, -2, -7, 0, -1, 4, -3, 3, 2, 4, -3,
                    3, 2,
                ][n - 1];
                let el = circular(
                    25_510_000.0,
                    64.8,
                    plane as f64 * 120.0 + 40.0,
                    slot as f64 * 45.0 + plane as f64 * 15.0,
                    0.0,
                );
                let (g1, g2) = glonass_freqs(channel);
                sats.push(SimSat {
                    sys: Gnss::Glonass,
                    prn: n as u8,
                    orbit: SimOrbit::Glonass {
                        elements: el,
                        channel,
                    },
                    signals: vec![sig(2, g1), sig(8, g2)],
                });
            }
        }
    }
    if want(Gnss::Galileo) {
        for plane in 0..3 {
            for slot in 0..8 {
                let prn = (plane * 8 + slot + 1) as u8;
                let mut el = circular(
                    29_600_000.0,
                    56.0,
                    plane as f64 * 120.0 + 25.0,
                    slot as f64 * 45.0 + plane as f64 * 15.0,
                    0.0002,
                );
                el.af0 = -2.0e-5 * ((prn as f64 * 0.9).sin());
                sats.push(SimSat {
                    sys: Gnss::Galileo,
                    prn,
                    orbit: SimOrbit::Kepler {
                        elements: el,
                        constants: GALILEO_CONSTANTS,
                        beidou_geo: false,
                    },
                    signals: vec![sig(2, GPS_L1), sig(23, GPS_L5), sig(15, GAL_E5B)],
                });
            }
        }
    }
    if want(Gnss::Beidou) {
        let bds2 = vec![sig(2, BDS_B1I), sig(8, BDS_B3I), sig(14, GAL_E5B)];
        let bds3 = vec![
            sig(2, BDS_B1I),
            sig(8, BDS_B3I),
            sig(24, GPS_L5),
            sig(32, GPS_L1),
        ];
        // GEO: C01 140°E, C02 80°E, C03 110.5°E, C04 160°E, C05 58.75°E (broadcast in the −5°
        // tilted frame; node at 180° so that the tilt brings them back to the equator).
        for (prn, lon) in [(1u8, 140.0), (2, 80.0), (3, 110.5), (4, 160.0), (5, 58.75)] {
            let el = Kepler {
                sqrt_a: 42_164_200f64.sqrt(),
                e: 0.0004,
                i0: 5f64.to_radians(),
                omega0: std::f64::consts::PI,
                m0: (lon - 180.0f64).to_radians(),
                af0: 3.0e-4 * (prn as f64).cos(),
                ..Default::default()
            };
            sats.push(SimSat {
                sys: Gnss::Beidou,
                prn,
                orbit: SimOrbit::Kepler {
                    elements: el,
                    constants: BEIDOU_CONSTANTS,
                    beidou_geo: true,
                },
                signals: bds2.clone(),
            });
        }
        // IGSO C06–C10 (BDS-2) and C38–C40 (BDS-3): 55°, crossing near 118°E / 95°E.
        for (k, prn) in [6u8, 7, 8, 9, 10, 38, 39, 40].into_iter().enumerate() {
            let cross = if k % 2 == 0 { 118.0 } else { 95.0 };
            let mut el = circular(
                42_164_200.0,
                55.0,
                cross + (k as f64) * 120.0,
                k as f64 * 120.0,
                0.003,
            );
            // An IGSO's ground track stays near its crossing longitude: its node is fixed in the
            // Earth frame, which the Kepler formula expresses through Ω0 at the epoch.
            el.omega_dot = 0.0;
            sats.push(SimSat {
                sys: Gnss::Beidou,
                prn,
                orbit: SimOrbit::Kepler {
                    elements: el,
                    constants: BEIDOU_CONSTANTS,
                    beidou_geo: false,
                },
                signals: if prn < 19 { bds2.clone() } else { bds3.clone() },
            });
        }
        // MEO: C11–C14 (BDS-2) and BDS-3 C19–C30, C32–C37 in a Walker 24/3/1.
        let meo: [u8; 22] = [
            11, 12, 14, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 32, 33, 34, 35, 36, 37, 13,
        ];
        for (k, prn) in meo.into_iter().enumerate() {
            let (plane, slot) = (k % 3, k / 3);
            let el = circular(
                27_906_100.0,
                55.0,
                plane as f64 * 120.0 + 70.0,
                slot as f64 * 45.0 + plane as f64 * 15.0,
                0.0008,
            );
            sats.push(SimSat {
                sys: Gnss::Beidou,
                prn,
                orbit: SimOrbit::Kepler {
                    elements: el,
                    constants: BEIDOU_CONSTANTS,
                    beidou_geo: false,
                },
                signals: if prn < 19 { bds2.clone() } else { bds3.clone() },
            });
        }
    }
    if want(Gnss::Qzss) {
        // Quasi-zenith orbits centred on 135°E; J01–J03.
        for (k, prn) in [1u8, 2, 3].into_iter().enumerate() {
            let el = circular(
                42_164_200.0,
                41.0,
                195.0 + k as f64 * 120.0,
                k as f64 * 120.0,
                0.075,
            );
            sats.push(SimSat {
                sys: Gnss::Qzss,
                prn,
                orbit: SimOrbit::Kepler {
                    elements: el,
                    constants: GPS_CONSTANTS,
                    beidou_geo: false,
                },
                signals: vec![sig(2, GPS_L1), sig(16, GPS_L2), sig(24, GPS_L5)],
            });
        }
    }
    sats
}

/// What a receiver measures on one signal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SignalObs {
    pub msm_id: u8,
    pub freq_hz: f64,
    /// Pseudorange (m).
    pub pseudorange_m: f64,
    /// Carrier phase as a range (m): phase cycles × wavelength.
    pub phase_range_m: f64,
    /// Range rate (m/s), the negative Doppler times the wavelength.
    pub range_rate_mps: f64,
    pub cn0_dbhz: f64,
}

/// One satellite seen at one epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct SatObs {
    pub sys: Gnss,
    pub prn: u8,
    pub elevation: f64,
    pub azimuth: f64,
    pub signals: Vec<SignalObs>,
}

/// The broadcast orbit the observables are computed from: the one decoded from the stream.
pub type Broadcast = crate::gnss::nav::Ephemeris;

fn omega_e(b: &Broadcast) -> f64 {
    match &b.orbit {
        crate::gnss::nav::OrbitParams::Kepler { constants, .. } => constants.omega_e,
        crate::gnss::nav::OrbitParams::Glonass { .. } => GLONASS_OMEGA_E,
    }
}

/// Geometric range (m), satellite clock (s) and range rate (m/s) for a receiver at `rcv` at
/// reception time `t_rx`, solving for the transmission time and the Earth's rotation meanwhile.
pub fn geometry(b: &Broadcast, rcv: &Vector3<f64>, t_rx: Gpst) -> (f64, f64, Vector3<f64>, f64) {
    let at = |t_rx: Gpst| {
        let mut tau = 0.075;
        let mut rho = 0.0;
        let mut sat = Vector3::zeros();
        let mut clk = 0.0;
        for _ in 0..5 {
            let (p, c) = b.position_clock(t_rx.add(-tau));
            sat = earth_rotation(&p, omega_e(b), tau);
            rho = (sat - rcv).norm();
            clk = c;
            tau = rho / C;
        }
        (rho, clk, sat)
    };
    let (rho, clk, sat) = at(t_rx);
    let (rho2, _, _) = at(t_rx.add(0.5));
    let (rho0, _, _) = at(t_rx.add(-0.5));
    (rho, clk, sat, rho2 - rho0)
}

/// Deterministic noise source (xorshift64*), so that a seed gives the same stream everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// The ionosphere the simulator puts on the signals (a fixed, plausible daytime set); the engine
/// is told about it only through a navigation source, never by default.
pub const SIM_KLOBUCHAR: Klobuchar = Klobuchar {
    alpha: [1.1176e-8, 1.4901e-8, -5.9605e-8, -1.1921e-7],
    beta: [9.0112e4, 9.8304e4, -6.5536e4, -5.2429e5],
};

/// The simulator's ionosphere as a smooth field: Klobuchar's geometry and coefficients with the
/// cosine the broadcast model approximates, not its truncated series, which jumps by 2 % of the
/// amplitude where a pierce point crosses into the night value. Two receivers a few hundred
/// metres apart cross it a second or more apart, which would put a false slip of up to a cycle
/// into their double differences; the real ionosphere has no such edge.
pub fn smooth_ionosphere_l1(k: &Klobuchar, lat: f64, lon: f64, el: f64, az: f64, tow: f64) -> f64 {
    use std::f64::consts::PI;
    let e = el / PI;
    let psi = 0.0137 / (e + 0.11) - 0.022;
    let phi_i = (lat / PI + psi * az.cos()).clamp(-0.416, 0.416);
    let lam_i = lon / PI + psi * az.sin() / (phi_i * PI).cos();
    let phi_m = phi_i + 0.064 * ((lam_i - 1.617) * PI).cos();
    let t = (4.32e4 * lam_i + tow).rem_euclid(86_400.0);
    let f = 1.0 + 16.0 * (0.53 - e).powi(3);
    let poly = |c: &[f64; 4]| c.iter().rev().fold(0.0, |acc, a| acc * phi_m + a);
    let amp = poly(&k.alpha).max(0.0);
    let per = poly(&k.beta).max(72_000.0);
    let x = 2.0 * PI * (t - 50_400.0) / per;
    f * (5e-9 + amp * x.cos().max(0.0)) * C
}

/// Options of the observation model.
#[derive(Clone, Debug, PartialEq)]
pub struct ObsModel {
    /// Elevation mask (rad).
    pub mask: f64,
    /// Add white code (0.3 m at zenith) and phase (2 mm) noise.
    pub noise: bool,
    /// Add code multipath (slowly varying, elevation dependent).
    pub multipath: bool,
    /// Add the ionosphere (Klobuchar, scaled by 1/f²).
    pub ionosphere: bool,
    /// Add the troposphere.
    pub troposphere: bool,
    /// Two receivers compared by double differences: the noise from each signal's C/N0 (a
    /// tracking loop's thermal noise) rather than from the elevation, and the ionosphere from
    /// [`smooth_ionosphere_l1`].
    pub pair_model: bool,
    /// A flat reflecting ground below the antenna: per azimuth sector, its start (degrees) and
    /// the antenna's height above it (m). Empty: no reflection.
    pub reflector: Vec<(f64, f64)>,
}

/// Amplitude of the ground reflection relative to the direct signal.
pub const REFLECTION_RATIO: f64 = 0.3;

/// The C/N0 change (dB) from the direct signal interfering with its reflection off a flat
/// ground `h` metres below the antenna: the reflected path is longer by 2·h·sin(el).
pub fn reflection_db(h: f64, el: f64, wavelength_m: f64) -> f64 {
    let psi = 4.0 * std::f64::consts::PI * h * el.sin() / wavelength_m;
    let a = REFLECTION_RATIO;
    10.0 * (1.0 + a * a + 2.0 * a * psi.cos()).log10()
}

/// The reflector height of a sector list at an azimuth (degrees).
pub fn reflector_height(sectors: &[(f64, f64)], az_deg: f64) -> Option<f64> {
    let az = az_deg.rem_euclid(360.0);
    sectors
        .iter()
        .rev()
        .find(|(from, _)| az >= *from)
        .or(sectors.last())
        .map(|(_, h)| *h)
}

/// What the surroundings do to one satellite's signals at the antenna.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sight {
    /// Signal loss (dB).
    pub loss_db: f64,
    /// Code multipath (m), on every signal.
    pub code_m: f64,
    /// Carrier-phase error from diffraction and multipath (cycles, the same fraction of every
    /// carrier's cycle).
    pub phase_cycles: f64,
}

/// The receiver's side of one observation.
pub struct Reception<'a> {
    /// Antenna, ECEF (m).
    pub position: Vector3<f64>,
    /// Antenna velocity, ECEF (m/s).
    pub velocity: Vector3<f64>,
    /// Receiver clock offset as a range (m), on code and phase alike.
    pub clock_m: f64,
    /// The surroundings' effect on a satellite at an elevation (rad) with a nominal C/N0
    /// (dB-Hz); `None` where the line of sight is blocked.
    pub sight: &'a dyn Fn(f64, f64) -> Option<Sight>,
    /// Further range terms per signal of a satellite whose centre of mass is at the given
    /// position (ECEF of the reception instant): (code and phase, phase only), in metres; see
    /// [`super::precise::Precise::terms`].
    pub terms: Option<&'a SatTerms<'a>>,
}

/// Per signal of a satellite at a position: (code and phase, phase only) range terms (m).
pub type SatTerms<'a> = dyn Fn(&Vector3<f64>) -> Vec<(f64, f64)> + 'a;

/// Thermal noise of a phase-lock loop (m) at C/N0 `cn0` (dB-Hz): σ = √(B/(C/N0)) rad over a
/// 10 Hz loop bandwidth, 1 mm at 50 dB-Hz, 5 mm at 25 dB-Hz on L1.
pub fn phase_sigma_m(cn0: f64, wavelength_m: f64) -> f64 {
    (10.0 / 10f64.powf(cn0 / 10.0)).sqrt() / std::f64::consts::TAU * wavelength_m
}

/// Thermal noise of a code-lock loop (m) at C/N0 `cn0` (dB-Hz): a 0.1-chip correlator on a
/// 293 m chip with a 0.5 Hz loop, 0.25 m at 45 dB-Hz, 1.5 m at 30 dB-Hz.
pub fn code_sigma_m(cn0: f64) -> f64 {
    293.05 * (0.025 / 10f64.powf(cn0 / 10.0)).sqrt()
}

/// Observe one satellite; `None` below the mask.
pub fn observe(
    sat: &SimSat,
    b: &Broadcast,
    rx: &Reception,
    t_rx: Gpst,
    model: &ObsModel,
    ambiguity_m: &dyn Fn(u8) -> f64,
    rng: &mut Rng,
) -> Option<SatObs> {
    let rcv = &rx.position;
    let (rho, clk, sat_pos, rate) = geometry(b, rcv, t_rx);
    let (el, az) = elevation_azimuth(rcv, &sat_pos);
    if el < model.mask {
        return None;
    }
    let nominal_cn0 = (32.0 + 18.0 * el.sin()).min(53.0);
    let sight = (rx.sight)(el, nominal_cn0)?;
    let cn0 = nominal_cn0 - sight.loss_db;
    // The antenna's own motion along the line of sight.
    let rate = rate - (sat_pos - rcv).normalize().dot(&rx.velocity);
    let g = ecef_to_geodetic(rcv);
    let tropo = if model.troposphere {
        troposphere_delay(g.lat, g.h, el)
    } else {
        0.0
    };
    let iono_l1 = if model.ionosphere && model.pair_model {
        smooth_ionosphere_l1(&SIM_KLOBUCHAR, g.lat, g.lon, el, az, t_rx.tow())
    } else if model.ionosphere {
        SIM_KLOBUCHAR.delay_l1(g.lat, g.lon, el, az, t_rx.tow())
    } else {
        0.0
    };
    let sin_el = el.sin();
    let base = rho - C * clk + tropo + rx.clock_m;
    let terms = rx.terms.map(|f| f(&sat_pos)).unwrap_or_default();
    let group_delay = |id: u8| {
        crate::messages::rtcm3::msm::signal_code(sat.sys, id)
            .and_then(crate::gnss::obs::SignalCode::new)
            .map(|code| crate::gnss::spp::group_delay_m(b, code))
            .unwrap_or(0.0)
    };
    let signals = sat
        .signals
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (both, phase_only) = terms.get(i).copied().unwrap_or((0.0, 0.0));
            let iono = iono_l1 * (GPS_L1 / s.freq_hz).powi(2);
            let mut code_err = sight.code_m;
            let mut phase_err = sight.phase_cycles * wavelength(s.freq_hz);
            if model.noise && model.pair_model {
                code_err += code_sigma_m(cn0) * rng.normal();
                phase_err += phase_sigma_m(cn0, wavelength(s.freq_hz)) * rng.normal();
            } else if model.noise {
                code_err += 0.3 / sin_el.max(0.1) * rng.normal();
                phase_err += 0.002 / sin_el.max(0.1) * rng.normal();
            }
            if model.multipath {
                let f = (t_rx.as_f64() / 300.0 + sat.prn as f64 + s.msm_id as f64).sin();
                code_err += 0.5 * (1.0 - sin_el) * f;
            }
            let cn0 = match reflector_height(&model.reflector, az.to_degrees()) {
                Some(h) => cn0 + reflection_db(h, el, wavelength(s.freq_hz)),
                None => cn0,
            };
            SignalObs {
                msm_id: s.msm_id,
                freq_hz: s.freq_hz,
                pseudorange_m: base + both + iono + code_err + group_delay(s.msm_id),
                phase_range_m: base + both + phase_only - iono + phase_err + ambiguity_m(s.msm_id),
                range_rate_mps: rate,
                cn0_dbhz: cn0,
            }
        })
        .collect();
    Some(SatObs {
        sys: sat.sys,
        prn: sat.prn,
        elevation: el,
        azimuth: az,
        signals,
    })
}
