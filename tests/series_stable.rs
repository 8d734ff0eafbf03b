//! No tag changes from epoch to epoch (DESIGN §4): each thing measured is one series for the
//! life of the station. Tagging `station_position` with the systems *used* in each epoch made
//! one station's position five series (G, GR, GRJ, GRCJ, GRECJ as satellites rose and
//! ephemerides arrived). A replay with no `--station` names its station from what the file
//! describes (a RINEX MARKER NAME, a stream's reference station ID), else from the whole file
//! name.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::servers::{Influx1, Line, VictoriaMetrics, corsd, parse_lines, read_series, temp_dir};

const STR24: &str = "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3";

/// The tags that say *what* is measured, per measurement: two points with these equal must be
/// in one series.
fn identity(measurement: &str) -> &'static [&'static str] {
    match measurement {
        "station_position" => &["station"],
        "satellite" => &["station", "sat", "signal"],
        "stream" => &["station", "source"],
        "message" => &["station", "source", "type"],
        m => panic!("a replay writes no {m} points"),
    }
}

/// Per measurement: (series, things measured). Panics naming a thing measured that is split
/// over several series.
fn series_per_measurement(lines: &[Line]) -> BTreeMap<String, (usize, usize)> {
    type Tags = Vec<(String, String)>;
    let mut series: BTreeMap<&str, BTreeSet<&Tags>> = BTreeMap::new();
    let mut things: BTreeMap<(&str, Vec<&str>), BTreeSet<&Tags>> = BTreeMap::new();
    for l in lines {
        series.entry(&l.measurement).or_default().insert(&l.tags);
        let key: Vec<&str> = identity(&l.measurement)
            .iter()
            .map(|k| {
                l.tags
                    .iter()
                    .find(|(t, _)| t == k)
                    .map(|(_, v)| v.as_str())
                    .unwrap_or_else(|| panic!("{} without the tag {k}", l.measurement))
            })
            .collect();
        things
            .entry((&l.measurement, key))
            .or_default()
            .insert(&l.tags);
    }
    for ((m, key), tags) in &things {
        assert_eq!(tags.len(), 1, "{m} {key:?} is split over series {tags:?}");
    }
    series
        .iter()
        .map(|(m, s)| {
            let n = things.keys().filter(|(mm, _)| mm == m).count();
            (m.to_string(), (s.len(), n))
        })
        .collect()
}

