//! The recordings of `rtk`, `survey` and `reflect`: read by the station layer's reader, which
//! the daemon's daily coordinate survey shares.

use std::path::Path;

use anyhow::Result;

use crate::gnss::Gnss;
use crate::gnss::time::Gpst;
pub use crate::station::survey::recording::Recording;
pub use crate::station::survey::stream::{Epochs, Opened};

/// Reads a recording; `reference` dates an RTCM stream without 1013.
pub fn read(path: &Path, reference: Option<Gpst>) -> Result<Recording> {
    read_of(path, reference, None)
}

/// [`read`] keeping only the satellites of `systems` (all when `None`).
pub fn read_of(
    path: &Path,
    reference: Option<Gpst>,
    systems: Option<&[Gnss]>,
) -> Result<Recording> {
    crate::station::survey::recording::read_of(path, reference, systems).map_err(anyhow::Error::msg)
}

/// Opens a recording to read its epochs one at a time (see [`crate::station::survey::stream`]).
pub fn open(path: &Path, reference: Option<Gpst>, systems: Option<&[Gnss]>) -> Result<Opened> {
    crate::station::survey::stream::open(path, reference, systems).map_err(anyhow::Error::msg)
}
