//! SVG charts for the QC report, drawn with plotters. Every chart has labelled axes with units;
//! text is left to the browser's sans-serif font (no font files in the binary).

use super::ReportError;
use plotters::chart::SeriesLabelStyle;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
pub use plotters::style::RGBColor;

type Result<T> = std::result::Result<T, ReportError>;

/// Series colours, distinguishable for the common forms of colour blindness (Okabe–Ito).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];

const FONT: &str = "sans-serif";

/// One line series.
pub struct Line<'a> {
    pub name: &'a str,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
}

/// Axes of a chart.
pub struct Axes<'a> {
    pub title: &'a str,
    pub x: &'a str,
    pub y: &'a str,
}

/// The builder every chart starts from: title, margins and label areas.
fn builder<'a, 'b, 'c>(
    root: &'a DrawingArea<SVGBackend<'c>, Shift>,
    title: &str,
    x_area: u32,
    y_area: u32,
) -> ChartBuilder<'a, 'b, SVGBackend<'c>> {
    let mut b = ChartBuilder::on(root);
    b.caption(title, (FONT, 17))
        .margin(12)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area);
    b
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The grid with both axes named (and their units).
fn labelled_mesh(chart: &mut Chart<'_, '_>, axes: &Axes) -> Result<()> {
    chart
        .configure_mesh()
        .x_desc(axes.x)
        .y_desc(axes.y)
        .label_style((FONT, 13))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    Ok(())
}

/// The legend box every chart uses, drawn.
fn legend_box<'a, 'b, CT: CoordTranslate>(
    mut labels: SeriesLabelStyle<'a, 'b, SVGBackend<'a>, CT>,
    at: SeriesLabelPosition,
) -> Result<()> {
    labels
        .position(at)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .draw()?;
    Ok(())
}

/// Draw a line as its runs (see [`split_runs`]) with one legend entry, on the primary
/// (`draw_series`) or secondary (`draw_secondary_series`) axes.
macro_rules! draw_runs {
    ($chart:expr, $method:ident, $line:expr, $gap:expr) => {{
        let color = $line.color;
        for (i, run) in split_runs(&$line.points, $gap).into_iter().enumerate() {
            let s = $chart.$method(LineSeries::new(run.iter().copied(), color.stroke_width(2)))?;
            if i == 0 {
                s.label($line.name).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3))
                });
            }
        }
    }};
}

fn draw<F>(size: (u32, u32), f: F) -> Result<String>
where
    F: FnOnce(&DrawingArea<SVGBackend, Shift>) -> Result<()>,
{
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, size).into_drawing_area();
        root.fill(&WHITE)?;
        f(&root)?;
        root.present()?;
    }
    Ok(s)
}

/// A range padded by 5 % (and a unit when it is flat), so that no point sits on the frame.
pub fn padded(lo: f64, hi: f64) -> std::ops::Range<f64> {
    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
        return 0.0..1.0;
    }
    let pad = ((hi - lo) * 0.05).max(if hi == lo { 0.5 } else { 0.0 });
    (lo - pad)..(hi + pad)
}

fn bounds<'a>(it: impl Iterator<Item = &'a (f64, f64)>) -> (f64, f64, f64, f64) {
    it.fold(
        (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ),
        |(a, b, c, d), &(x, y)| (a.min(x), b.max(x), c.min(y), d.max(y)),
    )
}

/// Lines against a common x axis; gaps in the data (x steps over `break_over`) break the line.
pub fn lines(axes: &Axes, lines: &[Line], break_over: f64, size: (u32, u32)) -> Result<String> {
    lines_within(axes, lines, break_over, size, None)
}

/// [`lines`] on a fixed y range (percentages, counts from zero).
pub fn lines_within(
    axes: &Axes,
    lines: &[Line],
    break_over: f64,
    size: (u32, u32),
    y_range: Option<std::ops::Range<f64>>,
) -> Result<String> {
    let (x0, x1, y0, y1) = bounds(lines.iter().flat_map(|l| l.points.iter()));
    draw(size, |root| {
        let mut chart = builder(root, axes.title, 44, 64)
            .build_cartesian_2d(padded(x0, x1), y_range.unwrap_or_else(|| padded(y0, y1)))?;
        labelled_mesh(&mut chart, axes)?;
        for l in lines {
            draw_runs!(chart, draw_series, l, break_over);
        }
        if lines.len() > 1 {
            legend_box(
                chart.configure_series_labels(),
                SeriesLabelPosition::UpperRight,
            )?;
        }
        Ok(())
    })
}

