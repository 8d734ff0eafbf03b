//! The report's HTML: sections of text and SVG charts from what the [`Collector`] kept, in one
//! self-contained document.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{Datelike, Timelike};
use nalgebra::Vector3;

use super::plots::{self, Axes, Line, PALETTE, Track};
use super::{Collector, MAX_POINTS, Reference, ReportError};
use crate::gnss::Gnss;
use crate::gnss::geodesy::enu;
use crate::gnss::time::Gpst;

impl Collector {
    /// The finished report as one HTML document.
    pub fn html(&self, reference: &Reference) -> Result<String, ReportError> {
        let Some(first) = self.tracked.first().map(|t| t.0) else {
            return Err(ReportError::NoEpochs);
        };
        let last = self.tracked.last().map(|t| t.0).unwrap_or(first);
        let span = last.diff(first);
        let clock = TimeAxis::new(first, span);
        let interval = self.qc.interval_s().unwrap_or(1.0);
        let gap_x = clock.x(first.add(3.0 * interval.max(1.0))) - clock.x(first);
        let mut body = String::new();

        // Offsets from the reference.
        let (origin, ref_text) = match reference {
            Reference::Given(p, how) => (Some(*p), how.clone()),
            Reference::Mean => (
                None,
                "the mean of the solutions (no surveyed position given)".to_string(),
            ),
        };
        let origin = origin.or_else(|| {
            (!self.sols.is_empty()).then(|| {
                self.sols.iter().map(|s| s.pos).sum::<Vector3<f64>>() / self.sols.len() as f64
            })
        });
        let mut stats = String::new();
        if let Some(o) = origin {
            let offs: Vec<(Gpst, Vector3<f64>)> =
                self.sols.iter().map(|s| (s.t, enu(&o, &s.pos))).collect();
            let n = offs.len().max(1) as f64;
            let mean = offs.iter().map(|x| x.1).sum::<Vector3<f64>>() / n;
            let rms = |k: usize| (offs.iter().map(|x| x.1[k] * x.1[k]).sum::<f64>() / n).sqrt();
            let rms3 = (offs.iter().map(|x| x.1.norm_squared()).sum::<f64>() / n).sqrt();
            let _ = write!(
                stats,
                "<tr><th>Offsets from</th><td>{ref_text}</td></tr>\
                 <tr><th>Mean offset E / N / U</th><td>{:.2} / {:.2} / {:.2} m</td></tr>\
                 <tr><th>RMS E / N / U, 3D</th><td>{:.2} / {:.2} / {:.2} m, {:.2} m</td></tr>",
                mean.x,
                mean.y,
                mean.z,
                rms(0),
                rms(1),
                rms(2),
                rms3
            );
            let series =
                |k: usize| -> Vec<(f64, f64)> { binned(&offs, &clock, |v: &Vector3<f64>| v[k]) };
            let svg = plots::lines(
                &Axes {
                    title: "Position offset from the reference",
                    x: &clock.label,
                    y: "offset (m)",
                },
                &[
                    Line {
                        name: "east",
                        color: PALETTE[0],
                        points: series(0),
                    },
                    Line {
                        name: "north",
                        color: PALETTE[1],
                        points: series(1),
                    },
                    Line {
                        name: "up",
                        color: PALETTE[2],
                        points: series(2),
                    },
                ],
                gap_x,
                (1100, 380),
            )?;
            section(
                &mut body,
                "Position offsets",
                &format!(
                    "Single point positions (carrier-smoothed code, broadcast orbits) in east, north and up from {ref_text}{}.",
                    if self.sols.len() > MAX_POINTS {
                        ", averaged over bins to keep the plot light"
                    } else {
                        ""
                    }
                ),
                &svg,
            );
        }

        // Satellites and PDOP.
        let used: Vec<(Gpst, f64)> = self.sols.iter().map(|s| (s.t, s.used as f64)).collect();
        let pdop: Vec<(Gpst, f64)> = self.sols.iter().map(|s| (s.t, s.pdop)).collect();
        let tracked: Vec<(Gpst, f64)> = self.tracked.iter().map(|&(t, n)| (t, n as f64)).collect();
        if !used.is_empty() {
            let svg = plots::two_axes(
                &Axes {
                    title: "Satellites used and position dilution of precision",
                    x: &clock.label,
                    y: "satellites (count)",
                },
                "PDOP (unitless)",
                &Line {
                    name: "satellites used",
                    color: PALETTE[0],
                    points: binned(&used, &clock, |v| *v),
                },
                &Line {
                    name: "PDOP",
                    color: PALETTE[1],
                    points: binned(&pdop, &clock, |v| *v),
                },
                gap_x,
                (1100, 340),
            )?;
            section(
                &mut body,
                "Satellites and DOP",
                "Satellites in each solution (left) and its PDOP (right).",
                &svg,
            );
        }
        let svg = plots::lines(
            &Axes {
                title: "Satellites tracked",
                x: &clock.label,
                y: "satellites (count)",
            },
            &[Line {
                name: "tracked",
                color: PALETTE[2],
                points: binned(&tracked, &clock, |v| *v),
            }],
            gap_x,
            (1100, 260),
        )?;
        body.push_str(&figure(&svg));

        // Sky per GNSS.
        let mut sky_html = String::new();
        let systems: Vec<Gnss> = {
            let mut v: Vec<Gnss> = self.sky.keys().map(|k| k.0).collect();
            v.dedup();
            v
        };
        for sys in &systems {
            let mut tracks = Vec::new();
            let mut legend = Vec::new();
            for ((g, prn), pts) in self.sky.iter().filter(|(k, _)| k.0 == *sys) {
                let (color, class) = if *g == Gnss::Beidou {
                    match self.beidou_class.get(prn).copied().unwrap_or("MEO") {
                        "GEO" => (PALETTE[1], "GEO"),
                        "IGSO" => (PALETTE[2], "IGSO"),
                        _ => (PALETTE[0], "MEO"),
                    }
                } else {
                    (PALETTE[(*prn as usize) % 6], "")
                };
                if *g == Gnss::Beidou && !legend.iter().any(|(n, _): &(String, _)| n == class) {
                    legend.push((class.to_string(), color));
                }
                tracks.push(Track {
                    label: crate::gnss::sat_name(*g, *prn),
                    color,
                    points: pts.clone(),
                });
            }
            legend.sort_by(|a, b| a.0.cmp(&b.0));
            let svg = plots::sky(
                &format!("{} ({} satellites)", system_name(*sys), tracks.len()),
                &tracks,
                &legend,
                520,
            )?;
            sky_html.push_str(&format!("<div class=\"sky\">{svg}</div>"));
        }
        if !sky_html.is_empty() {
            section(
                &mut body,
                "Sky",
                "Tracks of the satellites received, from the broadcast orbits (a dot marks the last position). BeiDou geostationary (GEO), inclined geosynchronous (IGSO) and medium orbit (MEO) satellites in their own colours.",
                &format!("<div class=\"grid\">{sky_html}</div>"),
            );
        }

        // C/N0 against elevation.
        let mut cn0_html = String::new();
        for sys in &systems {
            let groups: Vec<plots::Group> = self
                .cn0
                .iter()
                .filter(|(k, _)| k.0 == *sys)
                .enumerate()
                .map(|(i, ((g, band), cells))| {
                    (
                        format!("{} band {band}", g.letter()),
                        PALETTE[i % PALETTE.len()],
                        cells.iter().map(|&(e, c)| (e as f64, c as f64)).collect(),
                    )
                })
                .collect();
            if groups.is_empty() {
                continue;
            }
            let (lo, hi) = groups
                .iter()
                .flat_map(|g| g.2.iter().map(|p| p.1))
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| {
                    (a.min(y), b.max(y))
                });
            let svg = plots::cells(
                &Axes {
                    title: &format!("{} C/N0 against elevation", system_name(*sys)),
                    x: "elevation (°)",
                    y: "C/N0 (dB-Hz)",
                },
                &groups,
                0.0..90.0,
                plots::padded(lo, hi),
                (540, 340),
            )?;
            cn0_html.push_str(&format!("<div>{svg}</div>"));
        }
        if !cn0_html.is_empty() {
            section(
                &mut body,
                "C/N0 against elevation",
                "Each dot is a 1° × 1 dB-Hz cell seen at least once (sampled every 30 s). A healthy antenna shows C/N0 rising smoothly with elevation; a cloud of low values at high elevation points to obstruction or interference.",
                &format!("<div class=\"grid\">{cn0_html}</div>"),
            );
        }