#[test]
fn an_hour_of_a_station_is_one_series_per_thing_measured() {
    let dir = temp_dir("stable-hour");
    let rec = dir.join("hour.rtcm3");
    let sim = corsd()
        .args([
            "simulate",
            "--duration",
            "3600",
            "--station-id",
            "2047",
            "-o",
        ])
        .arg(&rec)
        .output()
        .unwrap();
    assert!(
        sim.status.success(),
        "{}",
        String::from_utf8_lossy(&sim.stderr)
    );
    let series_dir = dir.join("series");
    let out = corsd()
        // The simulator sends no 1013: its recording is dated by its (default) start day.
        .args(["replay", "--date", "2026-03-01", "--series"])
        .arg(&series_dir)
        .arg(&rec)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("station tag \"2047\" from the reference station ID"),
        "{err}"
    );
    let lines = parse_lines(&read_series(&series_dir));
    let counts = series_per_measurement(&lines);
    eprintln!("series (and things measured) per measurement: {counts:?}");
    let positions = lines
        .iter()
        .filter(|l| l.measurement == "station_position")
        .count();
    assert!(positions >= 3500, "{positions} positions in an hour");
    // One station, one solution setting: one position series, whichever systems each epoch
    // used; one source: one stream series.
    assert_eq!(counts["station_position"], (1, 1));
    assert_eq!(counts["stream"], (1, 1));
    // One series per message type and per satellite signal: as many as there are of them.
    for m in ["message", "satellite"] {
        let (series, things) = counts[m];
        assert_eq!(series, things, "{m}");
    }
    let tags = &lines
        .iter()
        .find(|l| l.measurement == "station_position")
        .unwrap()
        .tags;
    assert!(
        tags.contains(&("systems".into(), "GRECJ".into()))
            && tags.contains(&("solution".into(), "spp_if".into())),
        "{tags:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A RINEX day backfilled: tagged with its MARKER NAME, one position series (the configured
/// systems, and `spp`: the navigation header's broadcast ionosphere serves single-frequency
/// code), one series per satellite signal.
#[test]
fn a_rinex_day_is_one_series_per_thing_measured() {
    let dir = temp_dir("stable-rinex");
    let d = "rinex/nav-solutions_data/ESBC00DNK_R_20201770000_01D";
    let out = corsd()
        .args(["replay", "--systems", "GC", "--series"])
        .arg(&dir)
        .arg("--nav")
        .arg(common::data_file(&format!("{d}_MN.rnx.gz")))
        .arg(common::data_file(&format!("{d}_30S_MO.crx.gz")))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("station tag \"ESBC00DNK\" from the RINEX header's MARKER NAME"),
        "{err}"
    );
    let lines = parse_lines(&read_series(&dir));
    let counts = series_per_measurement(&lines);
    eprintln!("series (and things measured) per measurement: {counts:?}");
    assert_eq!(counts["station_position"], (1, 1));
    let (series, things) = counts["satellite"];
    assert_eq!(series, things);
    let positions: Vec<&Line> = lines
        .iter()
        .filter(|l| l.measurement == "station_position")
        .collect();
    assert_eq!(positions.len(), 2880);
    let tags = &positions[0].tags;
    assert!(
        tags.contains(&("systems".into(), "GC".into()))
            && tags.contains(&("solution".into(), "spp".into())),
        "{tags:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every epoch with a solution in one `station_position` series, in both servers.
#[test]
fn a_replay_into_victoriametrics_and_influxdb_is_one_position_series() {
    let dir = temp_dir("stable-servers");
    let vm = VictoriaMetrics::start("stable");
    let influx = Influx1::start("stable");
    influx.create_db("cors");
    let replay = |args: &[&str], spool: &str| {
        let out = corsd()
            .arg("replay")
            .args(args)
            .arg("--spool-dir")
            .arg(dir.join(spool))
            .arg(common::data_file(STR24))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{err}");
        err
    };
    let err = replay(&["--influx-url", &vm.url()], "vm");
    assert!(
        err.contains("station tag \"dropped-packets-STR24\" from the file name"),
        "{err}"
    );
    replay(
        &[
            "--influx-url",
            &influx.url(),
            "--influx-api",
            "v1",
            "--influx-db",
            "cors",
        ],
        "v1",
    );
    let solved: usize = err
        .lines()
        .filter(|l| l.starts_with("corsd replay: ") && l.ends_with(" solutions"))
        .find_map(|l| {
            let (_, rest) = l.split_once(" epochs, ")?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no solution count in {err}"));
    assert!(solved >= 1270, "{solved} solutions");

    let samples = vm.export_at_least("station_position_x", solved);
    let mut per_series: BTreeMap<&Vec<(String, String)>, usize> = BTreeMap::new();
    for (_, labels, _, _) in &samples {
        *per_series.entry(labels).or_default() += 1;
    }
    eprintln!("VictoriaMetrics station_position_x: {per_series:?}");
    assert_eq!(per_series.len(), 1, "{per_series:?}");
    let (labels, points) = per_series.into_iter().next().unwrap();
    assert_eq!(points, solved);
    assert!(labels.contains(&("station".into(), "dropped-packets-STR24".into())));

    let shown = influx.query("cors", "SHOW SERIES FROM station_position");
    let keys = shown["results"][0]["series"][0]["values"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let count = influx.query("cors", "SELECT count(x) FROM station_position");
    let points = count["results"][0]["series"][0]["values"][0][1]
        .as_u64()
        .unwrap_or(0) as usize;
    eprintln!("InfluxDB 1.6.7 station_position: series {keys:?}, {points} points");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(points, solved);
    let _ = std::fs::remove_dir_all(&dir);
}
