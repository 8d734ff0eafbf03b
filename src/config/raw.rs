//! The configuration file as written: every table refuses keys it does not know, so a typo
//! is an error with its line instead of a setting silently ignored. Secrets are only ever named
//! by file (`password_file`, `token_file`), never written inline.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// Base directory for the spool, archive and time-series files.
    pub data_dir: Option<String>,
    pub station: RawStation,
    #[serde(default)]
    pub source: Vec<RawSource>,
    pub influx: Option<RawInflux>,
    pub files: Option<RawFiles>,
    pub health: Option<RawHealth>,
    pub archive: Option<RawArchive>,
    #[serde(default)]
    pub caster: Vec<RawCaster>,
    #[serde(default)]
    pub push: Vec<RawPush>,
    #[serde(default)]
    pub output: Vec<RawOutput>,
    #[serde(default)]
    pub monitor: Vec<RawMonitor>,
    pub receiver: Option<RawReceiver>,
    pub coordinates: Option<RawCoordinates>,
    pub reflection: Option<RawReflection>,
}

/// `[reflection]`: reflector heights (GNSS-IR) from the C/N0 of low satellites, once a day.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReflection {
    /// Elevation window (degrees): `[5, 25]`.
    pub elevation: Option<Vec<f64>>,
    /// Reflector height window (m): `[0.5, 8]`.
    pub rh: Option<Vec<f64>>,
    /// Azimuth sector boundaries (degrees, increasing).
    pub azimuth: Option<Vec<f64>>,
    /// Signals: `["L1", "L2C", "E1", "B1I"]` or with the system letter (`"R L1"`).
    pub signals: Option<Vec<String>>,
    /// Hours of the GPS day at which a span closes and is analysed.
    pub hours: Option<Vec<i64>>,
    /// Smallest amplitude and peak-to-noise ratio of an accepted arc.
    pub min_amp: Option<f64>,
    pub min_pk2noise: Option<f64>,
    /// Correct low elevations for refraction (default true).
    pub refraction: Option<bool>,
}

/// `[receiver]`: set the receiver behind a source up as a base.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReceiver {
    /// "ublox-f9".
    pub kind: String,
    /// The `[[source]]` it is behind (default: the first serial or tcp one).
    pub source: Option<String>,
    /// The receiver's port this link is on: USB, UART1, UART2.
    pub port: Option<String>,
    pub interval_ms: Option<u16>,
    pub systems: Option<Vec<String>>,
    pub nmea: Option<bool>,
    /// "fixed" (at `[station] position`) or "survey-in".
    pub mode: Option<String>,
    pub accuracy_m: Option<f64>,
    pub survey_min_s: Option<u32>,
}

/// One `[[monitor]]`: a check receiver solved in RTK against what a caster mount serves.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMonitor {
    pub name: String,
    pub mount: String,
    /// The check receiver's known antenna reference point (ECEF, m).
    pub position: Option<RawXyz>,
    /// The frame of `position`; it must be `[station]`'s.
    pub frame: Option<String>,
    pub antenna: Option<String>,
    pub max_wait_s: Option<f64>,
    /// The filter restarts this often (`1h`), to measure the time to fix.
    pub reset: Option<String>,
    /// A fixed solution farther than this (3D, m) from `position` is a wrong fix (default 0.05).
    pub max_error_m: Option<f64>,
    /// The fix rate is judged over this much data time (default "10m") ...
    pub fix_window: Option<String>,
    /// ... and raises an event under this percentage of the check epochs (default 90).
    pub min_fix_percent: Option<f64>,
    pub source: Option<RawSource>,
}

/// One `[[push]]`: an NTRIP server push to a remote caster.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPush {
    pub name: Option<String>,
    /// host:port of the remote caster.
    pub address: String,
    pub mount: String,
    /// 1 (SOURCE, the default) or 2 (POST, chunked).
    pub version: Option<u8>,
    /// v2 only.
    pub user: Option<String>,
    pub password_file: String,
    pub messages: Option<String>,
    /// "rtcm3" (default) or "rtcm2".
    pub format: Option<String>,
    pub rtcm2_station: Option<u16>,
    /// The coordinates 1005/1006 carry: "station" (`[station] position`) or "receiver".
    pub coordinates: Option<String>,
}

/// One `[[output]]`: a TCP server or a serial port (radio modem).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    /// "tcp-server" or "serial".
    pub kind: String,
    pub name: Option<String>,
    pub listen: Option<String>,
    pub path: Option<String>,
    pub baud: Option<u32>,
    pub messages: Option<String>,
    pub format: Option<String>,
    pub rtcm2_station: Option<u16>,
    /// The coordinates 1005/1006 carry: "station" (`[station] position`) or "receiver".
    pub coordinates: Option<String>,
}