        // Completeness over time and per signal, slips.
        let bin_s = bin_seconds(span, interval);
        let mut per_bin: BTreeMap<i64, u64> = BTreeMap::new();
        for &(t, _) in &self.tracked {
            *per_bin
                .entry(t.diff(first).div_euclid(bin_s) as i64)
                .or_default() += 1;
        }
        let expected_per_bin = (bin_s / interval).round().max(1.0);
        let nbins = (span / bin_s).floor() as i64 + 1;
        let completeness: Vec<(f64, f64)> = (0..nbins)
            .map(|b| {
                let t = first.add(b as f64 * bin_s + bin_s / 2.0);
                let got = per_bin.get(&b).copied().unwrap_or(0) as f64;
                // The last bin may be partial: expect only what fits before the last epoch.
                let room = ((last.diff(first) - b as f64 * bin_s) / interval).floor() + 1.0;
                (
                    clock.x(t),
                    100.0 * got / expected_per_bin.min(room.max(1.0)),
                )
            })
            .collect();
        let mut slip_lines = Vec::new();
        let slip_systems: Vec<Gnss> = {
            let mut v: Vec<Gnss> = self.slips.iter().map(|s| s.1).collect();
            v.sort();
            v.dedup();
            v
        };
        for (i, sys) in slip_systems.iter().enumerate() {
            let mut bins = vec![0u64; nbins.max(1) as usize];
            for (t, _) in self.slips.iter().filter(|s| s.1 == *sys) {
                let b = (t.diff(first).div_euclid(bin_s) as usize).min(bins.len() - 1);
                bins[b] += 1;
            }
            slip_lines.push((system_name(*sys), PALETTE[i % PALETTE.len()], bins));
        }
        let svg = plots::lines_within(
            &Axes {
                title: &format!("Epochs received per {} bin", human_seconds(bin_s)),
                x: &clock.label,
                y: "epochs received (% of expected)",
            },
            &[Line {
                name: "received",
                color: PALETTE[0],
                points: completeness,
            }],
            f64::INFINITY,
            (1100, 280),
            Some(0.0..105.0),
        )?;
        let gaps = self.qc.gaps();
        let mut gap_rows = String::new();
        for g in gaps.iter().take(50) {
            let _ = write!(
                gap_rows,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                gpst_text(g.after),
                g.missing,
                human_seconds(g.missing as f64 * interval)
            );
        }
        let gap_table = if gaps.is_empty() {
            "<p>No gaps.</p>".to_string()
        } else {
            format!(
                "<table class=\"list\"><tr><th>after (GPST)</th><th>epochs missing</th><th>duration</th></tr>{gap_rows}</table>{}",
                if gaps.len() > 50 {
                    format!("<p>… and {} more.</p>", gaps.len() - 50)
                } else {
                    String::new()
                }
            )
        };
        section(
            &mut body,
            "Completeness and gaps",
            &format!(
                "{} of {} expected epochs at {} s ({:.1} %).",
                self.qc.epochs,
                self.qc.expected(),
                interval,
                100.0 * self.qc.epochs as f64 / self.qc.expected().max(1) as f64
            ),
            &format!("{}{gap_table}", figure(&svg)),
        );
        let sig: Vec<(String, f64, plots::RGBColor)> = self
            .qc
            .completeness()
            .into_iter()
            .map(|(sys, code, c)| {
                (
                    format!("{}{code}", sys.letter()),
                    100.0 * c,
                    system_color(sys),
                )
            })
            .collect();
        if !sig.is_empty() {
            let svg = plots::bars(
                &Axes {
                    title: "Observations per signal against the system's satellite-epochs",
                    x: "system and signal (RINEX code)",
                    y: "completeness (%)",
                },
                &sig,
                Some(105.0),
                (1100, 320),
            )?;
            body.push_str(&figure(&svg));
        }
        if !slip_lines.is_empty() {
            let lines: Vec<Line> = slip_lines
                .iter()
                .map(|(name, c, bins)| Line {
                    name,
                    color: *c,
                    points: bins
                        .iter()
                        .enumerate()
                        .map(|(b, n)| {
                            (
                                clock.x(first.add(b as f64 * bin_s + bin_s / 2.0)),
                                *n as f64,
                            )
                        })
                        .collect(),
                })
                .collect();
            let svg = plots::lines(
                &Axes {
                    title: &format!(
                        "Satellites with a loss of lock, per {} bin",
                        human_seconds(bin_s)
                    ),
                    x: &clock.label,
                    y: "cycle slips (count)",
                },
                &lines,
                f64::INFINITY,
                (1100, 280),
            )?;
            let totals: Vec<String> = self
                .qc
                .slips
                .iter()
                .map(|(g, n)| format!("{} {n}", system_name(*g)))
                .collect();
            section(
                &mut body,
                "Cycle slips",
                &format!(
                    "Loss-of-lock flags (MSM lock-time indicators, RINEX LLI). Signals flagged: {}.",
                    totals.join(", ")
                ),
                &svg,
            );
        } else {
            section(&mut body, "Cycle slips", "No loss of lock was flagged.", "");
        }

