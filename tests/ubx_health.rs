//! The `receiver` measurement from the F9T recording (MON-RF, NAV-PVT, NAV-STATUS every
//! epoch), written by `corsd replay --series` and read back from the line-protocol files:
//! one point per 10 s of data time, tags `station` and `source` only, and every value equal to
//! pyubx2's decode of a message of that slot.

mod common;

use std::collections::BTreeSet;

use common::servers::{corsd, parse_lines, read_series, temp_dir};
use common::ubx::{F9T, plain_copy, pyubx2_decode};
use serde_json::Value;

/// The value of `key` in a pyubx2 record, as f64.
fn num(v: &Value, key: &str) -> f64 {
    v.get(key)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{key} in {v}"))
}

#[test]
fn receiver_points_carry_the_receivers_own_health() {
    let dir = temp_dir("ubx-health");
    let file = plain_copy(&dir, F9T);
    let series = dir.join("series");
    let out = corsd()
        .args(["replay", "--station", "F9T1", "--series"])
        .arg(&series)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = parse_lines(&read_series(&series));
    let points: Vec<_> = lines
        .iter()
        .filter(|l| l.measurement == "receiver")
        .collect();
    // 299 epochs at 1 Hz: 30 or 31 slots of 10 s.
    assert!(
        (29..=31).contains(&points.len()),
        "{} receiver points",
        points.len()
    );
    let tag_sets: BTreeSet<_> = points.iter().map(|p| p.tags.clone()).collect();
    assert_eq!(tag_sets.len(), 1, "{tag_sets:?}");
    let tags: Vec<&str> = tag_sets
        .iter()
        .next()
        .unwrap()
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(tags, ["source", "station"]);

    let decoded = pyubx2_decode(&file);
    let of = |id: &str| -> Vec<&Value> { decoded.iter().filter(|v| v["identity"] == id).collect() };
    let (rf, pvt, status) = (of("MON-RF"), of("NAV-PVT"), of("NAV-STATUS"));
    assert!(
        rf.len() > 50 && pvt.len() > 250,
        "{} MON-RF, {} NAV-PVT",
        rf.len(),
        pvt.len()
    );
    let field =
        |p: &common::servers::Line, k: &str| p.fields.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
    let mut checked = 0;
    for p in &points {
        let f = |k: &str| field(p, k).unwrap_or_else(|| panic!("{k} missing: {:?}", p.fields));
        // Every front end's values are those of one MON-RF the receiver sent.
        let nblocks = rf[0]["nBlocks"].as_u64().unwrap() as usize;
        assert!(nblocks >= 1);
        let matches_rf = rf.iter().any(|m| {
            (1..=nblocks).all(|b| {
                let k = |name: &str| num(m, &format!("{name}_{b:02}"));
                let rfn = b - 1;
                let agc = k("agcCnt") / 8191.0 * 100.0;
                field(p, &format!("agc_pct_rf{rfn}")).is_some_and(|v| (v - agc).abs() < 1e-9)
                    && field(p, &format!("jam_ind_rf{rfn}")) == Some(k("jamInd"))
                    && field(p, &format!("noise_rf{rfn}")) == Some(k("noisePerMS"))
                    && field(p, &format!("jamming_state_rf{rfn}")) == Some(k("jammingState"))
            }) && f("ant_status") == num(m, "antStatus_01")
                && f("ant_power") == num(m, "antPower_01")
        });
        assert!(matches_rf, "no MON-RF has the values of {:?}", p.fields);
        let matches_pvt = pvt.iter().any(|m| {
            f("fix_type") == num(m, "fixType")
                && f("num_sv") == num(m, "numSV")
                && field(p, "lat").is_none_or(|v| (v - num(m, "lat")).abs() < 1e-9)
                && field(p, "h").is_none_or(|v| (v - num(m, "height") / 1000.0).abs() < 1e-9)
        });
        assert!(matches_pvt, "no NAV-PVT has the values of {:?}", p.fields);
        if !status.is_empty() {
            assert!(
                status
                    .iter()
                    .any(|m| f("spoof_state") == num(m, "spoofDetState")),
                "{:?}",
                p.fields
            );
        }
        checked += 1;
    }
    assert_eq!(checked, points.len());
    let _ = std::fs::remove_dir_all(&dir);
}