/// Consecutive stretches of points without a step over `gap` in x.
fn split_runs(points: &[(f64, f64)], gap: f64) -> Vec<&[(f64, f64)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..points.len() {
        if points[i].0 - points[i - 1].0 > gap {
            out.push(&points[start..i]);
            start = i;
        }
    }
    if start < points.len() {
        out.push(&points[start..]);
    }
    out
}

/// Two quantities over time on their own y axes (left: lines[0], right: lines[1]).
pub fn two_axes(
    axes: &Axes,
    y2: &str,
    left: &Line,
    right: &Line,
    break_over: f64,
    size: (u32, u32),
) -> Result<String> {
    let (x0, x1, _, ly1) = bounds(left.points.iter());
    let (_, _, _, ry1) = bounds(right.points.iter());
    draw(size, |root| {
        let mut chart = builder(root, axes.title, 44, 64)
            .right_y_label_area_size(64)
            .build_cartesian_2d(padded(x0, x1), 0.0..(ly1.max(1.0) * 1.1))?
            .set_secondary_coord(padded(x0, x1), 0.0..(ry1.max(1.0) * 1.1));
        labelled_mesh(&mut chart, axes)?;
        chart
            .configure_secondary_axes()
            .y_desc(y2)
            .label_style((FONT, 13))
            .draw()?;
        draw_runs!(chart, draw_series, left, break_over);
        draw_runs!(chart, draw_secondary_series, right, break_over);
        legend_box(
            chart.configure_series_labels(),
            SeriesLabelPosition::UpperRight,
        )?;
        Ok(())
    })
}

/// Vertical bars, one per category, coloured by group.
pub fn bars(
    axes: &Axes,
    bars: &[(String, f64, RGBColor)],
    y_max: Option<f64>,
    size: (u32, u32),
) -> Result<String> {
    let top = y_max.unwrap_or_else(|| bars.iter().map(|b| b.1).fold(0.0, f64::max) * 1.15);
    let n = bars.len().max(1);
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    draw(size, |root| {
        let mut chart = builder(root, axes.title, 56, 64)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..top.max(1e-3))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    labels.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .x_desc(axes.x)
            .y_desc(axes.y)
            .label_style((FONT, 12))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
            let x = i as f64;
            Rectangle::new([(x - 0.38, 0.0), (x + 0.38, b.1)], b.2.filled())
        }))?;
        Ok(())
    })
}

/// A named, coloured group of points.
pub type Group = (String, RGBColor, Vec<(f64, f64)>);

/// Density scatter: cells (x, y) with counts, drawn as small squares shaded by count.
pub fn cells(
    axes: &Axes,
    groups: &[Group],
    x_range: std::ops::Range<f64>,
    y_range: std::ops::Range<f64>,
    size: (u32, u32),
) -> Result<String> {
    draw(size, |root| {
        let mut chart = builder(root, axes.title, 44, 64).build_cartesian_2d(x_range, y_range)?;
        labelled_mesh(&mut chart, axes)?;
        for (name, color, pts) in groups {
            let c = *color;
            chart
                .draw_series(
                    pts.iter()
                        .map(|&(x, y)| Circle::new((x, y), 2, c.mix(0.55).filled())),
                )?
                .label(name.as_str())
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, c.filled()));
        }
        legend_box(
            chart.configure_series_labels(),
            SeriesLabelPosition::LowerRight,
        )?;
        Ok(())
    })
}

/// A satellite's track for the sky plot: (elevation, azimuth) in degrees.
pub struct Track {
    pub label: String,
    pub color: RGBColor,
    pub points: Vec<(f64, f64)>,
}