        // Multipath.
        let mp: Vec<(String, f64, plots::RGBColor)> = self
            .mp
            .iter()
            .filter(|(_, v)| v.1 >= 10)
            .map(|((sys, code), (s2, n))| {
                (
                    format!("{}{code}", sys.letter()),
                    (s2 / *n as f64).sqrt(),
                    system_color(*sys),
                )
            })
            .collect();
        if mp.is_empty() {
            section(
                &mut body,
                "Code multipath",
                "No signal had two carrier phases over an arc long enough to measure multipath.",
                "",
            );
        } else {
            let svg = plots::bars(
                &Axes {
                    title: "Code multipath per signal (RMS over continuous arcs)",
                    x: "system and signal (RINEX code)",
                    y: "multipath RMS (m)",
                },
                &mp,
                None,
                (1100, 320),
            )?;
            section(
                &mut body,
                "Code multipath",
                "The code-minus-carrier combination with the ionosphere removed by a second frequency, less its mean over each continuous arc (teqc's MP1/MP2).",
                &svg,
            );
        }
        let (text, content) = self.reflection.section(first, system_color, system_name)?;
        section(&mut body, "Reflector heights (GNSS-IR)", &text, &content);
        section(
            &mut body,
            "Latency",
            "A recording carries no arrival times, so latency is not in this report. The live daemon measures it for every epoch: see the status page (/), the <code>stream</code> series' <code>latency_ms</code> and the Grafana dashboard.",
            "",
        );

