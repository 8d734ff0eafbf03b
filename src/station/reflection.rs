//! GNSS interferometric reflectometry in the running station (`[reflection]`): the
//! [`Collector`] keeps what an analysis needs per epoch, each closed [`Span`] is analysed on a
//! blocking thread by the runner, and its arcs become `reflection` points (DESIGN §4).

use crate::gnss::median;
use crate::gnss::reflect::{ArcResult, Signal};
use crate::gnss::time::Gpst;
use crate::telemetry::{Point, gpst_to_unix_ns};

pub use crate::gnss::reflect::collect::{Collector, ReflectionSettings, Span};

/// The `reflection` points of a span's analysed arcs: one per accepted arc at mid-arc, and one
/// per azimuth sector with arcs, at the span's start.
pub fn span_points(station: &str, span: &Span, arcs: &[ArcResult]) -> Vec<Point> {
    points(station, span.start, &span.settings().sectors, arcs)
}

/// The `signal` tag: system letter and signal name (`G_L1`, `C_B1I`).
pub fn signal_tag(s: Signal) -> String {
    format!("{}_{}", s.sys.letter(), s.name())
}

/// The `sector` tag: `0-90`.
pub fn sector_tag(lo: f64, hi: f64) -> String {
    format!("{lo:.0}-{hi:.0}")
}

/// Points of arcs analysed over a span that started at `start`.
pub fn points(station: &str, start: Gpst, sectors: &[f64], arcs: &[ArcResult]) -> Vec<Point> {
    let mut out = Vec::new();
    for a in arcs.iter().filter(|a| a.rejected.is_none()) {
        // Mid-arc to the second, and the PRN in microseconds: two arcs of one signal that
        // centre on the same second stay two points.
        let at = gpst_to_unix_ns(start.add(a.t_mid.round())) + i64::from(a.prn) * 1000;
        out.push(
            Point::new("reflection", at)
                .tag("station", station)
                .tag("signal", signal_tag(a.signal))
                .field("rh_m", a.rh)
                .field("amp", a.amp)
                .field("pk2noise", a.pk2noise)
                .field("az_deg", a.az)
                .field("az_low_deg", a.az_low)
                .field("rising", a.rising)
                .field("prn", i64::from(a.prn))
                .field("sat", crate::gnss::sat_name(a.sys, a.prn))
                .field("minutes", a.duration_min),
        );
    }
    let at = gpst_to_unix_ns(start);
    let last = sectors.last().copied().unwrap_or(360.0);
    for w in sectors.windows(2) {
        let mut rh: Vec<f64> = arcs
            .iter()
            .filter(|a| a.rejected.is_none())
            .filter(|a| a.az_low >= w[0] && (a.az_low < w[1] || (w[1] >= last && a.az_low <= w[1])))
            .map(|a| a.rh)
            .collect();
        let n = rh.len();
        let Some(m) = median(&mut rh) else { continue };
        let mut dev: Vec<f64> = rh.iter().map(|r| (r - m).abs()).collect();
        out.push(
            Point::new("reflection", at)
                .tag("station", station)
                .tag("sector", sector_tag(w[0], w[1]))
                .field("rh_median_m", m)
                .field("rh_mad_m", median(&mut dev).unwrap_or(0.0))
                .field("arcs", n),
        );
    }
    out
}
