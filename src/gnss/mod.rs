//! GNSS computations: time scales (and, as they land, geodesy, orbits, positioning, QC).

pub mod geodesy;
pub mod orbit;
pub mod time;