        let mut summary = String::new();
        let _ = write!(
            summary,
            "<table class=\"summary\"><tr><th>Input</th><td>{}</td></tr>\
             <tr><th>Span (GPST)</th><td>{} – {} ({})</td></tr>\
             <tr><th>Interval</th><td>{} s</td></tr>\
             <tr><th>Epochs</th><td>{} of {} expected ({:.1} %), {} gap{}</td></tr>\
             <tr><th>Solutions</th><td>{} ({:.1} % of epochs)</td></tr>{stats}",
            html_escape(&self.inputs.join(", ")),
            gpst_text(first),
            gpst_text(last),
            human_seconds(span),
            interval,
            self.qc.epochs,
            self.qc.expected(),
            100.0 * self.qc.epochs as f64 / self.qc.expected().max(1) as f64,
            gaps.len(),
            if gaps.len() == 1 { "" } else { "s" },
            self.sols.len(),
            100.0 * self.sols.len() as f64 / self.qc.epochs.max(1) as f64,
        );
        for l in self.qc.lines().iter().skip(1) {
            let _ = write!(
                summary,
                "<tr><th>Signals</th><td>{}</td></tr>",
                html_escape(l)
            );
        }
        for n in &self.notes {
            let _ = write!(summary, "<tr><th>Note</th><td>{}</td></tr>", html_escape(n));
        }
        summary.push_str("</table>");
        Ok(format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title><style>{CSS}</style></head><body>\
             <h1>{title}</h1><p class=\"by\">corsd {} station QC report</p>{summary}{body}</body></html>\n",
            env!("CARGO_PKG_VERSION"),
            title = html_escape(&self.title),
        ))
    }
}

const CSS: &str = "body{font-family:sans-serif;margin:1.5em auto;max-width:1140px;color:#222;padding:0 12px}\
h1{font-size:1.5em;margin-bottom:0}.by{color:#666;margin-top:.2em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}\
table{border-collapse:collapse;margin:.6em 0}th,td{text-align:left;padding:.25em .8em;border-bottom:1px solid #eee;vertical-align:top}\
th{color:#555;font-weight:600}.grid{display:flex;flex-wrap:wrap;gap:8px}svg{max-width:100%;height:auto}\
code{background:#f3f3f3;padding:0 .2em}";

fn section(out: &mut String, title: &str, text: &str, content: &str) {
    let _ = write!(
        out,
        "<section><h2>{}</h2><p>{text}</p>{}</section>",
        html_escape(title),
        if content.starts_with("<svg") {
            figure(content)
        } else {
            content.to_string()
        }
    );
}

