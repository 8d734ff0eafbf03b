//! Precise orbits from SP3-c and SP3-d files (Hilla, "The Extended Standard Product 3 Orbit
//! Format (SP3-d)", IGS 2016; SP3-c is the same layout with fewer header lines).
//!
//! A file is read into per-satellite series of nodes (ECEF position of the centre of mass in
//! metres, clock in seconds), stamped in GPS time whatever the file's time system. Consecutive
//! files (one per day) are joined with [`Sp3::append`], so that a position near midnight is
//! interpolated over nodes of both days.
//!
//! Positions are interpolated with a Lagrange polynomial over [`NODES`] nodes (10th order, ±5
//! nodes around the instant at 15 min spacing), each node first rotated by the Earth's turn
//! between its epoch and the wanted instant so that the polynomial follows a near-inertial arc
//! (RTKLIB `pephpos` does the same). The window never reaches across a gap (two nodes further
//! apart than the file's interval) and never extrapolates: an instant outside the data or beside
//! a gap is an error naming the satellite and the nodes, not a guessed position. Velocity is the
//! central difference of two interpolated positions. SP3 clocks are linear between adjacent
//! nodes (15 min SP3 clocks are too coarse for centimetre work; the RINEX clock file is).
//!
//! Bad or absent values are missing, never zero: a position of 0.000000 and a clock of
//! 999999.999999 (or beyond) as the format specifies.

use nalgebra::Vector3;

use super::time::Gpst;
use super::{Gnss, SatMap, sat_name};

/// Nodes in one interpolation window: 11 nodes give a 10th-order polynomial.
pub const NODES: usize = 11;

/// The Earth's rotation rate (rad/s), IERS / WGS 84.
const OMEGA_E: f64 = 7.292_115_146_7e-5;

/// Clock values at or above this (µs) mark a bad or absent clock.
const BAD_CLOCK_US: f64 = 999_999.0;

/// Two nodes further apart than this many intervals border a gap.
const GAP_TOLERANCE: f64 = 1.01;

/// Half the step of the central difference that gives velocity (s).
const VELOCITY_HALF_STEP_S: f64 = 0.5;

/// What went wrong reading an SP3 file or interpolating its orbits.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Sp3Error {
    /// The text does not start with an SP3 version line (`#c` or `#d`).
    #[error("not an SP3-c/d file (first line {first:?})")]
    NotSp3 { first: String },
    /// A line could not be read.
    #[error("SP3 line {line}: {what}")]
    Line { line: usize, what: String },
    /// The time system is not one this reader converts to GPS time.
    #[error("SP3 time system {0:?} is not GPS, GAL, QZS, BDT, GLO, UTC or TAI")]
    TimeSystem(String),
    /// Two files to be joined use different reference frames.
    #[error("SP3 files in different frames: {first} and {second}")]
    FrameMismatch { first: String, second: String },
    /// The satellite is not in the products.
    #[error("satellite {sat} is not in the SP3 products")]
    NoSatellite { sat: String },
    /// The instant lies outside the satellite's nodes: extrapolation is refused.
    #[error("{sat} at {t}: outside the SP3 data ({first} to {last}); no extrapolation")]
    OutsideData {
        sat: String,
        t: String,
        first: String,
        last: String,
    },
    /// Fewer than [`NODES`] consecutive nodes surround the instant, or it falls in a gap.
    #[error("{sat} at {t}: SP3 gap, only {run} consecutive nodes from {from} to {to}")]
    Gap {
        sat: String,
        t: String,
        run: usize,
        from: String,
        to: String,
    },
    /// No clock on both sides of the instant at adjacent nodes.
    #[error("{sat} at {t}: no SP3 clock at the neighbouring nodes")]
    NoClock { sat: String, t: String },
}

/// One epoch of one satellite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Node {
    pub t: Gpst,
    /// ECEF position of the centre of mass (m), `None` when the file marks it bad.
    pub pos: Option<Vector3<f64>>,
    /// Clock offset (s), `None` when bad or absent.
    pub clock: Option<f64>,
}

