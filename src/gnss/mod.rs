//! GNSS computations: time scales (and, as they land, geodesy, orbits, positioning, QC).

pub mod time;
