//! `corsd simulate`: a realistic RTCM3 station stream from a known position and known orbits.

pub mod sky;