/// The orbits of one SP3 file, or of consecutive files joined.
#[derive(Clone, Debug, PartialEq)]
pub struct Sp3 {
    /// `c` or `d`.
    pub version: char,
    /// Coordinate system label of the header (`IGb14`, `IGS14`, `IGS20`): the frame of the
    /// positions and of any coordinate computed from them.
    pub frame: String,
    /// The file's time system (`GPS`, …); nodes are converted to GPS time.
    pub time_system: String,
    /// Agency code (`GRGS`, `IAC`).
    pub agency: String,
    /// Epoch interval (s).
    pub interval_s: f64,
    /// Satellites listed in the header, in order.
    pub satellites: Vec<(Gnss, u8)>,
    series: SatMap<(Gnss, u8), Vec<Node>>,
    /// The nodes with a position, per satellite: what the interpolation walks, kept with
    /// `series` so that no lookup copies them.
    positions: SatMap<(Gnss, u8), Track>,
}

/// A satellite's nodes with a position, also turned into the Earth-fixed frame of one instant
/// `t0`: rotating every node to the frame of the wanted instant is then one rotation of the
/// interpolated sum instead of one per node (rotations about the pole add up).
#[derive(Clone, Debug)]
struct Track {
    t0: Gpst,
    nodes: Vec<(Gpst, Vector3<f64>)>,
    turned: Vec<Vector3<f64>>,
    /// The barycentric weights of each window of [`NODES`] nodes, by its first node, made when
    /// first wanted: they depend on the node times only, so an interpolation is then linear in
    /// the nodes. Most satellites and windows of a product file are never interpolated.
    weights: Vec<std::sync::OnceLock<[f64; NODES]>>,
}

impl PartialEq for Track {
    fn eq(&self, other: &Track) -> bool {
        (self.t0, &self.nodes) == (other.t0, &other.nodes)
    }
}

impl Track {
    fn new(nodes: Vec<(Gpst, Vector3<f64>)>) -> Track {
        let t0 = nodes.first().map_or(Gpst::new(0, 0.0), |n| n.0);
        let turned = nodes.iter().map(|(t, p)| turn(p, t.diff(t0))).collect();
        let weights = vec![std::sync::OnceLock::new(); (nodes.len() + 1).saturating_sub(NODES)];
        Track {
            t0,
            nodes,
            turned,
            weights,
        }
    }

    /// The weights of the window of [`NODES`] nodes from node `start`.
    fn window_weights(&self, start: usize) -> Option<&[f64; NODES]> {
        let cell = self.weights.get(start)?;
        Some(cell.get_or_init(|| {
            let mut w = [0.0; NODES];
            barycentric_weights(&self.nodes[start..start + NODES], &mut w);
            w
        }))
    }
}

/// `1 / Π (t_j − t_m)` over the other nodes `m` of the window, for each node `j`, into `out`.
fn barycentric_weights(window: &[(Gpst, Vector3<f64>)], out: &mut [f64]) {
    for (j, (w, (tj, _))) in out.iter_mut().zip(window).enumerate() {
        let den: f64 = window
            .iter()
            .enumerate()
            .filter(|&(m, _)| m != j)
            .map(|(_, (tm, _))| tj.diff(*tm))
            .product();
        *w = 1.0 / den;
    }
}

/// An Earth-fixed position of an instant `dt` seconds after `t`, seen from the Earth-fixed frame
/// of `t` (the Earth turns by ω·dt in between).
fn turn(p: &Vector3<f64>, dt: f64) -> Vector3<f64> {
    let (s, c) = (OMEGA_E * dt).sin_cos();
    Vector3::new(c * p.x - s * p.y, s * p.x + c * p.y, p.z)
}

/// A satellite's interpolated state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrbitState {
    /// ECEF position of the centre of mass at the instant (m).
    pub pos: Vector3<f64>,
    /// ECEF velocity (m/s).
    pub vel: Vector3<f64>,
}

impl Sp3 {
    /// Reads SP3-c or SP3-d text (the caller reads and decompresses the file).
    pub fn parse(text: &str) -> Result<Sp3, Sp3Error> {
        parse(text)
    }

