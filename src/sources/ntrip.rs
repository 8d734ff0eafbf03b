//! NTRIP client (v1 and v2): the request for the configured mountpoint. The protocol itself is
//! in [`crate::ntrip`].

use std::time::Duration;

use crate::config::NtripSettings;
use crate::ntrip::request::ClientRequest;

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
