//! Daily coordinate monitoring: once an archived GNSS day is complete, the static PPP survey of
//! that day's observations (the archive's hourly RINEX files, or any RINEX observation file
//! placed in the day's directory; the raw RTCM3 files when there is none), decimated to 30 s,
//! with the day's precise products from the products directory, or broadcast orbits and clocks
//! as a metre-level fallback. It gives `station_coordinate` (the marker; offsets of the antenna
//! reference point from `[station] position`, which is the ARP), the filter's zenith delays
//! every 5 min as `troposphere`, and an `event` when a precise coordinate leaves the thresholds
//! around the configured position or the previous days' median.

use std::path::{Path, PathBuf};

use nalgebra::Vector3;

use super::products_dir::{self, Day, DayProducts};
use super::state::{DayRecord, State};
use super::{Coordinate, Session};
use crate::gnss::Gnss;
use crate::gnss::antex::Antex;
use crate::gnss::geodesy::{ecef_to_geodetic, enu_rotation};
use crate::gnss::nav::EphemerisStore;
use crate::gnss::ppp::{Ppp, PppEpoch, PppOptions, Products, Receiver, SatAntexPolicy};
use crate::gnss::time::Gpst;
use crate::telemetry::{Point, gpst_to_unix_ns};

/// `[coordinates]`.
#[derive(Clone, Debug, PartialEq)]
pub struct DailySettings {
    /// Where the SP3 and clock files arrive.
    pub products: PathBuf,
    /// ANTEX files: the receiver antenna from the first that has it, satellites from all.
    pub atx: Vec<PathBuf>,
    /// Thresholds from the configured position and from the trend (m).
    pub horizontal_m: f64,
    pub up_m: f64,
    /// Precise days whose median is the trend (3 needed before it is used).
    pub trend_days: usize,
    /// How often the archive and the products directory are looked at again (s), besides
    /// start-up and each GNSS day's end plus the margin.
    pub recheck_s: f64,
    /// How long after a GNSS day's end its archive counts as complete (s).
    pub margin_s: f64,
    pub broadcast_fallback: bool,
    /// A broadcast solution farther than this (3D, m) from the configured position raises an
    /// event: anything closer is within what broadcast orbits can tell.
    pub broadcast_bound_m: f64,
    pub systems: Vec<Gnss>,
    /// Days further back than this are not surveyed at start-up (0: every archived day).
    pub backfill_days: u32,
    pub sat_antex: SatAntexPolicy,
    /// Epoch spacing the observations are decimated to (s).
    pub interval_s: f64,
    /// Elevation mask (degrees).
    pub mask_deg: f64,
}

impl Default for DailySettings {
    fn default() -> Self {
        DailySettings {
            products: PathBuf::from("/var/lib/corsd/products"),
            atx: Vec::new(),
            horizontal_m: 0.02,
            up_m: 0.04,
            trend_days: 7,
            recheck_s: 3600.0,
            margin_s: 1800.0,
            broadcast_fallback: true,
            broadcast_bound_m: 10.0,
            systems: vec![Gnss::Gps],
            backfill_days: 30,
            sat_antex: SatAntexPolicy::Strict,
            interval_s: 30.0,
            mask_deg: 10.0,
        }
    }
}

/// The station facts the survey needs.
#[derive(Clone, Debug)]
pub struct StationFacts {
    pub name: String,
    /// The configured ARP (ECEF, m).
    pub position: Option<Vector3<f64>>,
    /// `[station] antenna`, for observations whose header names none.
    pub antenna: String,
}

