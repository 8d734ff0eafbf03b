//! One source's data flow, read top to bottom: the [`runner`] reads a source and runs its bytes
//! through the [`pipeline`] (framer → decode → [`state`] → engine; [`base`] makes RTCM3 for a
//! raw receiver), whose [`series`] are the time-series points ([`receiver`]: the receiver's
//! own health); it publishes frames, epochs and corrections on broadcasts for the sinks
//! and feeds, and keeps the [`snapshot`] the health endpoints show. The integrity [`monitor`]
//! decodes a caster mount's stream as a rover would and solves a check receiver against it.

pub mod base;
pub mod monitor;
pub mod pipeline;
pub mod receiver;
pub mod reflection;
pub mod runner;
pub mod series;
pub mod snapshot;
pub mod state;
pub mod survey;

use nalgebra::Vector3;

/// The station's facts from `[station]`.
#[derive(Clone, Debug, PartialEq)]
pub struct StationSettings {
    pub name: String,
    pub position: Option<Vector3<f64>>,
    pub frame: String,
    pub antenna: String,
    pub receiver: String,
    pub country: String,
    /// ANTEX file for antenna phase centres (the integrity monitor's RTK).
    pub atx: Option<std::path::PathBuf>,
}