    /// Orbits made by the caller (e.g. sampled from broadcast ephemerides) as an SP3 would
    /// hold them: `series` per satellite in time order, `interval_s` apart.
    pub fn from_nodes(
        frame: &str,
        agency: &str,
        interval_s: f64,
        series: Vec<((Gnss, u8), Vec<Node>)>,
    ) -> Sp3 {
        let mut map = SatMap::default();
        let mut satellites = Vec::with_capacity(series.len());
        for (sat, nodes) in series {
            satellites.push(sat);
            map.insert(sat, nodes);
        }
        let mut out = Sp3 {
            version: 'd',
            frame: frame.into(),
            time_system: "GPS".into(),
            agency: agency.into(),
            interval_s,
            satellites,
            series: map,
            positions: SatMap::default(),
        };
        out.index_positions();
        out
    }

    /// The nodes of one satellite, in time order.
    pub fn nodes(&self, sys: Gnss, prn: u8) -> &[Node] {
        self.series.get(&(sys, prn)).map_or(&[], Vec::as_slice)
    }

    /// Joins the next file (usually the next day). Nodes at an instant both files hold keep the
    /// first file's value. The frames must agree: mixing frames shifts a coordinate by
    /// centimetres without any sign of it.
    pub fn append(&mut self, other: Sp3) -> Result<(), Sp3Error> {
        if !self.frame.eq_ignore_ascii_case(&other.frame) {
            return Err(Sp3Error::FrameMismatch {
                first: self.frame.clone(),
                second: other.frame,
            });
        }
        self.interval_s = self.interval_s.max(other.interval_s);
        for sat in other.satellites {
            if !self.satellites.contains(&sat) {
                self.satellites.push(sat);
            }
        }
        for (sat, nodes) in other.series {
            let mine = self.series.entry(sat).or_default();
            for n in nodes {
                match mine.binary_search_by(|m| m.t.diff(n.t).total_cmp(&0.0)) {
                    Ok(i) => {
                        let m = &mut mine[i];
                        m.pos = m.pos.or(n.pos);
                        m.clock = m.clock.or(n.clock);
                    }
                    Err(i) => mine.insert(i, n),
                }
            }
        }
        self.index_positions();
        Ok(())
    }

    fn index_positions(&mut self) {
        self.positions = self
            .series
            .iter()
            .map(|(&sat, nodes)| {
                let p = nodes.iter().filter_map(|n| Some((n.t, n.pos?))).collect();
                (sat, Track::new(p))
            })
            .collect();
    }

    /// The ECEF position of a satellite's centre of mass at `t` (m).
    pub fn position(&self, sys: Gnss, prn: u8, t: Gpst) -> Result<Vector3<f64>, Sp3Error> {
        self.position_with(sys, prn, t, NODES)
    }

    /// [`position`](Self::position) over `nodes` nodes (order `nodes − 1`), to check the
    /// interpolation against another order.
    pub fn position_with(
        &self,
        sys: Gnss,
        prn: u8,
        t: Gpst,
        nodes: usize,
    ) -> Result<Vector3<f64>, Sp3Error> {
        let series = self.positions(sys, prn)?;
        interpolate(series, t, self.interval_s, sys, prn, nodes.max(2))
    }

    /// Position and velocity (central difference over ±0.5 s, one-sided at the data's ends).
    pub fn state(&self, sys: Gnss, prn: u8, t: Gpst) -> Result<OrbitState, Sp3Error> {
        let nodes = self.positions(sys, prn)?;
        let at = |dt: f64| interpolate(nodes, t.add(dt), self.interval_s, sys, prn, NODES);
        let pos = at(0.0)?;
        let h = VELOCITY_HALF_STEP_S;
        let vel = match (at(-h), at(h)) {
            (Ok(a), Ok(b)) => (b - a) / (2.0 * h),
            (Err(_), Ok(b)) => (b - pos) / h,
            (Ok(a), Err(_)) => (pos - a) / h,
            (Err(e), Err(_)) => return Err(e),
        };
        Ok(OrbitState { pos, vel })
    }