fn figure(svg: &str) -> String {
    format!("<figure style=\"margin:0\">{svg}</figure>")
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn system_name(g: Gnss) -> &'static str {
    match g {
        Gnss::Gps => "GPS",
        Gnss::Glonass => "GLONASS",
        Gnss::Galileo => "Galileo",
        Gnss::Beidou => "BeiDou",
        Gnss::Qzss => "QZSS",
        Gnss::Sbas => "SBAS",
        _ => "NavIC",
    }
}

fn system_color(g: Gnss) -> plots::RGBColor {
    match g {
        Gnss::Gps => PALETTE[0],
        Gnss::Glonass => PALETTE[1],
        Gnss::Galileo => PALETTE[2],
        Gnss::Beidou => PALETTE[3],
        Gnss::Qzss => PALETTE[4],
        _ => PALETTE[6],
    }
}

/// The x axis of the time plots: minutes after the first epoch for short logs, hours of the day
/// for long ones.
struct TimeAxis {
    origin: Gpst,
    scale: f64,
    label: String,
}

impl TimeAxis {
    fn new(first: Gpst, span: f64) -> Self {
        let u = first.calendar();
        if span <= 3.0 * 3600.0 {
            let origin = Gpst::new(first.secs() - first.secs().rem_euclid(60), 0.0);
            TimeAxis {
                origin,
                scale: 1.0 / 60.0,
                label: format!(
                    "time (min after {:04}-{:02}-{:02} {:02}:{:02} GPST)",
                    u.year(),
                    u.month(),
                    u.day(),
                    u.hour(),
                    u.minute()
                ),
            }
        } else {
            let origin = Gpst::new(first.secs() - first.secs().rem_euclid(86_400), 0.0);
            TimeAxis {
                origin,
                scale: 1.0 / 3600.0,
                label: format!(
                    "time (h of {:04}-{:02}-{:02}, GPST)",
                    u.year(),
                    u.month(),
                    u.day()
                ),
            }
        }
    }

    fn x(&self, t: Gpst) -> f64 {
        t.diff(self.origin) * self.scale
    }
}

/// Values over time as at most [`MAX_POINTS`] points: bin means when there are more.
fn binned<T>(rows: &[(Gpst, T)], clock: &TimeAxis, f: impl Fn(&T) -> f64) -> Vec<(f64, f64)> {
    if rows.len() <= MAX_POINTS {
        return rows.iter().map(|(t, v)| (clock.x(*t), f(v))).collect();
    }
    let (first, last) = (rows[0].0, rows[rows.len() - 1].0);
    let width = (last.diff(first) / MAX_POINTS as f64).max(1.0);
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(MAX_POINTS + 1);
    let (mut bin, mut sum_t, mut sum, mut n) = (0i64, 0.0, 0.0, 0.0);
    for (t, v) in rows {
        let b = (t.diff(first) / width).floor() as i64;
        if b != bin && n > 0.0 {
            out.push((sum_t / n, sum / n));
            (sum_t, sum, n) = (0.0, 0.0, 0.0);
        }
        bin = b;
        sum_t += clock.x(*t);
        sum += f(v);
        n += 1.0;
    }
    if n > 0.0 {
        out.push((sum_t / n, sum / n));
    }
    out
}

/// Bin width for counts over time: about a hundred bins, never under the interval.
fn bin_seconds(span: f64, interval: f64) -> f64 {
    let raw = (span / 96.0).max(interval);
    [
        1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
    ]
    .into_iter()
    .find(|&w| w >= raw)
    .unwrap_or(3600.0)
}

fn human_seconds(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

fn gpst_text(t: Gpst) -> String {
    let u = t.calendar();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        u.year(),
        u.month(),
        u.day(),
        u.hour(),
        u.minute(),
        u.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_and_time_axis() {
        assert_eq!(bin_seconds(86_400.0, 30.0), 900.0);
        assert_eq!(bin_seconds(1320.0, 1.0), 30.0);
        let t0 = Gpst::from_week_tow(2000, 3600.0 * 5.5);
        let short = TimeAxis::new(t0, 600.0);
        assert!(short.label.starts_with("time (min after"));
        assert!((short.x(t0.add(120.0)) - 2.0).abs() < 1e-9);
        let long = TimeAxis::new(t0, 86_000.0);
        assert!((long.x(t0) - 5.5).abs() < 1e-9, "{}", long.x(t0));
        let rows: Vec<(Gpst, f64)> = (0..3000).map(|i| (t0.add(i as f64), 1.0)).collect();
        let b = binned(&rows, &long, |v| *v);
        assert!(b.len() <= MAX_POINTS + 1 && b.iter().all(|p| p.1 == 1.0));
    }
}
