//! NTRIP client (v1 and v2): the request for the configured mountpoint. The protocol itself is
//! in [`crate::ntrip`].

use std::time::Duration;

use crate::ntrip::request::ClientRequest;
use crate::secret::Secret;

/// Where an NTRIP source connects and how.
#[derive(Clone, Debug, PartialEq)]
pub struct NtripSettings {
    pub host: String,
    pub port: u16,
    pub mountpoint: String,
    pub tls: bool,
    /// 1 or 2.
    pub version: u8,
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Send the station position as GGA every this often (VRS-style casters want it).
    pub gga: Option<Duration>,
}

/// The request for a mountpoint. `gga` is the v2 `Ntrip-GGA` header (v1 sends GGA in-band).
pub fn request(s: &NtripSettings, gga: Option<&str>) -> String {
    ClientRequest {
        host: &s.host,
        port: s.port,
        mount: &s.mountpoint,
        version: s.version,
        auth: s
            .user
            .as_deref()
            .zip(s.password.as_ref().map(|p| p.expose())),
        gga,
    }
    .text()
}

/// How long to wait for the caster's answer.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);
