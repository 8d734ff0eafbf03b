//! `[station]` into the station's settings.

use nalgebra::Vector3;

use super::{Validator, raw};
use crate::station::StationSettings;

impl Validator<'_> {
    pub(super) fn station(&mut self, raw: raw::RawStation) -> StationSettings {
        let name = raw.name.to_ascii_uppercase();
        if name.len() != 4 || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            self.err(
                "station",
                None,
                "name",
                format!(
                    "{:?}: the site id is 4 letters or digits (it names RINEX files and tags)",
                    raw.name
                ),
            );
        }
        let position = raw.position.map(|p| Vector3::new(p.x, p.y, p.z));
        if let Some(p) = position {
            let r = p.norm();
            if !(6_300_000.0..6_400_000.0).contains(&r) {
                self.err(
                    "station",
                    None,
                    "position",
                    format!(
                        "{r:.0} m from the Earth's centre: expected ECEF X, Y, Z in metres of a point near the surface"
                    ),
                );
            }
        }
        if let Some(h) = raw.antenna_height
            && !(0.0..100.0).contains(&h)
        {
            self.err(
                "station",
                None,
                "antenna_height",
                format!("{h}: the ARP's height above the marker in metres, 0 to 100"),
            );
        }
        let country = raw
            .country
            .unwrap_or_else(|| "XXX".into())
            .to_ascii_uppercase();
        if country.len() != 3 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            self.err(
                "station",
                None,
                "country",
                "ISO 3166 alpha-3 code such as \"LAO\"",
            );
        }
        StationSettings {
            name,
            position,
            frame: raw.frame.unwrap_or_else(|| "ITRF2014".into()),
            antenna: raw.antenna.unwrap_or_default(),
            receiver: raw.receiver.unwrap_or_default(),
            country,
            atx: raw.atx.map(|p| self.path(&p)),
        }
    }
}
