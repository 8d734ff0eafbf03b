//! Finding a day's precise products in the directory an operator or a cron job fills: SP3
//! orbits and RINEX clocks, plain, gzipped or Unix-compressed (`.Z`), under IGS long names
//! (`GRG0MGXFIN_20201770000_01D_15M_ORB.SP3.gz`, `…_30S_CLK.CLK`), short names
//! (`igs21114.sp3`, `grg21114.clk_30s`) or any name (then by the first lines of the file).
//! Orbits and clocks are taken from one analysis centre and one product line, so that they
//! agree; finals before rapids before anything else; the neighbouring days' orbits of the same
//! line join when present (interpolation at the day's edges).

use std::path::{Path, PathBuf};

use chrono::Datelike;

use crate::gnss::time::Gpst;

/// A GPS-time calendar day: year and day of year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    pub year: i32,
    pub doy: u32,
}

impl Day {
    pub fn of(t: Gpst) -> Day {
        let c = t.calendar();
        Day {
            year: c.year(),
            doy: c.ordinal(),
        }
    }
    /// 00:00 GPST of the day.
    pub fn start(self) -> Gpst {
        let jan1 = Gpst::from_calendar(self.year, 1, 1, 0, 0, 0.0).unwrap_or(Gpst::new(0, 0.0));
        jan1.add((self.doy as f64 - 1.0) * 86_400.0)
    }
    pub fn end(self) -> Gpst {
        self.start().add(86_400.0)
    }
    pub fn next(self) -> Day {
        Day::of(self.start().add(86_400.0 + 43_200.0))
    }
    pub fn prev(self) -> Day {
        Day::of(self.start().add(-43_200.0))
    }
    /// `2020-177`.
    pub fn label(self) -> String {
        format!("{:04}-{:03}", self.year, self.doy)
    }
    pub fn parse(s: &str) -> Option<Day> {
        let (y, d) = s.split_once('-')?;
        Some(Day {
            year: y.parse().ok()?,
            doy: d.parse().ok().filter(|d| (1..=366).contains(d))?,
        })
    }
    /// `2020-06-25`.
    pub fn date(self) -> String {
        self.start().calendar().format("%Y-%m-%d").to_string()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Orbit,
    Clock,
}

/// The product line a file belongs to, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Line {
    Final,
    Rapid,
    /// Named by neither convention: read from the header.
    Precise,
    Ultra,
}

impl Line {
    /// The `products` tag.
    pub fn tag(self) -> &'static str {
        match self {
            Line::Final => "final",
            Line::Rapid => "rapid",
            Line::Precise => "precise",
            Line::Ultra => "ultra",
        }
    }
}

#[derive(Clone, Debug)]
struct Found {
    path: PathBuf,
    kind: Kind,
    day: Day,
    line: Line,
    /// Analysis centre and product line (the long name's first 10 characters, a short name's
    /// 3), so that orbits and clocks of one solution go together.
    source: String,
}

/// The files of one day's solution.
#[derive(Clone, Debug, PartialEq)]
pub struct DayProducts {
    pub line: Line,
    pub source: String,
    /// The day's orbits first, then the neighbours found.
    pub sp3: Vec<PathBuf>,
    pub clk: Vec<PathBuf>,
}

/// The best solution in `dir` for `day`, if any has both orbits and clocks.
pub fn find(dir: &Path, day: Day) -> Option<DayProducts> {
    Catalog::of(dir).find(day)
}

/// A products directory's files read once, for finding several days' products.
pub struct Catalog(Vec<Found>);

impl Catalog {
    pub fn of(dir: &Path) -> Catalog {
        Catalog(scan(dir))
    }

    /// The best solution for `day`, if any has both orbits and clocks.
    pub fn find(&self, day: Day) -> Option<DayProducts> {
        best(&self.0, day)
    }
}

fn best(files: &[Found], day: Day) -> Option<DayProducts> {
    let mut best: Option<DayProducts> = None;
    for f in files
        .iter()
        .filter(|f| f.kind == Kind::Orbit && f.day == day)
    {
        let clk: Vec<PathBuf> = files
            .iter()
            .filter(|c| c.kind == Kind::Clock && c.day == day && c.source == f.source)
            .map(|c| c.path.clone())
            .take(1)
            .collect();
        if clk.is_empty() {
            continue;
        }
        if best.as_ref().is_some_and(|b| b.line <= f.line) {
            continue;
        }
        let mut sp3 = vec![f.path.clone()];
        for d in [day.prev(), day.next()] {
            if let Some(n) = files
                .iter()
                .find(|n| n.kind == Kind::Orbit && n.day == d && n.source == f.source)
            {
                sp3.push(n.path.clone());
            }
        }
        best = Some(DayProducts {
            line: f.line,
            source: f.source.clone(),
            sp3,
            clk,
        });
    }
    best
}

fn scan(dir: &Path) -> Vec<Found> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<Found> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter_map(|p| classify(&p))
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn classify(path: &Path) -> Option<Found> {
    let name = path.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    let base = lower
        .strip_suffix(".gz")
        .or_else(|| lower.strip_suffix(".z"))
        .unwrap_or(&lower);
    long_name(path, name, base)
        .or_else(|| short_name(path, base))
        .or_else(|| by_header(path))
}

