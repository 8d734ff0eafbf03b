//! What the caster learns from its clients: each GGA a rover sends (in the request's
//! `Ntrip-GGA` header or in-band) becomes a `rover` point (DESIGN §4).

use nalgebra::Vector3;

use crate::gnss::geodesy::Geodetic;
use crate::messages::nmea::{self, Data};
use crate::telemetry::Point;

/// The `rover` point of a GGA sentence a client sent (DESIGN §4): where the crew is and how
/// good its fix is. `None` for anything that is not a GGA with a position.
pub fn rover_point(
    line: &[u8],
    mount: &str,
    client: &str,
    station: Option<&Vector3<f64>>,
    now_ns: i64,
) -> Option<Point> {
    let s = nmea::parse(line).ok()?;
    let Data::Gga(g) = s.data else {
        return None;
    };
    let (lat, lon) = (g.lat?, g.lon?);
    let h = g.altitude.unwrap_or(0.0) + g.geoid_separation.unwrap_or(0.0);
    let baseline_km = station.map(|st| {
        let p = Geodetic::from_degrees(lat, lon, h).to_ecef();
        (p - st).norm() / 1000.0
    });
    Some(
        Point::new("rover", now_ns)
            .tag("mountpoint", mount)
            .tag("client", client)
            .field("lat", lat)
            .field("lon", lon)
            .field_opt("alt", g.altitude)
            .field_opt("fix", g.quality.map(|q| q as i64))
            .field_opt("nsat", g.satellites.map(|n| n as i64))
            .field_opt("hdop", g.hdop)
            .field_opt("age_s", g.age_s)
            .field_opt("baseline_km", baseline_km),
    )
}

/// Take the complete lines out of `buf`; the `rover` points of the GGAs among them. What is
/// left is a partial line, bounded.
pub(super) fn drain_gga(buf: &mut Vec<u8>, rover: &dyn Fn(&[u8]) -> Option<Point>) -> Vec<Point> {
    let mut out = Vec::new();
    while let Some(eol) = buf.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = buf.drain(..=eol).collect();
        out.extend(rover(&line));
    }
    if buf.len() > 1024 {
        buf.clear();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rover_from_gga() {
        let st = crate::gnss::geodesy::Geodetic::from_degrees(17.9757, 102.6331, 180.0).to_ecef();
        let g = crate::ntrip::gga::gga(18.0657, 102.6331, 150.0, 3600.0);
        let p = rover_point(g.trim_end().as_bytes(), "VTE1", "crew1", Some(&st), 7).unwrap();
        let line = p.to_line();
        assert!(
            line.starts_with("rover,client=crew1,mountpoint=VTE1 lat=18.0657"),
            "{line}"
        );
        let km = p.fields.iter().find(|(k, _)| *k == "baseline_km").unwrap();
        let crate::telemetry::Field::Float(km) = km.1 else {
            panic!()
        };
        assert!((km - 9.97).abs() < 0.05, "{km}");
        assert!(rover_point(b"$GPRMC,,V,,,,,,,,,,N*53", "M", "c", None, 0).is_none());
    }
}
