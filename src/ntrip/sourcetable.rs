//! The sourcetable: one `STR` record per mountpoint, then `ENDSOURCETABLE`.

use std::fmt::Write as _;

/// One mountpoint's record.
#[derive(Clone, Debug, PartialEq)]
pub struct Stream {
    pub mount: String,
    /// The station's identifier.
    pub identifier: String,
    /// `RTCM 3.3`, `RTCM 2.3`.
    pub format: &'static str,
    /// Message types and their rates, `1006(10),1074(1)`.
    pub details: String,
    /// `GPS+GLO+BDS`.
    pub systems: String,
    /// ISO 3166 alpha-3.
    pub country: String,
    pub lat_deg: f64,
    pub lon_deg: f64,
    /// Basic authorization needed.
    pub auth: bool,
}

/// The whole table.
pub fn table(streams: &[Stream]) -> String {
    let mut t = String::new();
    for s in streams {
        // Writing to a String cannot fail.
        let _ = write!(
            t,
            "STR;{};{};{};{};2;{};CORS;{};{:.2};{:.2};0;0;corsd;none;{};N;0;\r\n",
            s.mount,
            s.identifier,
            s.format,
            s.details,
            s.systems,
            s.country,
            s.lat_deg,
            s.lon_deg,
            if s.auth { "B" } else { "N" }
        );
    }
    t.push_str("ENDSOURCETABLE\r\n");
    t
}

/// The navigation systems of RTCM3 observation message types, as the `STR` record names them
/// (`GPS` when none is known).
pub fn systems_of(numbers: &[u16]) -> String {
    let mut v: Vec<&str> = Vec::new();
    for (range, name) in [
        (1001..=1004, "GPS"),
        (1009..=1012, "GLO"),
        (1071..=1077, "GPS"),
        (1081..=1087, "GLO"),
        (1091..=1097, "GAL"),
        (1111..=1117, "QZS"),
        (1121..=1127, "BDS"),
    ] {
        if numbers.iter().any(|n| range.contains(n)) && !v.contains(&name) {
            v.push(name);
        }
    }
    if v.is_empty() {
        "GPS".into()
    } else {
        v.join("+")
    }
}

/// One message type's entry of the format details: `1006(10)`; every one is `(1)`.
pub fn detail(number: u16, interval_s: f64) -> String {
    let rate = if interval_s <= 0.0 {
        "1".into()
    } else if interval_s.fract() == 0.0 {
        format!("{}", interval_s as u64)
    } else {
        format!("{interval_s}")
    };
    format!("{number}({rate})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records() {
        let t = table(&[Stream {
            mount: "VTE1".into(),
            identifier: "VTE1".into(),
            format: "RTCM 3.3",
            details: [detail(1006, 10.0), detail(1074, 0.0), detail(1230, 2.5)].join(","),
            systems: systems_of(&[1006, 1074, 1124]),
            country: "LAO".into(),
            lat_deg: 17.9757,
            lon_deg: 102.6331,
            auth: true,
        }]);
        assert_eq!(
            t,
            "STR;VTE1;VTE1;RTCM 3.3;1006(10),1074(1),1230(2.5);2;GPS+BDS;CORS;LAO;17.98;102.63;0;0;corsd;none;B;N;0;\r\nENDSOURCETABLE\r\n"
        );
        assert_eq!(systems_of(&[1006]), "GPS");
    }
}