/// Sky plot: north up, east right, zenith in the centre, the horizon on the outer ring.
/// Plotted as the zenith distance (90° − elevation) along each azimuth.
pub fn sky(
    title: &str,
    tracks: &[Track],
    legend: &[(String, RGBColor)],
    side: u32,
) -> Result<String> {
    let xy = |el: f64, az: f64| {
        let r = 90.0 - el.clamp(0.0, 90.0);
        let a = az.to_radians();
        (r * a.sin(), r * a.cos())
    };
    draw((side, side + 10), |root| {
        let mut chart =
            builder(root, title, 44, 52).build_cartesian_2d(-100.0..100.0, -100.0..100.0)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_label_formatter(&|v: &f64| format!("{:.0}", v.abs()))
            .y_label_formatter(&|v: &f64| format!("{:.0}", v.abs()))
            .x_desc("west ← zenith distance 90° − elevation (°) → east")
            .y_desc("south ← 90° − elevation (°) → north")
            .label_style((FONT, 12))
            .draw()?;
        let grey = RGBColor(200, 200, 200);
        for el in [0.0, 30.0, 60.0] {
            let ring: Vec<(f64, f64)> = (0..=72).map(|k| xy(el, k as f64 * 5.0)).collect();
            chart.draw_series(LineSeries::new(ring, grey.stroke_width(1)))?;
            let (x, y) = xy(el, 0.0);
            chart.draw_series(std::iter::once(Text::new(
                format!("{el:.0}°"),
                (x + 1.5, y - 1.5),
                (FONT, 11).into_font().color(&RGBColor(120, 120, 120)),
            )))?;
        }
        for az in (0..360).step_by(30) {
            let az = az as f64;
            chart.draw_series(LineSeries::new(
                vec![xy(90.0, az), xy(0.0, az)],
                grey.stroke_width(1),
            ))?;
        }
        for (name, az) in [("N", 0.0), ("E", 90.0), ("S", 180.0), ("W", 270.0)] {
            let (x, y) = xy(-8.0, az);
            chart.draw_series(std::iter::once(Text::new(
                name,
                (x - 2.5, y + 3.0),
                (FONT, 14).into_font().color(&BLACK),
            )))?;
        }
        for t in tracks {
            let pts: Vec<(f64, f64)> = t.points.iter().map(|&(el, az)| xy(el, az)).collect();
            // A track that crosses north (azimuth 359° → 1°) is one line, not a chord: only
            // successive points less than 20° of zenith distance apart are joined.
            let mut run: Vec<(f64, f64)> = Vec::new();
            for p in pts.iter().copied() {
                if let Some(q) = run.last()
                    && ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt() > 20.0
                {
                    chart.draw_series(LineSeries::new(run.drain(..), t.color.stroke_width(2)))?;
                }
                run.push(p);
            }
            chart.draw_series(LineSeries::new(run, t.color.stroke_width(2)))?;
            if let Some(&(x, y)) = pts.last() {
                chart.draw_series(std::iter::once(Circle::new((x, y), 3, t.color.filled())))?;
                chart.draw_series(std::iter::once(Text::new(
                    t.label.clone(),
                    (x + 2.0, y + 2.0),
                    (FONT, 11).into_font().color(&BLACK),
                )))?;
            }
        }
        for (name, c) in legend {
            let c = *c;
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(3))
                });
        }
        if !legend.is_empty() {
            legend_box(
                chart.configure_series_labels(),
                SeriesLabelPosition::UpperLeft,
            )?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_axis_labels() {
        let l = Line {
            name: "east",
            color: PALETTE[0],
            points: vec![(0.0, 1.0), (1.0, 2.0), (5.0, 1.5)],
        };
        let svg = lines(
            &Axes {
                title: "t",
                x: "time (min)",
                y: "offset (m)",
            },
            &[l],
            2.0,
            (600, 300),
        )
        .unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("time (min)") && svg.contains("offset (m)")
        );
        let s = sky(
            "sky",
            &[Track {
                label: "C01".into(),
                color: PALETTE[1],
                points: vec![(45.0, 359.0), (46.0, 1.0)],
            }],
            &[],
            400,
        )
        .unwrap();
        assert!(s.contains("C01") && s.contains("elevation (°)"));
        assert_eq!(
            split_runs(&[(0.0, 0.0), (1.0, 0.0), (9.0, 0.0)], 2.0).len(),
            2
        );
        assert_eq!(padded(1.0, 1.0), 0.5..1.5);
    }
}
