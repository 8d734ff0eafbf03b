//! A receiver antenna's correction along a line of sight, the direction prepared once for all
//! of a satellite's bands.

use nalgebra::Vector3;

use super::{Antenna, AntexError, FreqCal, FreqUse, RangeCorrection};
use crate::gnss::Gnss;

/// A receiver's line of sight to a satellite as the calibrations are tabulated: the unit
/// vector (east/north/up) and its zenith and azimuth angles (degrees).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineOfSight {
    e: Vector3<f64>,
    zenith: f64,
    azimuth: f64,
}

impl LineOfSight {
    /// From a line of sight `los_enu` (receiver → satellite, east/north/up; normalised here).
    pub fn new(los_enu: &Vector3<f64>) -> Result<LineOfSight, AntexError> {
        let e = los_enu
            .try_normalize(1e-12)
            .filter(|e| e.iter().all(|v| v.is_finite()))
            .ok_or(AntexError::BadDirection {
                east: los_enu.x,
                north: los_enu.y,
                up: los_enu.z,
            })?;
        Ok(LineOfSight {
            e,
            zenith: e.z.clamp(-1.0, 1.0).acos().to_degrees(),
            azimuth: e.x.atan2(e.y).to_degrees().rem_euclid(360.0),
        })
    }
}

impl Antenna {
    /// Receiver antenna range correction (m) for a signal along the unit line of sight
    /// `los_enu` (receiver → satellite, local east/north/up): `−PCO·e + PCV(zenith, azimuth)`.
    pub fn receiver_correction(
        &self,
        sys: Gnss,
        band: u8,
        los_enu: &Vector3<f64>,
    ) -> Result<RangeCorrection, AntexError> {
        let (f, used) = self.frequency(sys, band)?;
        let d = LineOfSight::new(los_enu)?;
        Ok(self.correction(f, used, &d))
    }

    /// [`Antenna::receiver_correction`] along a line of sight prepared once for every band.
    pub fn receiver_correction_toward(
        &self,
        sys: Gnss,
        band: u8,
        d: &LineOfSight,
    ) -> Result<RangeCorrection, AntexError> {
        let (f, used) = self.frequency(sys, band)?;
        Ok(self.correction(f, used, d))
    }

    fn correction(&self, f: &FreqCal, used: FreqUse, d: &LineOfSight) -> RangeCorrection {
        // PCO is stored north, east, up.
        let pco_enu = Vector3::new(f.pco.y, f.pco.x, f.pco.z);
        RangeCorrection {
            metres: -pco_enu.dot(&d.e) + self.pcv(f, d.zenith, d.azimuth),
            freq: used,
        }
    }
}