/// `AAAVPPPTTT_YYYYDDDHHMM_LEN_SMP_CNT.FMT`.
fn long_name(path: &Path, name: &str, base: &str) -> Option<Found> {
    let b = base.as_bytes();
    if b.len() < 23 || b[10] != b'_' || b[22] != b'_' {
        return None;
    }
    let year: i32 = base.get(11..15)?.parse().ok()?;
    let doy: u32 = base.get(15..18)?.parse().ok()?;
    let kind = if base.contains("_orb.sp3") {
        Kind::Orbit
    } else if base.contains("_clk.clk") {
        Kind::Clock
    } else {
        return None;
    };
    let line = match base.get(7..10)? {
        "fin" => Line::Final,
        "rap" => Line::Rapid,
        "ult" => Line::Ultra,
        _ => Line::Precise,
    };
    Some(Found {
        path: path.into(),
        kind,
        day: Day { year, doy },
        line,
        source: name.get(..10)?.to_ascii_uppercase(),
    })
}

/// `cccWWWWD.sp3`, `cccWWWWD.eph`, `cccWWWWD.clk`, `cccWWWWD.clk_30s`.
fn short_name(path: &Path, base: &str) -> Option<Found> {
    let (stem, ext) = base.split_once('.')?;
    if stem.len() != 8 {
        return None;
    }
    let kind = match ext {
        "sp3" | "eph" => Kind::Orbit,
        "clk" | "clk_30s" | "clk_05s" => Kind::Clock,
        _ => return None,
    };
    let week: i64 = stem.get(3..7)?.parse().ok()?;
    let dow: i64 = stem.get(7..8)?.parse().ok().filter(|d| *d <= 6)?;
    let ac = stem.get(..3)?;
    let line = match ac {
        "igr" => Line::Rapid,
        "igu" => Line::Ultra,
        _ => Line::Final,
    };
    let t = Gpst::new(week * 604_800 + dow * 86_400 + 43_200, 0.0);
    Some(Found {
        path: path.into(),
        kind,
        day: Day::of(t),
        line,
        source: ac.to_ascii_uppercase(),
    })
}

/// An SP3 by its first line (`#dP2020  6 25 …`), a clock file by its first satellite record.
fn by_header(path: &Path) -> Option<Found> {
    let head = head_text(path, 256 * 1024)?;
    let first = head.lines().next()?;
    let calendar = |s: &str| -> Option<Day> {
        let mut it = s.split_whitespace();
        let y: i32 = it.next()?.parse().ok()?;
        let m: u32 = it.next()?.parse().ok()?;
        let d: u32 = it.next()?.parse().ok()?;
        Some(Day::of(Gpst::from_calendar(y, m, d, 12, 0, 0.0)?))
    };
    if first.starts_with("#c") || first.starts_with("#d") {
        let day = calendar(first.get(3..)?)?;
        // The clock file names its centre by three letters (`GRG`), the SP3 by four (`GRGS`).
        let agency = head
            .lines()
            .next()
            .and_then(|l| l.get(56..59))
            .unwrap_or("")
            .trim()
            .to_string();
        return Some(Found {
            path: path.into(),
            kind: Kind::Orbit,
            day,
            line: Line::Precise,
            source: format!("header {agency}"),
        });
    }
    if first
        .get(60..)
        .is_some_and(|l| l.starts_with("RINEX VERSION"))
        && first.get(20..40).is_some_and(|t| t.contains('C'))
    {
        let line = head.lines().find(|l| l.starts_with("AS "))?;
        let day = calendar(line.get(8..)?)?;
        let agency = head
            .lines()
            .find(|l| {
                l.get(60..)
                    .is_some_and(|x| x.starts_with("ANALYSIS CENTER"))
            })
            .and_then(|l| l.get(..3))
            .unwrap_or("")
            .trim()
            .to_string();
        return Some(Found {
            path: path.into(),
            kind: Kind::Clock,
            day,
            line: Line::Precise,
            source: format!("header {agency}"),
        });
    }
    None
}

/// The first `limit` bytes of a file's text, unpacked when it is gzip or `.Z`.
fn head_text(path: &Path, limit: usize) -> Option<String> {
    let buf = crate::rinex::read_head(path, limit).ok()?;
    Some(String::from_utf8_lossy(&buf).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_the_day_and_the_line() {
        let p = Path::new("x");
        let f = long_name(
            p,
            "GRG0MGXFIN_20201770000_01D_15M_ORB.SP3.gz",
            "grg0mgxfin_20201770000_01d_15m_orb.sp3",
        )
        .unwrap();
        assert_eq!(
            (f.day, f.kind, f.line),
            (
                Day {
                    year: 2020,
                    doy: 177
                },
                Kind::Orbit,
                Line::Final
            )
        );
        let c = long_name(
            p,
            "GRG0MGXRAP_20201770000_01D_30S_CLK.CLK",
            "grg0mgxrap_20201770000_01d_30s_clk.clk",
        )
        .unwrap();
        assert_eq!((c.kind, c.line), (Kind::Clock, Line::Rapid));
        // GPS week 2111 day 4 is 2020-06-25 (day 177).
        let s = short_name(p, "igs21114.sp3").unwrap();
        assert_eq!(
            (s.day, s.line),
            (
                Day {
                    year: 2020,
                    doy: 177
                },
                Line::Final
            )
        );
        let r = short_name(p, "igr21114.clk").unwrap();
        assert_eq!(
            (r.day, r.kind, r.line),
            (
                Day {
                    year: 2020,
                    doy: 177
                },
                Kind::Clock,
                Line::Rapid
            )
        );
        assert!(short_name(p, "readme.txt").is_none());
    }

    #[test]
    fn days_step_across_the_year() {
        let d = Day {
            year: 2020,
            doy: 366,
        };
        assert_eq!(d.next(), Day { year: 2021, doy: 1 });
        assert_eq!(Day { year: 2021, doy: 1 }.prev(), d);
        assert_eq!(Day::parse("2020-177").unwrap().date(), "2020-06-25");
        assert_eq!(
            Day::of(Day::parse("2020-177").unwrap().start()).label(),
            "2020-177"
        );
    }
}
