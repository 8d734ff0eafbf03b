//! The report's reflector heights (GNSS interferometric reflectometry, as the daemon runs it
//! with `[reflection]` at its defaults): every arc of the reported span analysed, the accepted
//! ones drawn against azimuth and against time.

use std::fmt::Write as _;

use nalgebra::Vector3;

use super::ReportError;
use super::plots::{self, Axes, Group};
use crate::gnss::Gnss;
use crate::gnss::median;
use crate::gnss::nav::EphemerisStore;
use crate::gnss::obs::Epoch;
use crate::gnss::reflect::ArcResult;
use crate::gnss::reflect::collect::{Collector, ReflectionSettings, Span};
use crate::gnss::time::Gpst;

/// The C/N0 the analysis needs, and the arcs of each span closed so far.
#[derive(Debug)]
pub(super) struct Reflection {
    collector: Collector,
    /// Accepted arcs with their mid-arc time.
    arcs: Vec<(Gpst, ArcResult)>,
    tried: usize,
    sectors: Vec<f64>,
}

impl Reflection {
    pub(super) fn new() -> Self {
        let set = ReflectionSettings::default();
        Reflection {
            sectors: set.sectors.clone(),
            collector: Collector::new(std::sync::Arc::new(set)),
            arcs: Vec::new(),
            tried: 0,
        }
    }

    pub(super) fn epoch(&mut self, e: &Epoch, store: &EphemerisStore, here: Option<Vector3<f64>>) {
        if let Some(span) = self.collector.add(e, store, here) {
            self.take(span);
        }
    }

    pub(super) fn finish(&mut self, here: Option<Vector3<f64>>) {
        if let Some(span) = self.collector.finish(here) {
            self.take(span);
        }
    }

    fn take(&mut self, span: Span) {
        let arcs = span.analyse();
        self.tried += arcs.len();
        self.arcs.extend(
            arcs.into_iter()
                .filter(|a| a.rejected.is_none())
                .map(|a| (span.start.add(a.t_mid), a)),
        );
    }

    /// The section: RH against azimuth and against time, per GNSS, and the sector medians.
    pub(super) fn section(
        &self,
        first: Gpst,
        color: impl Fn(Gnss) -> plots::RGBColor,
        name: impl Fn(Gnss) -> &'static str,
    ) -> Result<(String, String), ReportError> {
        let text = format!(
            "Reflector heights (the antenna's height above the reflecting ground) from the C/N0 of \
             satellites between 5° and 25° elevation, gnssrefl's method, as the daemon writes them \
             daily with <code>[reflection]</code>: {} of {} arcs accepted (RH window 0.5–8 m, \
             amplitude &gt; 5, peak-to-noise &gt; 2.8).",
            self.arcs.len(),
            self.tried
        );
        if self.arcs.is_empty() {
            return Ok((
                format!(
                    "{text} No arc was accepted: the recording needs C/N0 of low satellites over whole passes (an hour or more)."
                ),
                String::new(),
            ));
        }
        let mut by_az: Vec<Group> = Vec::new();
        let mut by_t: Vec<Group> = Vec::new();
        for sys in [
            Gnss::Gps,
            Gnss::Glonass,
            Gnss::Galileo,
            Gnss::Beidou,
            Gnss::Qzss,
        ] {
            let of: Vec<&(Gpst, ArcResult)> =
                self.arcs.iter().filter(|(_, a)| a.sys == sys).collect();
            if of.is_empty() {
                continue;
            }
            by_az.push((
                name(sys).into(),
                color(sys),
                of.iter().map(|(_, a)| (a.az, a.rh)).collect(),
            ));
            by_t.push((
                name(sys).into(),
                color(sys),
                of.iter()
                    .map(|(t, a)| (t.diff(first) / 3600.0, a.rh))
                    .collect(),
            ));
        }
        let (lo, hi) = self
            .arcs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, a)| {
                (l.min(a.rh), h.max(a.rh))
            });
        let y = plots::padded(lo, hi);
        let t1 = self
            .arcs
            .iter()
            .map(|(t, _)| t.diff(first) / 3600.0)
            .fold(1.0, f64::max);
        let az_svg = plots::cells(
            &Axes {
                title: "Reflector height against azimuth",
                x: "azimuth (°)",
                y: "RH (m)",
            },
            &by_az,
            0.0..360.0,
            y.clone(),
            (560, 340),
        )?;
        let t_svg = plots::cells(
            &Axes {
                title: "Reflector height against time",
                x: "time (h from the start)",
                y: "RH (m)",
            },
            &by_t,
            0.0..t1,
            y,
            (560, 340),
        )?;
        let mut table =
            String::from("<table><tr><th>Azimuth</th><th>Arcs</th><th>Median RH</th></tr>");
        let last = self.sectors.last().copied().unwrap_or(360.0);
        for w in self.sectors.windows(2) {
            let mut rh: Vec<f64> = self
                .arcs
                .iter()
                .map(|(_, a)| a)
                .filter(|a| {
                    a.az_low >= w[0] && (a.az_low < w[1] || (w[1] >= last && a.az_low <= w[1]))
                })
                .map(|a| a.rh)
                .collect();
            let n = rh.len();
            let m = median(&mut rh).map_or("–".into(), |m| format!("{m:.3} m"));
            let _ = write!(
                table,
                "<tr><td>{:.0}–{:.0}°</td><td>{n}</td><td>{m}</td></tr>",
                w[0], w[1]
            );
        }
        table.push_str("</table>");
        Ok((
            text,
            format!(
                "<div class=\"grid reflection\"><figure style=\"margin:0\">{az_svg}</figure>\
                 <figure style=\"margin:0\">{t_svg}</figure></div>{table}"
            ),
        ))
    }
}
