//! Formatting sentences back to NMEA text, with their checksum: fields in the precision they
//! came in, so that parse → format gives the sentence back.

use super::{Data, Sentence, Time};
use crate::framing::nmea_checksum;

/// A number with at least `decimals` places, and more when the value needs them to survive
/// formatting and parsing unchanged (receivers differ in the precision they send).
fn fmt_opt(v: Option<f64>, decimals: usize) -> String {
    v.map(|x| {
        let fixed = format!("{x:.decimals$}");
        if fixed.parse::<f64>().ok() == Some(x) {
            fixed
        } else {
            x.to_string()
        }
    })
    .unwrap_or_default()
}

fn fmt_time(t: Option<Time>) -> String {
    t.map(|t| format!("{:02}{:02}{:06.3}", t.hour, t.minute, t.second))
        .unwrap_or_default()
}

fn fmt_angle(v: Option<f64>, deg_digits: usize, pos: char, neg: char) -> (String, String) {
    match v {
        None => (String::new(), String::new()),
        Some(x) => {
            let a = x.abs();
            let deg = a.trunc();
            let min = (a - deg) * 60.0;
            (
                format!("{:0w$}{:011.8}", deg as u32, min, w = deg_digits),
                (if x < 0.0 { neg } else { pos }).to_string(),
            )
        }
    }
}

fn ch(c: Option<char>) -> String {
    c.map(String::from).unwrap_or_default()
}

fn num<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

