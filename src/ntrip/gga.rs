//! The GGA sentence an NTRIP client sends so that a VRS-style caster knows where it is.

use crate::framing::nmea_checksum;

/// A GGA sentence (with CR LF) for a position at a UTC time of day.
pub fn gga(lat_deg: f64, lon_deg: f64, h: f64, utc_secs_of_day: f64) -> String {
    let t = utc_secs_of_day.rem_euclid(86_400.0);
    let (hh, mm, ss) = ((t / 3600.0) as u32, ((t % 3600.0) / 60.0) as u32, t % 60.0);
    let ns = if lat_deg >= 0.0 { 'N' } else { 'S' };
    let ew = if lon_deg >= 0.0 { 'E' } else { 'W' };
    let (la, lo) = (lat_deg.abs(), lon_deg.abs());
    let body = format!(
        "GPGGA,{hh:02}{mm:02}{ss:05.2},{:02}{:08.5},{ns},{:03}{:08.5},{ew},1,12,1.0,{h:.3},M,0.000,M,,",
        la.trunc() as u32,
        la.fract() * 60.0,
        lo.trunc() as u32,
        lo.fract() * 60.0
    );
    format!("${body}*{:02X}\r\n", nmea_checksum(body.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gga_sentence() {
        let g = gga(17.9757, 102.6331, 180.0, 3723.5);
        assert!(
            g.starts_with("$GPGGA,010203.50,1758.54200,N,10237.98600,E,1,12,1.0,180.000,M"),
            "{g}"
        );
        let parsed = crate::messages::nmea::parse(g.trim_end().as_bytes());
        assert!(parsed.is_ok(), "{g}");
    }
}
