//! One source's data flow, read top to bottom: [`pipeline`] (framer → decode → [`state`] →
//! engine → products).

pub mod pipeline;
pub mod state;

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
}