    /// The SP3 clock at `t` (s), linear between the two adjacent nodes around it.
    pub fn clock(&self, sys: Gnss, prn: u8, t: Gpst) -> Result<f64, Sp3Error> {
        let nodes = self.nodes(sys, prn);
        let none = || Sp3Error::NoClock {
            sat: sat_name(sys, prn),
            t: show(t),
        };
        let k = nodes.partition_point(|n| n.t.diff(t) <= 0.0);
        let before = k
            .checked_sub(1)
            .and_then(|i| nodes.get(i))
            .ok_or_else(none)?;
        if before.t.diff(t) == 0.0 {
            return before.clock.ok_or_else(none);
        }
        let after = nodes.get(k).ok_or_else(none)?;
        let span = after.t.diff(before.t);
        match (before.clock, after.clock) {
            (Some(a), Some(b)) if span <= self.interval_s * GAP_TOLERANCE => {
                Ok(a + (b - a) * t.diff(before.t) / span)
            }
            _ => Err(none()),
        }
    }

    fn positions(&self, sys: Gnss, prn: u8) -> Result<&Track, Sp3Error> {
        self.positions
            .get(&(sys, prn))
            .ok_or_else(|| Sp3Error::NoSatellite {
                sat: sat_name(sys, prn),
            })
    }
}

/// An instant as the errors print it.
fn show(t: Gpst) -> String {
    t.calendar().format("%Y-%m-%d %H:%M:%S GPST").to_string()
}

/// Lagrange interpolation over the `n` consecutive nodes best centred on `t`.
fn interpolate(
    track: &Track,
    t: Gpst,
    interval: f64,
    sys: Gnss,
    prn: u8,
    n: usize,
) -> Result<Vector3<f64>, Sp3Error> {
    let sat = || sat_name(sys, prn);
    let nodes = &track.nodes;
    let (Some(first), Some(last)) = (nodes.first(), nodes.last()) else {
        return Err(Sp3Error::NoSatellite { sat: sat() });
    };
    if t.diff(first.0) < 0.0 || t.diff(last.0) > 0.0 {
        return Err(Sp3Error::OutsideData {
            sat: sat(),
            t: show(t),
            first: show(first.0),
            last: show(last.0),
        });
    }
    // Nodes at or before t; at least one, as t is not before the first.
    let k = nodes.partition_point(|n| n.0.diff(t) <= 0.0);
    let i = k.saturating_sub(1);
    if nodes[i].0.diff(t) == 0.0 {
        return Ok(nodes[i].1);
    }
    let joined = |a: usize| nodes[a + 1].0.diff(nodes[a].0) <= interval * GAP_TOLERANCE;
    // The run of gap-free nodes holding i and i + 1 (t lies strictly between them), looked for
    // no further than n nodes either side: a run cut there is long enough, and the window
    // placed in it is the same.
    let (lo_limit, hi_limit) = (i.saturating_sub(n), i + 1 + n);
    let mut lo = i;
    while lo > lo_limit && joined(lo - 1) {
        lo -= 1;
    }
    let mut hi = i;
    if joined(i) {
        hi = i + 1;
        while hi + 1 < nodes.len() && hi < hi_limit && joined(hi) {
            hi += 1;
        }
    }
    let run = hi + 1 - lo;
    if hi == i || run < n {
        return Err(Sp3Error::Gap {
            sat: sat(),
            t: show(t),
            run,
            from: show(nodes[lo].0),
            to: show(nodes[hi].0),
        });
    }
    let start = (i + 1).saturating_sub(n / 2).clamp(lo, hi + 1 - n);
    let window = &nodes[start..start + n];
    let mut own;
    let weights = match (n == NODES).then(|| track.window_weights(start)).flatten() {
        Some(w) => &w[..],
        _ => {
            own = vec![0.0; n];
            barycentric_weights(window, &mut own);
            &own[..]
        }
    };
    // Lagrange's basis in barycentric form, l_j(t) = w_j Π_m (t − t_m) / (t − t_j): with the
    // weights ready, n divisions and products per instant instead of n² (most of a survey's
    // orbit time before). t is strictly between two nodes, so no t − t_j is zero; the products of
    // eleven spans of at most hours stay far inside f64's range.
    let mut sum = Vector3::zeros();
    let mut whole = 1.0;
    for ((node, p), w) in window
        .iter()
        .zip(&track.turned[start..start + n])
        .zip(weights)
    {
        let x = t.diff(node.0);
        whole *= x;
        sum += p * (w / x);
    }
    let sum = sum * whole;
    // The sum of the nodes as seen at t0, seen from the Earth-fixed frame of the instant t.
    Ok(turn(&sum, track.t0.diff(t)))
}