/// One `[[caster]]`: the embedded NTRIP caster (v1 and v2 on one port).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCaster {
    pub listen: String,
    /// `user:password` lines (never the passwords in this file).
    pub credentials_file: Option<String>,
    /// Connections allowed from one address at a time (default 100).
    pub max_clients_per_ip: Option<usize>,
    #[serde(default)]
    pub mount: Vec<RawMount>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMount {
    pub name: String,
    /// str2str syntax: `1006(10),1074(1)`; empty or absent: every RTCM3 frame.
    pub messages: Option<String>,
    #[serde(default)]
    pub users: Vec<String>,
    /// A rover profile the message set must satisfy (`f9p`).
    pub profile: Option<String>,
    /// "rtcm3" (default) or "rtcm2" (RTCM 2.3 DGNSS corrections for GIS handhelds).
    pub format: Option<String>,
    /// RTCM 2.3 reference station ID (0–1023, default 1).
    pub rtcm2_station: Option<u16>,
    /// The coordinates 1005/1006 carry: "station" (`[station] position`) or "receiver".
    pub coordinates: Option<String>,
    /// A relay mount: its data comes from an NTRIP server pushing with this user's password
    /// (SOURCE or POST) instead of from the station.
    pub relay_user: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStation {
    pub name: String,
    pub position: Option<RawXyz>,
    pub frame: Option<String>,
    pub antenna: Option<String>,
    pub receiver: Option<String>,
    pub country: Option<String>,
    /// ANTEX file (antenna phase centres for the integrity monitor).
    pub atx: Option<String>,
    /// The ARP's height above the marker (m), broadcast in 1006.
    pub antenna_height: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawXyz {
    pub x: f64,
    pub y: f64,
    pub z: f64,
}

/// One `[[source]]`; which keys apply depends on `kind` (checked in validation).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub kind: String,
    pub name: Option<String>,
    pub path: Option<String>,
    pub baud: Option<u32>,
    pub address: Option<String>,
    pub listen: Option<String>,
    pub url: Option<String>,
    pub version: Option<u8>,
    pub user: Option<String>,
    pub password_file: Option<String>,
    pub gga: Option<String>,
    pub speed: Option<f64>,
    pub r#loop: Option<bool>,
    pub watchdog: Option<String>,
    pub seed: Option<u64>,
    pub msm: Option<u8>,
    /// File sources: the UTC date of the recording, when it has no 1013 message to date it.
    pub date: Option<String>,
    /// Where observation epochs come from: "auto", "rtcm3" or "ubx".
    pub format: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInflux {
    pub url: String,
    pub api: Option<String>,
    pub org: Option<String>,
    pub bucket: Option<String>,
    pub token_file: Option<String>,
    pub db: Option<String>,
    pub rp: Option<String>,
    pub user: Option<String>,
    pub password_file: Option<String>,
    pub spool_dir: Option<String>,
    pub spool_max_bytes: Option<String>,
    pub spool_max_age: Option<String>,
    pub batch_points: Option<usize>,
    pub batch_bytes: Option<String>,
    pub batch_interval: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFiles {
    pub dir: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHealth {
    pub listen: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArchive {
    pub dir: Option<String>,
    pub retention_days: Option<u32>,
    pub min_free: Option<String>,
    /// Hourly RINEX 3.04 observation files beside the raw files (default true).
    pub rinex: Option<bool>,
}

/// `[coordinates]`: the daily PPP survey of the archived days.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCoordinates {
    /// Directory of SP3 and clock files (default DATA_DIR/products).
    pub products: Option<String>,
    /// ANTEX file, or several (default `[station] atx`).
    pub atx: Option<Paths>,
    pub horizontal_m: Option<f64>,
    pub up_m: Option<f64>,
    pub trend_days: Option<usize>,
    /// How often the archive and the products directory are looked at again (duration).
    pub recheck: Option<String>,
    /// The key `recheck` replaced; read only to say so.
    pub hours: Option<toml::Value>,
    pub margin: Option<String>,
    pub broadcast_fallback: Option<bool>,
    pub broadcast_bound_m: Option<f64>,
    pub systems: Option<String>,
    pub backfill_days: Option<u32>,
    pub sat_antex: Option<String>,
    pub mask_deg: Option<f64>,
}

/// A path or a list of them (`atx = "a.atx"` or `atx = ["a.atx", "b.atx.gz"]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Paths(pub Vec<String>);

impl<'de> Deserialize<'de> for Paths {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Paths, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Paths;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a path or a list of paths")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Paths, E> {
                Ok(Paths(vec![v.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Paths, A::Error> {
                let mut out = Vec::new();
                while let Some(p) = seq.next_element::<String>()? {
                    out.push(p);
                }
                Ok(Paths(out))
            }
        }
        d.deserialize_any(Visitor)
    }
}