impl Sentence {
    /// Format the sentence with its checksum and CR LF.
    pub fn to_nmea(&self) -> String {
        let fields: Vec<String> = match &self.data {
            Data::Gga(g) => {
                let (lat, ns) = fmt_angle(g.lat, 2, 'N', 'S');
                let (lon, ew) = fmt_angle(g.lon, 3, 'E', 'W');
                vec![
                    fmt_time(g.time),
                    lat,
                    ns,
                    lon,
                    ew,
                    num(g.quality),
                    g.satellites.map(|n| format!("{n:02}")).unwrap_or_default(),
                    fmt_opt(g.hdop, 2),
                    fmt_opt(g.altitude, 4),
                    "M".into(),
                    fmt_opt(g.geoid_separation, 4),
                    "M".into(),
                    fmt_opt(g.age_s, 1),
                    g.station.clone().unwrap_or_default(),
                ]
            }
            Data::Rmc(r) => {
                let (lat, ns) = fmt_angle(r.lat, 2, 'N', 'S');
                let (lon, ew) = fmt_angle(r.lon, 3, 'E', 'W');
                let mut v = vec![
                    fmt_time(r.time),
                    if r.valid { "A" } else { "V" }.into(),
                    lat,
                    ns,
                    lon,
                    ew,
                    fmt_opt(r.speed_knots, 3),
                    fmt_opt(r.course_deg, 2),
                    r.date
                        .map(|d| format!("{:02}{:02}{:02}", d.day, d.month, d.year % 100))
                        .unwrap_or_default(),
                    fmt_opt(r.magnetic_variation_deg.map(f64::abs), 1),
                    r.magnetic_variation_deg
                        .map(|v| if v < 0.0 { "W" } else { "E" }.to_string())
                        .unwrap_or_default(),
                ];
                if r.mode.is_some() || r.nav_status.is_some() {
                    v.push(ch(r.mode));
                }
                if r.nav_status.is_some() {
                    v.push(ch(r.nav_status));
                }
                v
            }
            Data::Gsa(g) => {
                let mut v = vec![ch(g.selection), num(g.fix)];
                for k in 0..12 {
                    v.push(
                        g.satellites
                            .get(k)
                            .map(|p| format!("{p:02}"))
                            .unwrap_or_default(),
                    );
                }
                v.extend([fmt_opt(g.pdop, 2), fmt_opt(g.hdop, 2), fmt_opt(g.vdop, 2)]);
                if let Some(id) = g.system_id {
                    v.push(format!("{id:X}"));
                }
                v
            }
            Data::Gsv(g) => {
                let mut v = vec![g.total.to_string(), g.index.to_string(), num(g.in_view)];
                for s in &g.sats {
                    v.push(format!("{:02}", s.prn));
                    v.push(
                        s.elevation_deg
                            .map(|e| format!("{e:02.0}"))
                            .unwrap_or_default(),
                    );
                    v.push(
                        s.azimuth_deg
                            .map(|a| format!("{a:03.0}"))
                            .unwrap_or_default(),
                    );
                    v.push(s.snr_dbhz.map(|c| format!("{c:02.0}")).unwrap_or_default());
                }
                if let Some(sig) = &g.signal_id {
                    v.push(sig.clone());
                }
                v
            }
            Data::Gst(g) => vec![
                fmt_time(g.time),
                fmt_opt(g.rms, 3),
                fmt_opt(g.major, 3),
                fmt_opt(g.minor, 3),
                fmt_opt(g.orientation_deg, 3),
                fmt_opt(g.lat_sd, 3),
                fmt_opt(g.lon_sd, 3),
                fmt_opt(g.alt_sd, 3),
            ],
            Data::Gns(g) => {
                let (lat, ns) = fmt_angle(g.lat, 2, 'N', 'S');
                let (lon, ew) = fmt_angle(g.lon, 3, 'E', 'W');
                let mut v = vec![
                    fmt_time(g.time),
                    lat,
                    ns,
                    lon,
                    ew,
                    g.mode.clone(),
                    g.satellites.map(|n| format!("{n:02}")).unwrap_or_default(),
                    fmt_opt(g.hdop, 2),
                    fmt_opt(g.altitude, 4),
                    fmt_opt(g.geoid_separation, 4),
                    fmt_opt(g.age_s, 1),
                    g.station.clone().unwrap_or_default(),
                ];
                if g.nav_status.is_some() {
                    v.push(ch(g.nav_status));
                }
                v
            }
            Data::Zda(z) => vec![
                fmt_time(z.time),
                z.date.map(|d| format!("{:02}", d.day)).unwrap_or_default(),
                z.date
                    .map(|d| format!("{:02}", d.month))
                    .unwrap_or_default(),
                z.date.map(|d| d.year.to_string()).unwrap_or_default(),
                z.zone_hours.map(|h| format!("{h:02}")).unwrap_or_default(),
                z.zone_minutes
                    .map(|m| format!("{m:02}"))
                    .unwrap_or_default(),
            ],
            Data::Vtg(t) => vec![
                fmt_opt(t.course_true_deg, 2),
                "T".into(),
                fmt_opt(t.course_magnetic_deg, 2),
                "M".into(),
                fmt_opt(t.speed_knots, 3),
                "N".into(),
                fmt_opt(t.speed_kmh, 3),
                "K".into(),
                ch(t.mode),
            ],
            Data::Gll(g) => {
                let (lat, ns) = fmt_angle(g.lat, 2, 'N', 'S');
                let (lon, ew) = fmt_angle(g.lon, 3, 'E', 'W');
                vec![
                    lat,
                    ns,
                    lon,
                    ew,
                    fmt_time(g.time),
                    if g.valid { "A" } else { "V" }.into(),
                    ch(g.mode),
                ]
            }
            Data::Gbs(g) => {
                let mut v = vec![
                    fmt_time(g.time),
                    fmt_opt(g.lat_error, 3),
                    fmt_opt(g.lon_error, 3),
                    fmt_opt(g.alt_error, 3),
                    num(g.failed_sat),
                    fmt_opt(g.probability, 3),
                    fmt_opt(g.bias, 3),
                    fmt_opt(g.bias_sd, 3),
                ];
                if g.system_id.is_some() || g.signal_id.is_some() {
                    v.push(g.system_id.map(|s| format!("{s:X}")).unwrap_or_default());
                    v.push(g.signal_id.clone().unwrap_or_default());
                }
                v
            }
            Data::Txt(t) => vec![
                t.total.map(|n| format!("{n:02}")).unwrap_or_default(),
                t.index.map(|n| format!("{n:02}")).unwrap_or_default(),
                t.kind.map(|n| format!("{n:02}")).unwrap_or_default(),
                t.text.clone(),
            ],
            Data::Other { fields } => fields.clone(),
        };
        let addr = if self.talker == "P" {
            format!("P{}", self.kind)
        } else {
            format!("{}{}", self.talker, self.kind)
        };
        let mut body = addr;
        for f in &fields {
            body.push(',');
            body.push_str(f);
        }
        let cs = nmea_checksum(body.as_bytes());
        format!("${body}*{cs:02X}\r\n")
    }
}