/// Converts a calendar time in the file's time system to GPS time.
pub(crate) fn to_gpst(
    system: &str,
    y: i32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
    s: f64,
) -> Option<Result<Gpst, String>> {
    let t = Gpst::from_calendar(y, mo, d, h, mi, s)?;
    let shift = |t: Gpst| {
        Gpst::from_utc(
            chrono::DateTime::<chrono::Utc>::from_timestamp(t.calendar().timestamp(), 0)
                .unwrap_or_default(),
        )
        .add(t.frac())
    };
    Some(match system {
        // `ccc`: the unset placeholder of older files, which were GPS time.
        "GPS" | "GAL" | "QZS" | "IRN" | "ccc" | "" => Ok(t),
        "BDT" => Ok(t.add(14.0)),
        "TAI" => Ok(t.add(-19.0)),
        "UTC" => Ok(shift(t)),
        "GLO" => Ok(shift(t.add(-3.0 * 3600.0))),
        other => Err(other.to_string()),
    })
}

/// Characters `a..b` (0-based, clamped) of a line, trimmed.
fn col(line: &str, a: usize, b: usize) -> &str {
    line.get(a.min(line.len())..b.min(line.len()))
        .unwrap_or("")
        .trim()
}

/// A satellite code `G01` (SP3-a/b files wrote ` 1` for GPS).
fn satellite(code: &str) -> Option<(Gnss, u8)> {
    let code = code.trim();
    let (sys, num) = match code.chars().next()? {
        c if c.is_ascii_digit() => (Gnss::Gps, code),
        c => (Gnss::from_letter(c)?, code.get(1..)?.trim()),
    };
    let n: u8 = num.parse().ok()?;
    let prn = match sys {
        Gnss::Qzss => n.checked_add(192)?,
        Gnss::Sbas => n.checked_add(100)?,
        _ => n,
    };
    Some((sys, prn))
}

