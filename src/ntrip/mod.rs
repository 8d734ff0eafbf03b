//! NTRIP 1 and 2 as the client (a source), the caster and the push (feeds) all speak it: the
//! requests ([`request`]), the answers ([`response`]), HTTP chunked transfer ([`chunked`]),
//! Basic authorization ([`auth`]), the sourcetable ([`sourcetable`]) and the GGA sentence a
//! client uploads ([`gga`]). Text in, text out: no sockets here.

pub mod auth;
pub mod chunked;
pub mod gga;
pub mod request;
pub mod response;
pub mod sourcetable;

/// The product token of requests (`User-Agent`) and answers (`Server`).
pub fn agent() -> String {
    format!("NTRIP corsd/{}", env!("CARGO_PKG_VERSION"))
}