/// The days in `station_dir` (`ARCHIVE/SSSS`) to survey now: complete, within the backfill,
/// and not surveyed yet (or surveyed without precise products that have arrived since).
pub fn pending(station_dir: &Path, now: Gpst, s: &DailySettings, state: &State) -> Vec<Day> {
    let mut days = Vec::new();
    // Read once, and only when a day waits for products.
    let mut catalog = None;
    let Ok(years) = std::fs::read_dir(station_dir) else {
        return days;
    };
    for y in years.flatten() {
        let Some(year) = y.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(doys) = std::fs::read_dir(y.path()) else {
            continue;
        };
        for d in doys.flatten() {
            let Some(doy) = d.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let day = Day { year, doy };
            if !(1..=366).contains(&doy) || now.diff(day.end()) < s.margin_s {
                continue;
            }
            if s.backfill_days > 0 && now.diff(day.end()) > s.backfill_days as f64 * 86_400.0 {
                continue;
            }
            let again = match state.days.get(&day) {
                None => true,
                Some(r) => {
                    r.awaiting_products
                        && catalog
                            .get_or_insert_with(|| products_dir::Catalog::of(&s.products))
                            .find(day)
                            .is_some()
                }
            };
            if again {
                days.push(day);
            }
        }
    }
    days.sort();
    days
}

/// Seconds from `now` until the survey looks again: at the next GNSS day's end plus the margin
/// (that day is then complete), or after `recheck_s` (new products, a day put in the archive),
/// whichever comes first.
pub fn next_look(now: Gpst, s: &DailySettings) -> f64 {
    let start = Day::of(now).start();
    let since = now.diff(start) - s.margin_s;
    // The first day end plus margin strictly after now, whatever the margin's length.
    let k = (since / 86_400.0).floor() + 1.0;
    let due = start.add(s.margin_s + k * 86_400.0);
    due.diff(now).min(s.recheck_s).max(0.0)
}

/// What surveying a day gave: the record to keep, the points to write, lines for the log.
pub struct Outcome {
    pub record: DayRecord,
    pub points: Vec<Point>,
    pub log: Vec<(bool, String)>,
}

impl Outcome {
    fn failed(day: Day, error: String, awaiting_products: bool) -> Outcome {
        Outcome {
            record: DayRecord {
                day: day.label(),
                products: "none".into(),
                xyz: None,
                denu: None,
                error: Some(error.clone()),
                awaiting_products,
            },
            points: Vec::new(),
            log: vec![(true, error)],
        }
    }
}