fn parse(text: &str) -> Result<Sp3, Sp3Error> {
    let mut lines = super::lines::lines(text).enumerate();
    let first = lines.next().map(|(_, l)| l).unwrap_or("");
    let version = match first.get(..2) {
        Some("#c") => 'c',
        Some("#d") => 'd',
        _ => {
            return Err(Sp3Error::NotSp3 {
                first: first.chars().take(60).collect(),
            });
        }
    };
    let bad = |line: usize, what: &str| Sp3Error::Line {
        line: line + 1,
        what: what.to_string(),
    };
    let mut out = Sp3 {
        version,
        frame: col(first, 46, 51).to_string(),
        time_system: String::new(),
        agency: col(first, 56, 60).to_string(),
        interval_s: 0.0,
        satellites: Vec::new(),
        series: SatMap::default(),
        positions: SatMap::default(),
    };
    if out.frame.is_empty() {
        return Err(bad(0, "no coordinate system label (columns 47-51)"));
    }
    let mut declared: Option<usize> = None;
    let mut epoch: Option<Gpst> = None;
    let mut time_system_seen = false;
    for (ln, line) in lines {
        let head = line.get(..2).unwrap_or(line);
        match head {
            "##" => {
                out.interval_s = col(line, 24, 38)
                    .parse()
                    .ok()
                    .filter(|v: &f64| *v > 0.0 && v.is_finite())
                    .ok_or_else(|| bad(ln, "epoch interval (columns 25-38)"))?;
            }
            "+ " if epoch.is_none() => {
                if declared.is_none() {
                    declared = Some(
                        col(line, 1, 6)
                            .parse()
                            .map_err(|_| bad(ln, "number of satellites"))?,
                    );
                }
                let ids = line.get(9..).unwrap_or("");
                for chunk in ids.as_bytes().chunks(3) {
                    let code = std::str::from_utf8(chunk).unwrap_or("");
                    if code.trim().is_empty() || code.trim() == "0" || code.trim() == "00" {
                        continue;
                    }
                    let sat = satellite(code)
                        .ok_or_else(|| bad(ln, &format!("satellite id {code:?}")))?;
                    out.satellites.push(sat);
                }
            }
            "%c" if !time_system_seen => {
                time_system_seen = true;
                out.time_system = col(line, 9, 12).to_string();
                if to_gpst(&out.time_system, 2000, 1, 1, 0, 0, 0.0).is_some_and(|r| r.is_err()) {
                    return Err(Sp3Error::TimeSystem(out.time_system));
                }
            }
            "* " => {
                let f: Vec<&str> = line[1..].split_whitespace().collect();
                let t = (f.len() >= 6)
                    .then(|| {
                        let n = |i: usize| f[i].parse::<u32>().ok();
                        to_gpst(
                            &out.time_system,
                            f[0].parse().ok()?,
                            n(1)?,
                            n(2)?,
                            n(3)?,
                            n(4)?,
                            f[5].parse().ok()?,
                        )
                    })
                    .flatten()
                    .ok_or_else(|| bad(ln, "epoch"))?
                    .map_err(Sp3Error::TimeSystem)?;
                epoch = Some(t);
            }
            _ if head.starts_with('P') && epoch.is_some() => {
                let t = epoch.unwrap_or_default();
                let sat = satellite(col(line, 1, 4)).ok_or_else(|| bad(ln, "satellite id"))?;
                let v = |a: usize, b: usize| -> Result<f64, Sp3Error> {
                    match col(line, a, b) {
                        "" => Ok(0.0),
                        s => s
                            .parse::<f64>()
                            .ok()
                            .filter(|v| v.is_finite())
                            .ok_or_else(|| bad(ln, &format!("{s:?} is not a number"))),
                    }
                };
                let p = Vector3::new(v(4, 18)?, v(18, 32)?, v(32, 46)?);
                let clk = v(46, 60)?;
                let node = Node {
                    t,
                    pos: (p != Vector3::zeros()).then_some(p * 1e3),
                    clock: (clk != 0.0 && clk.abs() < BAD_CLOCK_US).then_some(clk * 1e-6),
                };
                let series = out.series.entry(sat).or_default();
                match series.last() {
                    Some(last) if last.t.diff(t) >= 0.0 => {
                        return Err(bad(
                            ln,
                            &format!("{} repeated or out of order", sat_name(sat.0, sat.1)),
                        ));
                    }
                    _ => series.push(node),
                }
            }
            "EO" if line.starts_with("EOF") => break,
            _ => {}
        }
    }
    if out.interval_s == 0.0 {
        return Err(bad(1, "no `##` line with the epoch interval"));
    }
    if let Some(n) = declared
        && n != out.satellites.len()
    {
        return Err(bad(
            2,
            &format!("{n} satellites declared, {} listed", out.satellites.len()),
        ));
    }
    out.index_positions();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic orbit: a circular arc in an inertial frame, seen from the rotating Earth.
    fn circular(t: f64) -> Vector3<f64> {
        let r: f64 = 26_560e3;
        let n = (3.986_004_418e14 / (r * r * r)).sqrt();
        let (u, i) = (n * t, 55f64.to_radians());
        let inertial = Vector3::new(r * u.cos(), r * u.sin() * i.cos(), r * u.sin() * i.sin());
        let (s, c) = (OMEGA_E * t).sin_cos();
        Vector3::new(
            c * inertial.x + s * inertial.y,
            -s * inertial.x + c * inertial.y,
            inertial.z,
        )
    }

    fn text(epochs: usize, skip: &[usize]) -> String {
        let mut s = String::from(
            "#cP2020  6 25  0  0  0.00000000      96 ORBIT IGb14 FIT TEST\n\
             ## 2111 345600.00000000   900.00000000 59025 0.0000000000000\n\
             +    1   G01  0  0\n\
             %c G  cc GPS ccc cccc cccc cccc cccc ccccc ccccc ccccc ccccc\n",
        );
        for k in 0..epochs {
            let t = k as f64 * 900.0;
            let (h, m) = (k * 15 / 60, k * 15 % 60);
            s += &format!("*  2020  6 25 {h:2} {m:2}  0.00000000\n");
            if skip.contains(&k) {
                s += "PG01      0.000000      0.000000      0.000000 999999.999999\n";
                continue;
            }
            let p = circular(t) / 1e3;
            s += &format!(
                "PG01{:14.6}{:14.6}{:14.6}{:14.6}\n",
                p.x,
                p.y,
                p.z,
                100.0 + k as f64
            );
        }
        s + "EOF\n"
    }

    fn t0() -> Gpst {
        Gpst::from_calendar(2020, 6, 25, 0, 0, 0.0).unwrap()
    }

    #[test]
    fn header_and_nodes() {
        let sp3 = Sp3::parse(&text(30, &[3])).unwrap();
        assert_eq!((sp3.version, sp3.frame.as_str()), ('c', "IGb14"));
        assert_eq!(sp3.time_system, "GPS");
        assert_eq!(sp3.interval_s, 900.0);
        assert_eq!(sp3.satellites, vec![(Gnss::Gps, 1)]);
        let n = sp3.nodes(Gnss::Gps, 1);
        assert_eq!(n.len(), 30);
        assert_eq!((n[3].pos, n[3].clock), (None, None));
        assert_eq!(n[4].clock, Some(104e-6));
    }

    #[test]
    fn interpolation_follows_the_arc() {
        let sp3 = Sp3::parse(&text(40, &[])).unwrap();
        // The file rounds to a millimetre; in the first interval the window cannot be centred
        // and the polynomial is looser there.
        for (k, tol) in [
            (60.0, 1e-2),
            (7_000.0, 2e-3),
            (15_000.0, 2e-3),
            (33_000.0, 2e-3),
        ] {
            let p = sp3.position(Gnss::Gps, 1, t0().add(k)).unwrap();
            assert!(
                (p - circular(k)).norm() < tol,
                "{k}: {}",
                (p - circular(k)).norm()
            );
        }
        let s = sp3.state(Gnss::Gps, 1, t0().add(15_000.0)).unwrap();
        let v = (circular(15_000.5) - circular(14_999.5)) / 1.0;
        assert!((s.vel - v).norm() < 1e-3, "{}", (s.vel - v).norm());
        let c = sp3.clock(Gnss::Gps, 1, t0().add(450.0)).unwrap();
        assert!((c - 100.5e-6).abs() < 1e-15);
    }

    #[test]
    fn refuses_extrapolation_and_gaps() {
        let sp3 = Sp3::parse(&text(40, &[20])).unwrap();
        let e = sp3.position(Gnss::Gps, 1, t0().add(-1.0)).unwrap_err();
        assert!(matches!(e, Sp3Error::OutsideData { .. }), "{e}");
        let e = sp3
            .position(Gnss::Gps, 1, t0().add(39.0 * 900.0 + 1.0))
            .unwrap_err();
        assert!(matches!(e, Sp3Error::OutsideData { .. }), "{e}");
        let e = sp3
            .position(Gnss::Gps, 1, t0().add(19.5 * 900.0))
            .unwrap_err();
        assert!(e.to_string().contains("gap"), "{e}");
        // Beside the gap but with 11 nodes on one side: interpolated from that side.
        assert!(sp3.position(Gnss::Gps, 1, t0().add(17.5 * 900.0)).is_ok());
        assert!(sp3.clock(Gnss::Gps, 1, t0().add(19.5 * 900.0)).is_err());
        let e = sp3.position(Gnss::Gps, 2, t0()).unwrap_err();
        assert_eq!(e.to_string(), "satellite G02 is not in the SP3 products");
    }

    #[test]
    fn bad_input_names_the_problem() {
        assert!(matches!(Sp3::parse("RINEX"), Err(Sp3Error::NotSp3 { .. })));
        let t = text(3, &[]).replace("PG01  ", "PG01 x");
        let e = Sp3::parse(&t).unwrap_err();
        assert!(e.to_string().starts_with("SP3 line 6"), "{e}");
        let t = text(3, &[]).replace(" GPS ", " XYZ ");
        assert!(matches!(Sp3::parse(&t), Err(Sp3Error::TimeSystem(_))));
        let mut a = Sp3::parse(&text(3, &[])).unwrap();
        let b = Sp3::parse(&text(3, &[]).replace("IGb14", "IGS20")).unwrap();
        assert!(matches!(a.append(b), Err(Sp3Error::FrameMismatch { .. })));
    }
}
