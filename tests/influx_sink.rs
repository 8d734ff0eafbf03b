//! The time-series sink against real servers started here on 127.0.0.1: VictoriaMetrics for the
//! v2 write path, InfluxDB 1.6.7 for v1 and its strict parser. Every point a replay produces
//! (taken from the same replay written to line-protocol files) must arrive, with its value and
//! timestamp, exactly once — also after a second replay of the same log.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::servers::{Influx1, VictoriaMetrics, corsd, parse_lines, read_series, temp_dir};

const STR24: &str = "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3";
const STR2: &str = "--station-pos=-4467075.2780,2683011.8519,-3667007.0103";

/// The points of a replay, from line-protocol files.
fn expected(name: &str) -> Vec<common::servers::Line> {
    let dir = temp_dir(&format!("series-{name}"));
    let out = corsd()
        .args(["replay", "--station", "STR2", STR2, "--series"])
        .arg(&dir)
        .arg(common::data_file(STR24))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = parse_lines(&read_series(&dir));
    let _ = std::fs::remove_dir_all(&dir);
    lines
}

fn replay_into(args: &[&str], spool: &std::path::Path) -> std::process::Output {
    corsd()
        .args(["replay", "--station", "STR2", STR2])
        .args(args)
        .arg("--spool-dir")
        .arg(spool)
        .arg(common::data_file(STR24))
        .output()
        .unwrap()
}

#[test]
fn victoriametrics_v2_every_point_once_with_values() {
    let want = expected("vm");
    assert!(want.len() > 6000, "{} points", want.len());
    let vm = VictoriaMetrics::start("replay");
    let spool = temp_dir("vm-spool");
    for round in 0..2 {
        let out = replay_into(&["--influx-url", &vm.url()], &spool);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "round {round}: {err}");
        assert!(
            err.contains(&format!("{} points written", want.len())),
            "{err}"
        );
    }
    // VictoriaMetrics stores measurement_field{tags} with millisecond timestamps.
    let mut expect: BTreeMap<(String, Vec<(String, String)>, i64), f64> = BTreeMap::new();
    for l in &want {
        for (f, v) in &l.fields {
            let key = (
                format!("{}_{f}", l.measurement),
                l.tags.clone(),
                l.time_ns / 1_000_000,
            );
            assert!(
                expect.insert(key, *v).is_none(),
                "duplicate point in the replay itself"
            );
        }
    }
    let got = vm.export_at_least("{station=\"STR2\"}", expect.len());
    let mut seen = BTreeSet::new();
    for (name, labels, ms, v) in &got {
        let key = (name.clone(), labels.clone(), *ms);
        let Some(x) = expect.get(&key) else {
            panic!("unexpected sample {key:?} = {v}");
        };
        assert!(
            (x - v).abs() <= 1e-9 * x.abs().max(1.0),
            "{key:?}: sent {x}, stored {v}"
        );
        assert!(seen.insert(key), "stored twice");
    }
    assert_eq!(
        seen.len(),
        expect.len(),
        "samples stored vs sent (after two replays)"
    );
    let _ = std::fs::remove_dir_all(&spool);
}

fn count(influx: &Influx1, db: &str, measurement: &str, field: &str) -> u64 {
    let v = influx.query(
        db,
        &format!("SELECT count(\"{field}\") FROM \"{measurement}\""),
    );
    v["results"][0]["series"][0]["values"][0][1]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn influxdb_1_6_v1_every_point_once() {
    let want = expected("v1");
    let influx = Influx1::start("v1");
    influx.create_db("cors");
    let spool = temp_dir("v1-spool");
    for _ in 0..2 {
        let out = replay_into(
            &[
                "--influx-url",
                &influx.url(),
                "--influx-api",
                "v1",
                "--influx-db",
                "cors",
            ],
            &spool,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for (m, f) in [
        ("station_position", "x"),
        ("satellite", "cn0"),
        ("stream", "bytes"),
        ("message", "count"),
    ] {
        let n = want.iter().filter(|l| l.measurement == m).count() as u64;
        assert!(n > 0, "{m}");
        assert_eq!(count(&influx, "cors", m, f), n, "{m} points");
    }
    // Values and nanosecond timestamps read back.
    let first = want
        .iter()
        .find(|l| l.measurement == "station_position")
        .unwrap();
    let v = influx.query(
        "cors",
        &format!(
            "SELECT x, du FROM station_position WHERE time = {}",
            first.time_ns
        ),
    );
    let row = &v["results"][0]["series"][0]["values"][0];
    let field = |k: &str| first.fields.iter().find(|(f, _)| f == k).unwrap().1;
    assert_eq!(row[0].as_i64(), Some(first.time_ns));
    assert_eq!(row[1].as_f64(), Some(field("x")));
    assert_eq!(row[2].as_f64(), Some(field("du")));
    let _ = std::fs::remove_dir_all(&spool);
}

#[test]
fn a_rejected_batch_is_set_aside_and_the_good_points_arrive() {
    let want = expected("reject");
    let influx = Influx1::start("reject");
    influx.create_db("cors");
    // A string `bytes` field makes every later `stream` point a type conflict (field types are
    // per shard, so in the data's own week): InfluxDB 1.6 answers 400 "partial write: field type
    // conflict" for each batch holding one, and stores the batch's other lines.
    let t0 = want
        .iter()
        .find(|l| l.measurement == "stream")
        .unwrap()
        .time_ns;
    let (code, body) = influx.write(
        "cors",
        &format!("stream,source=other,station=STR2 bytes=\"text\" {t0}"),
    );
    assert_eq!(code, 204, "{body}");
    let spool = temp_dir("reject-spool");
    let out = replay_into(
        &[
            "--influx-url",
            &influx.url(),
            "--influx-api",
            "v1",
            "--influx-db",
            "cors",
        ],
        &spool,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("rejected a batch"), "{err}");
    let rejected: Vec<_> = std::fs::read_dir(spool.join("rejected"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let reasons: String = rejected
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(reasons.contains("field type conflict"), "{reasons}");
    let n = want
        .iter()
        .filter(|l| l.measurement == "station_position")
        .count() as u64;
    assert_eq!(count(&influx, "cors", "station_position", "x"), n);
    let _ = std::fs::remove_dir_all(&spool);
}

#[test]
fn refused_writes_keep_the_data_in_the_spool() {
    // 404: the v2 API against InfluxDB 1.6 (which has no /api/v2/write).
    let influx = Influx1::start("notfound");
    let spool = temp_dir("hold-spool");
    let out = replay_into(&["--influx-url", &influx.url()], &spool);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("HTTP 404"), "{err}");
    assert!(err.contains("wait in the spool"), "{err}");
    // 401: VictoriaMetrics with basic auth refuses the token.
    let mut vm =
        VictoriaMetrics::start_with("auth", &["-httpAuth.username=u", "-httpAuth.password=p"]);
    let out = replay_into(&["--influx-url", &vm.url()], &spool);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("HTTP 401") && err.contains("credentials"),
        "{err}"
    );
    // The same spool, sent once the server lets us in: nothing was lost.
    let port = vm.port;
    vm.stop();
    let mut open = VictoriaMetrics::start("auth-open");
    open.stop();
    open.port = port;
    open.restart();
    let out = replay_into(&["--influx-url", &open.url()], &spool);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = expected("hold");
    let positions = want
        .iter()
        .filter(|l| l.measurement == "station_position")
        .count();
    let stored = open
        .export_at_least("station_position_x{station=\"STR2\"}", positions)
        .len();
    assert_eq!(stored, positions);
    let _ = std::fs::remove_dir_all(&spool);
}