/// Surveys `day` from the files in `dir` (`ARCHIVE/SSSS/YYYY/DDD`); `None` when `go_on`
/// said stop.
pub fn survey_day(
    dir: &Path,
    day: Day,
    station: &StationFacts,
    s: &DailySettings,
    antex: &Antex,
    trend: &[[f64; 3]],
    go_on: &dyn Fn() -> bool,
) -> Option<Outcome> {
    let mut log = Vec::new();
    let when = format!("{} (day {:03})", day.date(), day.doy);
    let (obs, nav, raw) = files(dir);
    let inputs = if obs.is_empty() { &raw } else { &obs };
    if inputs.is_empty() {
        return Some(Outcome::failed(
            day,
            format!(
                "{when}: no RINEX observation or RTCM3 file in {}",
                dir.display()
            ),
            false,
        ));
    }
    let mut notes = Vec::new();
    let mut session = match super::observations(inputs, None, &s.systems, &mut notes) {
        Ok(x) => x,
        Err(e) => return Some(Outcome::failed(day, format!("{when}: {e}"), false)),
    };
    session
        .epochs
        .retain(|e| e.time.diff(day.start()) >= 0.0 && e.time.diff(day.end()) < 0.0);
    super::decimate(&mut session, s.interval_s);
    if session.epochs.is_empty() {
        return Some(Outcome::failed(
            day,
            format!(
                "{when}: no observation epoch of the day in {}",
                dir.display()
            ),
            false,
        ));
    }
    if session.antenna.is_none() && !station.antenna.trim().is_empty() {
        session.antenna = Some(station.antenna.clone());
    }
    if let Err(e) = super::require_phase(&session, &s.systems, &inputs[0]) {
        return Some(Outcome::failed(day, format!("{when}: {e}"), false));
    }
    let antenna = match super::receiver_antenna(antex, "atx", &s.atx, &session, &inputs[0]) {
        Ok(a) => a,
        Err(e) => return Some(Outcome::failed(day, format!("{when}: {e}"), false)),
    };
    let found = products_dir::find(&s.products, day);
    let precise = found
        .as_ref()
        .map(|f| precise_products(f, &session, &mut notes));
    let (products, tag) = match precise {
        Some(Ok(p)) => (p, found.as_ref().map_or("precise", |f| f.line.tag())),
        other => {
            let why = match other {
                Some(Err(e)) => format!("the products found for it are not usable: {e}"),
                _ => format!(
                    "no precise orbits and clocks for it in {}: put the day's SP3 and clock files there (IGS long names such as GRG0MGXFIN_{:04}{:03}0000_01D_15M_ORB.SP3.gz and …_01D_30S_CLK.CLK.gz, or short ones such as igs{}.sp3 and igs{}.clk; gzip or plain); the day is surveyed again when they arrive",
                    s.products.display(),
                    day.year,
                    day.doy,
                    week_day(day),
                    week_day(day)
                ),
            };
            if !s.broadcast_fallback {
                return Some(Outcome::failed(day, format!("{when}: {why}"), true));
            }
            let store = ephemerides(&session, &nav, &raw, day);
            match crate::gnss::ppp::broadcast::products(&store, &s.systems, day.start(), day.end())
            {
                Some(p) => {
                    log.push((
                        true,
                        format!("{when}: {why}; surveyed with broadcast orbits and clocks meanwhile (metre level, products=broadcast)"),
                    ));
                    (p, "broadcast")
                }
                None => {
                    return Some(Outcome::failed(
                        day,
                        format!(
                            "{when}: {why}; and no broadcast ephemerides in {} for the fallback",
                            dir.display()
                        ),
                        true,
                    ));
                }
            }
        }
    };
    for n in notes {
        log.push((false, format!("{when}: {n}")));
    }
    let opts = PppOptions {
        systems: s.systems.clone(),
        mask: s.mask_deg.to_radians(),
        sat_antex: s.sat_antex,
        ..Default::default()
    };
    let receiver = Receiver {
        antenna: Some(antenna),
        eccentricity_enu: session.eccentricity_enu.into(),
    };
    let left_out = beyond_products(&products, &session);
    if left_out.before + left_out.after > 0 {
        log.push((
            true,
            format!(
                "{when}: {} of {} epochs lie outside the products: {} before {}, {} after {} GPST (orbits {} to {}{}); they are left out, not solved with extrapolated orbits or clocks{}",
                left_out.before + left_out.after,
                session.epochs.len(),
                left_out.before,
                super::fmt(left_out.from).trim_end_matches(" GPST"),
                left_out.after,
                super::fmt(left_out.to).trim_end_matches(" GPST"),
                super::fmt(left_out.orbits.0),
                super::fmt(left_out.orbits.1),
                left_out
                    .clocks
                    .map(|c| format!(", clocks {} to {}", super::fmt(c.0), super::fmt(c.1)))
                    .unwrap_or_default(),
                if tag == "broadcast" {
                    String::new()
                } else {
                    format!(
                        "; the neighbouring days' SP3 of the same product line in {} cover the day's edges",
                        s.products.display()
                    )
                }
            ),
        ));
    }
    let mut ppp = Ppp::new(opts, products, antex.clone(), receiver);
    let solved = super::solve(&mut ppp, &session.epochs, go_on)?;
    let interval = session.interval();
    let Some(c) = Coordinate::of(&solved.solutions, interval) else {
        let msg = super::no_solution(&ppp, &solved, session.epochs.len(), dir);
        return Some(Outcome::failed(
            day,
            format!("{when}: {msg}"),
            tag == "broadcast",
        ));
    };
    let counts = Counts {
        solved: solved.solutions.len(),
        left_out: left_out.before + left_out.after,
    };
    let mut out = points(
        day,
        station,
        s,
        &session,
        &c,
        &solved.solutions,
        tag,
        trend,
        counts,
    );
    out.log.splice(0..0, log);
    Some(out)
}

/// Epochs the products do not reach: the orbits' nodes (SP3 interpolation never extrapolates)
/// and the clocks' records, at the signals' transmission (a fifth of a second before
/// reception covers every orbit height).
struct Beyond {
    before: usize,
    after: usize,
    /// What both products cover.
    from: Gpst,
    to: Gpst,
    orbits: (Gpst, Gpst),
    clocks: Option<(Gpst, Gpst)>,
}

