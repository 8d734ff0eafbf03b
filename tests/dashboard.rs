//! The Grafana dashboard in `scripts/grafana/corsd-influxql.json`: every panel's InfluxQL runs
//! against InfluxDB 1.6.7 on what `corsd replay` wrote there, with Grafana's macros filled in as
//! Grafana would, and the panels fed by a replay return rows.

mod common;

use common::servers::{Influx1, corsd, temp_dir};

const STR24: &str = "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3";

/// Measurements a replay of a recording writes; the others (caster, rover, event) come from a
/// live daemon only.
const FROM_REPLAY: [&str; 4] = ["station_position", "satellite", "stream", "message"];

#[test]
fn every_dashboard_query_runs_on_influxdb_1_6() {
    let dash: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/grafana/corsd-influxql.json"
        ))
        .unwrap(),
    )
    .expect("the dashboard is JSON");
    let influx = Influx1::start("dashboard");
    influx.create_db("cors");
    let spool = temp_dir("dashboard-spool");
    let out = corsd()
        .args(["replay", "--station", "STR2"])
        .arg("--station-pos=-4467075.2780,2683011.8519,-3667007.0103")
        .args(["--influx-url", &influx.url(), "--influx-api", "v1"])
        .args(["--influx-db", "cors", "--spool-dir"])
        .arg(&spool)
        .arg(common::data_file(STR24))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The station variable's own query.
    let vars = dash["templating"]["list"].as_array().unwrap();
    let station_q = vars
        .iter()
        .find(|v| v["name"] == "station")
        .and_then(|v| v["query"].as_str())
        .unwrap();
    let v = influx.query("cors", station_q);
    assert!(v.to_string().contains("STR2"), "{v}");
    let panels = dash["panels"].as_array().unwrap();
    assert!(panels.len() >= 15);
    let mut with_rows = 0;
    let mut empty = Vec::new();
    for p in panels {
        let title = p["title"].as_str().unwrap();
        let q = p["targets"][0]["query"].as_str().unwrap();
        let q = q
            // Grafana's time range: the hour of the recording.
            .replace(
                "$timeFilter",
                "time >= '2018-07-12T23:00:00Z' AND time < '2018-07-13T01:00:00Z'",
            )
            .replace("$__interval", "60s")
            .replace("$station", "STR2");
        let v = influx.query("cors", &q);
        let result = &v["results"][0];
        assert!(result.get("error").is_none(), "{title}: {q}: {v}");
        let rows = result["series"]
            .as_array()
            .map(|s| {
                s.iter()
                    .map(|x| {
                        x["values"].as_array().map_or(0, |v| {
                            v.iter()
                                .filter(|r| r[1].is_number() || r[1].is_string())
                                .count()
                        })
                    })
                    .sum::<usize>()
            })
            .unwrap_or(0);
        eprintln!("{title}: {rows} rows");
        let from_replay = FROM_REPLAY
            .iter()
            .any(|m| q.contains(&format!("FROM \"{m}\"")));
        // A replay has no link: no connection state or latency.
        let live_only = ["Stream up", "Latency"]
            .iter()
            .any(|t| title.starts_with(t));
        if from_replay && !live_only {
            if rows == 0 {
                empty.push(format!("{title}: {q}"));
            }
            with_rows += 1;
        }
        // Every panel says what it shows in its unit.
        assert!(p["fieldConfig"]["defaults"]["unit"].is_string(), "{title}");
    }
    assert!(empty.is_empty(), "panels without rows: {empty:#?}");
    assert!(with_rows >= 12, "{with_rows} panels with rows");
    let _ = std::fs::remove_dir_all(&spool);
}
