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

fn dashboard(name: &str) -> serde_json::Value {
    let path = format!("{}/scripts/grafana/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).expect("the dashboard is JSON")
}

/// The `(measurement, field)` pairs a query reads, by the quoting conventions of each language.
fn reads(query: &str, flux: bool) -> Vec<(String, String)> {
    let quoted = |s: &str, open: &str, close: char| -> Vec<String> {
        s.split(open)
            .skip(1)
            .filter_map(|x| x.split(close).next().map(str::to_string))
            .collect()
    };
    if flux {
        let m = quoted(query, "r._measurement == \"", '"');
        let f = quoted(query, "r._field == \"", '"');
        f.into_iter().map(|f| (m[0].clone(), f)).collect()
    } else if let Some(sub) = query.split_once("FROM (") {
        // A subquery reads what its inner SELECT reads.
        reads(sub.1, false)
    } else {
        let m = quoted(query, "FROM \"", '"');
        let select = query.split(" FROM ").next().unwrap_or_default();
        // Quoted names in the SELECT clause, less the aliases after AS.
        let parts: Vec<&str> = select.split('"').collect();
        (1..parts.len())
            .step_by(2)
            .filter(|&i| !parts[i - 1].ends_with("AS "))
            .map(|i| (m[0].clone(), parts[i].to_string()))
            .collect()
    }
}

/// The Flux variant (InfluxDB 2.x) has the same panels and reads the same measurements and fields
/// as the InfluxQL one, which runs against a real server above; InfluxDB 1.6.7 has no Flux
/// engine, so this one is checked against the schema the InfluxQL queries proved.
#[test]
fn flux_dashboard_matches_the_influxql_one() {
    let ql = dashboard("corsd-influxql.json");
    let flux = dashboard("corsd-flux.json");
    let panels = |d: &serde_json::Value| -> Vec<(String, String)> {
        d["panels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["title"].as_str().unwrap().to_string(),
                    p["targets"][0]["query"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (a, b) = (panels(&ql), panels(&flux));
    assert_eq!(a.len(), b.len());
    for ((ta, qa), (tb, qb)) in a.iter().zip(&b) {
        assert_eq!(ta, tb);
        let mut ra = reads(qa, false);
        let mut rb = reads(qb, true);
        ra.sort();
        ra.dedup();
        rb.sort();
        rb.dedup();
        assert_eq!(ra, rb, "{ta}:\n{qa}\n{qb}");
        assert!(
            qb.contains("range(start: v.timeRangeStart, stop: v.timeRangeStop)"),
            "{qb}"
        );
        assert_eq!(
            qa.contains("$station"),
            qb.contains("${station:regex}"),
            "{ta}: station filter"
        );
        assert_eq!(
            qb.contains("math."),
            qb.starts_with("import \"math\""),
            "{qb}"
        );
    }
    let vars: Vec<&str> = flux["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(vars, ["datasource", "bucket", "station"]);
}
