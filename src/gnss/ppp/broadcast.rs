//! Orbits and clocks sampled from broadcast ephemerides, for a station whose precise products
//! have not arrived: the same engine then gives a metre-level coordinate (the broadcast orbit
//! is good to about a metre, its clock to a few nanoseconds), which the caller labels as such.
//!
//! Each node comes from the healthy set nearest its instant; the clock is the broadcast
//! polynomial without the periodic relativistic term, which the engine adds from the orbit as
//! it does for precise clocks. The broadcast clock refers to the system's ionosphere-free
//! combination (GPS L1/L2 P, Galileo E1/E5a or E1/E5b), the one the engine forms, so no group
//! delay applies.

use crate::gnss::Gnss;
use crate::gnss::nav::EphemerisStore;
use crate::gnss::sp3::{Node, Sp3};
use crate::gnss::time::Gpst;

use super::Products;

/// The frame label of broadcast orbits (each system's own WGS 84 realisation, within a few
/// centimetres of ITRF).
pub const BROADCAST_FRAME: &str = "WGS84 (broadcast)";

/// Node spacing (s): ten-node interpolation of a Keplerian orbit at this spacing is exact to
/// well under a millimetre; the clock polynomial is linear at this scale.
const STEP_S: f64 = 300.0;

/// Products covering `from` to `to` for the satellites of `systems` the store has healthy
/// ephemerides for; `None` when it has none.
pub fn products(
    store: &EphemerisStore,
    systems: &[Gnss],
    from: Gpst,
    to: Gpst,
) -> Option<Products> {
    // Nodes reach past both ends so that interpolation is centred there too.
    let t0 = from.add(-6.0 * STEP_S);
    let n = (to.diff(t0) / STEP_S).ceil() as usize + 7;
    let mut sats: Vec<(Gnss, u8)> = store
        .satellites()
        .filter(|(s, _)| systems.contains(s))
        .collect();
    sats.sort();
    sats.dedup();
    let mut series = Vec::new();
    for sat in sats {
        let mut nodes = Vec::with_capacity(n);
        for k in 0..n {
            let t = t0.add(k as f64 * STEP_S);
            let Some(e) = store.select(sat.0, sat.1, t) else {
                continue;
            };
            let dt = t.diff(e.toe);
            let (pos, _) = e.position_clock_after(dt);
            nodes.push(Node {
                t,
                pos: Some(pos),
                clock: Some(e.clock_approx_after(dt)),
            });
        }
        if nodes.len() >= 10 {
            series.push((sat, nodes));
        }
    }
    if series.is_empty() {
        return None;
    }
    Some(Products {
        orbits: Sp3::from_nodes(BROADCAST_FRAME, "broadcast", STEP_S, series),
        clocks: Vec::new(),
    })
}
