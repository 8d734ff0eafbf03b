//! The undifferenced model of one receiver: where each satellite was when it sent the signal,
//! the geometric range, troposphere, antenna phase centres, solid Earth tide and phase wind-up.
//! Over a short baseline most of it cancels in the differences, but nothing here assumes a
//! short baseline.

use nalgebra::{Matrix3, Vector3};

use crate::gnss::Gnss;
use crate::gnss::antex::{Antenna, Antex, LineOfSight};
use crate::gnss::atmosphere::{saastamoinen_zenith, tropo_mapping};
use crate::gnss::geodesy::{ecef_to_geodetic, enu_rotation};
use crate::gnss::nav::Ephemeris;
use crate::gnss::orbit::C;
use crate::gnss::spp::omega_e;
use crate::gnss::tide::solid_earth_tide;
use crate::gnss::time::Gpst;

/// A receiver's frame at one epoch.
#[derive(Clone, Debug)]
pub struct Station {
    /// Antenna reference point moved by the solid Earth tide (ECEF, m).
    pub pos: Vector3<f64>,
    /// ECEF → east/north/up.
    pub rot: Matrix3<f64>,
    /// Zenith tropospheric delay (m).
    pub zenith: f64,
}

impl Station {
    pub fn at(arp: Vector3<f64>, t: Gpst, tide: bool) -> Station {
        let pos = if tide {
            arp + solid_earth_tide(&arp, t).unwrap_or_else(Vector3::zeros)
        } else {
            arp
        };
        let geo = ecef_to_geodetic(&pos);
        let (zhd, zwd) = saastamoinen_zenith(geo.lat, geo.h);
        Station {
            pos,
            rot: enu_rotation(&geo),
            zenith: zhd + zwd,
        }
    }
}

/// One satellite seen from one receiver.
#[derive(Clone, Copy, Debug)]
pub struct SatView {
    /// Satellite centre of mass at transmission (ECEF of the reception instant's frame... see
    /// `range`).
    pub sat: Vector3<f64>,
    /// Geometric range with the Earth's rotation during the travel (m).
    pub range: f64,
    /// Unit vector receiver → satellite (ECEF).
    pub unit: Vector3<f64>,
    /// The same in east/north/up.
    pub los_enu: Vector3<f64>,
    pub sin_el: f64,
    /// Satellite clock offset (s).
    pub clock_s: f64,
}

/// The satellite as seen by a receiver at `st`, dated by the pseudorange `pr` received at `t`.
pub fn view(st: &Station, eph: &Ephemeris, t: Gpst, pr: f64) -> Option<SatView> {
    let dt = t.diff(eph.toe) - pr / C;
    let clk0 = eph.clock_approx_after(dt);
    let (sat, clock_s) = eph.position_clock_after(dt - clk0);
    geometry(st, sat, clock_s, omega_e(eph))
}

/// The line of sight to a satellite at `sat` (ECEF of its transmission instant) for a receiver
/// at `st`, with the Earth's rotation `omega` (rad/s) during the travel as the Sagnac term.
/// Shared by broadcast and precise orbits.
pub fn geometry(st: &Station, sat: Vector3<f64>, clock_s: f64, omega: f64) -> Option<SatView> {
    let d = sat - st.pos;
    let rho = d.norm();
    if !(rho.is_finite() && rho > 1.0e6) {
        return None;
    }
    let sagnac = omega * (sat.x * st.pos.y - sat.y * st.pos.x) / C;
    let unit = d / rho;
    let los_enu = st.rot * unit;
    Some(SatView {
        sat,
        range: rho + sagnac,
        unit,
        los_enu,
        sin_el: los_enu.z,
        clock_s,
    })
}

/// Antenna models of the two receivers and the satellites.
#[derive(Clone, Debug, Default)]
pub struct Antennas {
    pub rover: Option<Antenna>,
    pub base: Option<Antenna>,
    /// The ANTEX file for satellite phase-centre offsets, shared (it is megabytes).
    pub satellites: Option<std::sync::Arc<Antex>>,
}

/// Model terms of one signal that differ per receiver (m, to add to the geometric range):
/// satellite clock, troposphere, receiver antenna (PCO and PCV, along `los`, the line of sight
/// [`receiver_los`] prepared once for the satellite's bands) and satellite PCO.
pub fn range_terms(
    st: &Station,
    v: &SatView,
    sys: Gnss,
    band: u8,
    antenna: Option<(&Antenna, &LineOfSight)>,
    sat_pco: Option<&Vector3<f64>>,
) -> f64 {
    let tropo = if v.sin_el > 0.0 {
        st.zenith * tropo_mapping(v.sin_el)
    } else {
        0.0
    };
    let rcv = antenna
        .and_then(|(a, los)| a.receiver_correction_toward(sys, band, los).ok())
        .map_or(0.0, |c| c.metres);
    -C * v.clock_s + tropo + rcv + satellite_term(v, sat_pco)
}

/// A receiver's calibration with its line of sight to a satellite, when both exist.
pub fn receiver_los<'a>(
    antenna: Option<&'a Antenna>,
    v: &SatView,
) -> Option<(&'a Antenna, LineOfSight)> {
    let a = antenna?;
    LineOfSight::new(&v.los_enu).ok().map(|d| (a, d))
}

/// Phase-centre terms of one signal (m, to add to the geometric range): the receiver antenna's
/// PCO and PCV, and the satellite's PCO. Without a receiver calibration the term is zero.
pub fn antenna_terms(
    v: &SatView,
    sys: Gnss,
    band: u8,
    antenna: Option<&Antenna>,
    sat_pco: Option<&Vector3<f64>>,
) -> f64 {
    let rcv = antenna
        .and_then(|a| a.receiver_correction(sys, band, &v.los_enu).ok())
        .map_or(0.0, |c| c.metres);
    rcv + satellite_term(v, sat_pco)
}

/// The phase centre sits `pco` from the centre of mass: the range shortens by its projection
/// on the direction to the receiver.
fn satellite_term(v: &SatView, sat_pco: Option<&Vector3<f64>>) -> f64 {
    sat_pco.map_or(0.0, |p| p.dot(&v.unit))
}

/// Satellite PCO (ECEF, m) of a band under nominal yaw steering, when the ANTEX file has the
/// satellite valid at `t`.
pub fn satellite_pco(
    antex: &Antex,
    sys: Gnss,
    prn: u8,
    band: u8,
    t: Gpst,
    sat: &Vector3<f64>,
    sun: &Vector3<f64>,
) -> Option<Vector3<f64>> {
    let a = antex.satellite(sys, prn, t).ok()?;
    a.satellite_pco_ecef(sys, band, sat, sun)
        .ok()
        .flatten()
        .map(|(p, _)| p)
}