fn beyond_products(p: &Products, session: &Session) -> Beyond {
    let later = |a: Gpst, b: Gpst| if a.diff(b) >= 0.0 { a } else { b };
    let earlier = |a: Gpst, b: Gpst| if a.diff(b) <= 0.0 { a } else { b };
    let orbits = super::span_sp3(&p.orbits);
    let clocks = p
        .clocks
        .iter()
        .map(super::span_clk)
        .reduce(|a, b| (earlier(a.0, b.0), later(a.1, b.1)));
    let (from, to) = match clocks {
        Some(c) => (later(orbits.0, c.0), earlier(orbits.1, c.1)),
        None => orbits,
    };
    let before = session
        .epochs
        .iter()
        .filter(|e| e.time.diff(from) < 0.2)
        .count();
    let after = session
        .epochs
        .iter()
        .filter(|e| e.time.diff(to) > 0.0)
        .count();
    Beyond {
        before,
        after,
        from,
        to,
        orbits,
        clocks,
    }
}

/// Epochs solved and left out for want of products.
#[derive(Clone, Copy)]
struct Counts {
    solved: usize,
    left_out: usize,
}

/// GPS week and day of week as short product names write them (`21114`).
fn week_day(day: Day) -> String {
    let t = day.start().add(43_200.0);
    format!("{}{}", t.week(), (t.tow() / 86_400.0).floor() as i64)
}

fn precise_products(
    f: &DayProducts,
    session: &Session,
    notes: &mut Vec<String>,
) -> Result<Products, String> {
    let labels = ("SP3", "clock file");
    // A neighbour of another frame or a broken one must not cost the day: the day's own file
    // first, then each neighbour that joins.
    let (orbits, clocks) = super::parse_products(&f.sp3[..1], &f.clk, None, labels)?;
    let mut orbits = orbits;
    for n in &f.sp3[1..] {
        match super::parse_products(std::slice::from_ref(n), &[], None, labels) {
            Ok((o, _)) => {
                if let Err(e) = orbits.append(o) {
                    notes.push(format!("SP3 {}: not joined: {e}", n.display()));
                }
            }
            Err(e) => notes.push(format!("{e}: not joined")),
        }
    }
    let mut checked = Vec::new();
    let products = super::check_products((orbits, clocks), session, labels, &mut checked);
    // The day's own count of the epochs outside the products says this with numbers.
    notes.extend(
        checked
            .into_iter()
            .filter(|n| !n.starts_with("the products cover only part")),
    );
    products
}

/// Observation files (RINEX, any compression), RINEX navigation files and raw RTCM3 files in a
/// day's directory, each in name order.
fn files(dir: &Path) -> (Vec<PathBuf>, Vec<PathBuf>, Vec<PathBuf>) {
    let mut all: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    all.sort();
    let (mut obs, mut nav, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    for p in all {
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        if name.ends_with(".rtcm3") {
            raw.push(p);
        } else if super::recording::is_rinex_obs(&p) {
            obs.push(p);
        } else if is_rinex_nav(&p) {
            nav.push(p);
        }
    }
    (obs, nav, raw)
}

fn is_rinex_nav(p: &Path) -> bool {
    crate::rinex::read_text(p)
        .map(|t| {
            t.lines()
                .next()
                .is_some_and(|l| l.contains("NAVIGATION DATA") || l.contains("NAV DATA"))
        })
        .unwrap_or(false)
}

/// The day's broadcast ephemerides: from the observations' own stream, the RINEX navigation
/// files, else the raw RTCM3 files.
fn ephemerides(session: &Session, nav: &[PathBuf], raw: &[PathBuf], day: Day) -> EphemerisStore {
    let mut store = EphemerisStore::new();
    for e in session.store.all() {
        store.insert(e.clone());
    }
    for p in nav {
        if let Ok(text) = crate::rinex::read_text(p)
            && let Ok((ephs, _)) = crate::rinex::read_nav(&text)
        {
            for e in ephs {
                store.insert(e);
            }
        }
    }
    if store.is_empty() {
        let mid = day.start().add(43_200.0);
        for p in raw {
            if let Ok(r) = super::recording::read_of(p, Some(mid), None) {
                for e in r.store.all() {
                    store.insert(e.clone());
                }
            }
        }
    }
    store
}

/// Centimetres with one decimal.
fn cm(m: f64) -> String {
    format!("{:.1} cm", m * 100.0)
}

/// `4.3 cm east, 2.5 cm north, 0.4 cm down`.
fn directions(d: &[f64; 3]) -> String {
    // What rounds to 0.0 cm has no direction worth a sign.
    let one = |v: f64, pos: &str, neg: &str| {
        format!("{} {}", cm(v.abs()), if v > -0.0005 { pos } else { neg })
    };
    format!(
        "{}, {}, {}",
        one(d[0], "east", "west"),
        one(d[1], "north", "south"),
        one(d[2], "up", "down")
    )
}

#[allow(clippy::too_many_arguments)]
fn points(
    day: Day,
    station: &StationFacts,
    s: &DailySettings,
    session: &Session,
    c: &Coordinate,
    solutions: &[PppEpoch],
    products: &'static str,
    trend: &[[f64; 3]],
    counts: Counts,
) -> Outcome {
    let when = format!("{} (day {:03})", day.date(), day.doy);
    let geo = ecef_to_geodetic(&c.pos);
    let rot = enu_rotation(&geo);
    let arp = c.pos + rot.transpose() * Vector3::from(session.eccentricity_enu);
    let denu = station.position.map(|p| {
        let d = rot * (arp - p);
        [d.x, d.y, d.z]
    });
    // The day's middle, 12:00 GPST: one point per day, at the instant the solution stands for.
    let t = gpst_to_unix_ns(day.start().add(43_200.0));
    let mut coord = Point::new("station_coordinate", t)
        .tag("station", station.name.clone())
        .tag("solution", "ppp_static")
        .tag("products", products)
        .field("x", c.pos.x)
        .field("y", c.pos.y)
        .field("z", c.pos.z)
        .field("lat", geo.lat.to_degrees())
        .field("lon", geo.lon.to_degrees())
        .field("h", geo.h)
        .field("sx", c.sigma[0])
        .field("sy", c.sigma[1])
        .field("sz", c.sigma[2])
        .field("hours", c.hours)
        .field("nsat_mean", c.nsat_mean)
        .field("epochs", counts.solved)
        .field("epochs_left_out", counts.left_out);
    if let Some(d) = denu {
        coord = coord.field("de", d[0]).field("dn", d[1]).field("du", d[2]);
    }
    let mut pts = vec![coord];
    for e in solutions
        .iter()
        .filter(|e| e.time.secs().rem_euclid(300) == 0 && e.time.frac() < 0.01)
    {
        pts.push(
            Point::new("troposphere", gpst_to_unix_ns(e.time))
                .tag("station", station.name.clone())
                .tag("products", products)
                .field("ztd_m", e.ztd)
                .field("zwd_m", e.zwd)
                .field("sigma_m", e.sigma_zwd),
        );
    }
    let mut log = vec![(
        false,
        format!(
            "{when}: {} PPP coordinate ({products} products, {:.1} h, {:.1} satellites): X {:.4} Y {:.4} Z {:.4} m{}",
            station.name,
            c.hours,
            c.nsat_mean,
            c.pos.x,
            c.pos.y,
            c.pos.z,
            denu.map(|d| format!("; ARP {} from [station] position", directions(&d)))
                .unwrap_or_default()
        ),
    )];
    // The size as a number too: databases that keep no strings still show the event.
    let mut event = |kind: &'static str, offset_m: f64, message: String| {
        log.push((true, message.clone()));
        pts.push(
            Point::new("event", t)
                .tag("station", station.name.clone())
                .tag("kind", kind)
                .field("message", message)
                .field("offset_m", offset_m),
        );
    };
    let outside = |d: &[f64; 3]| d[0].hypot(d[1]) > s.horizontal_m || d[2].abs() > s.up_m;
    let limits = format!(
        "thresholds {} horizontal, {} up",
        cm(s.horizontal_m),
        cm(s.up_m)
    );
    if products == "broadcast" {
        if let Some(d) = denu
            && Vector3::from(d).norm() > s.broadcast_bound_m
        {
            event(
                "coordinate_far",
                Vector3::from(d).norm(),
                format!(
                    "{}'s daily coordinate for {when} from broadcast orbits is {:.1} m from [station] position ({}), more than broadcast orbits can explain: check [station] position (a typing error, another datum) and whether the antenna was moved",
                    station.name,
                    Vector3::from(d).norm(),
                    directions(&d)
                ),
            );
        }
    } else {
        if let Some(d) = denu
            && outside(&d)
        {
            let frame = "the products' frame (ITRF/IGS) at the epoch of the data";
            event(
                "coordinate_moved",
                Vector3::from(d).norm(),
                format!(
                    "{}'s daily PPP coordinate for {when} with {products} products puts the antenna {} from [station] position: {} ({limits}). Check whether the mast or antenna was moved, bumped or has settled, and whether [station] position is in {frame} (a national datum differs by decimetres); rovers inherit this offset",
                    station.name,
                    cm(d[0].hypot(d[1]).hypot(d[2])),
                    directions(&d)
                ),
            );
        }
        if let Some(d) = denu
            && trend.len() >= 3
        {
            let med = median3(trend);
            let step = [d[0] - med[0], d[1] - med[1], d[2] - med[2]];
            if outside(&step) {
                event(
                    "coordinate_jump",
                    Vector3::from(step).norm(),
                    format!(
                        "{}'s daily PPP coordinate for {when} with {products} products moved {} from the median of the {} previous days: {} ({limits}). A sudden step means the antenna moved (a bumped mast, a landslide, work on the site): check the site; a slow drift over days, settling of the monument",
                        station.name,
                        cm(step[0].hypot(step[1]).hypot(step[2])),
                        trend.len(),
                        directions(&step)
                    ),
                );
            }
        }
    }
    Outcome {
        record: DayRecord {
            day: day.label(),
            products: products.into(),
            xyz: Some([c.pos.x, c.pos.y, c.pos.z]),
            denu,
            error: None,
            awaiting_products: products == "broadcast",
        },
        points: pts,
        log,
    }
}

fn median3(v: &[[f64; 3]]) -> [f64; 3] {
    let mut out = [0.0; 3];
    for (k, o) in out.iter_mut().enumerate() {
        let mut c: Vec<f64> = v.iter().map(|x| x[k]).collect();
        c.sort_by(f64::total_cmp);
        let n = c.len();
        *o = if n % 2 == 1 {
            c[n / 2]
        } else {
            (c[n / 2 - 1] + c[n / 2]) / 2.0
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_look_is_the_day_end_plus_margin_or_the_recheck() {
        let s = DailySettings {
            margin_s: 1800.0,
            recheck_s: 3600.0,
            ..Default::default()
        };
        let day = Day {
            year: 2020,
            doy: 177,
        };
        // An hour before the day ends: the recheck comes first; 10 min before, the day's end +
        // 30 min.
        let t = day.end().add(-3600.0);
        assert_eq!(next_look(t, &s), 3600.0);
        let t = day.end().add(-600.0);
        assert!((next_look(t, &s) - 2400.0).abs() < 1e-6);
        // Within the margin after midnight: that same end plus margin.
        let t = day.end().add(600.0);
        assert!((next_look(t, &s) - 1200.0).abs() < 1e-6);
        // At the due instant itself: the next day's (or the recheck).
        let t = day.end().add(1800.0);
        assert_eq!(next_look(t, &s), 3600.0);
        let daily = DailySettings {
            recheck_s: 7.0 * 86_400.0,
            ..s.clone()
        };
        assert!((next_look(t, &daily) - 86_400.0).abs() < 1e-6);
        // A margin longer than a day still means one look per day end.
        let long = DailySettings {
            margin_s: 1.5 * 86_400.0,
            recheck_s: 7.0 * 86_400.0,
            ..s
        };
        let t = day.start().add(3600.0);
        assert!((next_look(t, &long) - 39_600.0).abs() < 1e-6);
        // A day becomes pending exactly when the look comes.
        let t = day.end().add(-600.0);
        let lazy = DailySettings {
            recheck_s: 7.0 * 86_400.0,
            ..Default::default()
        };
        let at = t.add(next_look(t, &lazy));
        assert!(at.diff(day.end()) >= 1800.0 - 1e-6);
    }
}
