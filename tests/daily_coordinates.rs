//! Daily coordinate monitoring in the daemon (`[coordinates]`): the real ESBC day (2020-06-25,
//! 24 h at 30 s) placed as the archived day of a station, GRG final orbits (days 176 and 177)
//! and 30 s clocks in the products directory, igs05.atx with igs14_small.atx.gz (a list, merged as
//! `corsd survey --atx` merges it; igs05.atx's satellite entries predate the
//! 2020 constellation: `sat_antex = "outdated-ok"`, as tests/ppp_survey.rs does). `corsd run`
//! writes to VictoriaMetrics; `station_coordinate`, `troposphere` and the event are read back
//! through `/api/v1/export`. The coordinate equals `corsd survey`'s on the same inputs; a
//! configured position 5 cm off raises `coordinate_moved`; a restart does not survey the day
//! again; without products the day is surveyed from the archived broadcast ephemerides,
//! labelled `products=broadcast`, without a false event.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::servers::{
    Daemon, VictoriaMetrics, check_config, corsd, free_port, spawn_run, temp_dir,
};
use corsd::gnss::geodesy::{ecef_to_geodetic, enu_rotation};
use nalgebra::Vector3;

const OBS: &str = "rinex/nav-solutions_data/ESBC00DNK_R_20201770000_01D_30S_MO.crx.gz";
const NAV: &str = "rinex/nav-solutions_data/ESBC00DNK_R_20201770000_01D_MN.rnx.gz";
const SP3_176: &str = "products/nav-solutions_data/GRG0MGXFIN_20201760000_01D_15M_ORB.SP3.gz";
const SP3_177: &str = "products/nav-solutions_data/GRG0MGXFIN_20201770000_01D_15M_ORB.SP3.gz";
const CLK: &str = "products/nav-solutions_data/GRG0MGXFIN_20201770000_01D_30S_CLK.CLK.gz";
const ATX: &str = "antex/tomojitakasu_RTKLIB/igs05.atx";
/// A second ANTEX file: the daemon merges a list as `corsd survey --atx` does.
const ATX_SMALL: &str = "antex/nav-solutions_data/igs14_small.atx.gz";
/// ESBC's RINEX header: ANTENNA: DELTA H/E/N.
const DELTA_H: f64 = 0.2160;
/// 2020-06-25 12:00 GPST in UTC ms (18 leap seconds): the station_coordinate timestamp.
const MID_DAY_MS: i64 = 1_593_086_400_000 - 18_000;

fn data(rel: &str) -> PathBuf {
    common::data_file(rel)
}

/// The ESBC day as `archive/NAME/2020/177/` (links to the data read in place), with the
/// navigation file when `nav`.
fn archive(dir: &Path, name: &str, nav: bool) -> PathBuf {
    let root = dir.join("archive");
    let day = root.join(name).join("2020").join("177");
    std::fs::create_dir_all(&day).unwrap();
    let link = |rel: &str| {
        let src = data(rel);
        std::os::unix::fs::symlink(&src, day.join(src.file_name().unwrap())).unwrap();
    };
    link(OBS);
    if nav {
        link(NAV);
    }
    root
}

fn products(dir: &Path, with: bool) -> PathBuf {
    let p = dir.join("products");
    std::fs::create_dir_all(&p).unwrap();
    if with {
        for rel in [SP3_176, SP3_177, CLK] {
            let src = data(rel);
            std::os::unix::fs::symlink(&src, p.join(src.file_name().unwrap())).unwrap();
        }
    }
    p
}

#[allow(clippy::too_many_arguments)]
fn config(
    dir: &Path,
    name: &str,
    arp: Vector3<f64>,
    archive: &Path,
    products: &Path,
    vm: &VictoriaMetrics,
    health: u16,
    coordinates: &str,
) -> PathBuf {
    let cfg = dir.join("corsd.toml");
    std::fs::write(
        &cfg,
        format!(
            r#"data_dir = "{d}"
[station]
name = "{name}"
position = {{ x = {x:.4}, y = {y:.4}, z = {z:.4} }}
antenna = "ASH701945E_M    SCIS"

[[source]]
kind = "udp"
name = "receiver"
listen = "127.0.0.1:{udp}"

[archive]
dir = "{a}"
retention_days = 36500

[coordinates]
products = "{p}"
atx = ["{atx}", "{atx_small}"]
sat_antex = "outdated-ok"
backfill_days = 0
{coordinates}
[influx]
url = "{url}"
api = "v2"
org = "forestry"
bucket = "cors"
batch_interval = "200ms"

[health]
listen = "127.0.0.1:{health}"
"#,
            d = dir.display(),
            x = arp.x,
            y = arp.y,
            z = arp.z,
            udp = free_port(),
            a = archive.display(),
            p = products.display(),
            atx = data(ATX).display(),
            atx_small = data(ATX_SMALL).display(),
            url = vm.url(),
        ),
    )
    .unwrap();
    let check = check_config(&cfg);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    cfg
}

/// Starts the daemon and waits until its log says `until` (or 600 s pass): the running daemon
/// (stopped when dropped), its log so far and the time it took.
fn run_until(dir: &Path, cfg: &Path, until: &str) -> (Daemon, String, Duration) {
    let t0 = Instant::now();
    let daemon = Daemon(spawn_run(cfg, dir));
    let log = wait_log(dir, until, 1);
    (daemon, log, t0.elapsed())
}

/// Waits until the daemon's log in `dir` says `until` `times` times (or 600 s pass): the log.
fn wait_log(dir: &Path, until: &str, times: usize) -> String {
    let t0 = Instant::now();
    let log = dir.join("log");
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.matches(until).count() >= times {
            return text;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(600),
            "no {until:?} ×{times} in the daemon's log within 600 s:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `corsd survey --json` on the same inputs: the marker's ECEF.
fn survey() -> Vector3<f64> {
    let out = corsd()
        .arg("survey")
        .arg(data(OBS))
        .arg("--sp3")
        .args([data(SP3_176), data(SP3_177)])
        .arg("--clk")
        .arg(data(CLK))
        .arg("--atx")
        .args([data(ATX), data(ATX_SMALL)])
        .args(["--sat-antex", "outdated-ok", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Vector3::new(
        v["x"].as_f64().unwrap(),
        v["y"].as_f64().unwrap(),
        v["z"].as_f64().unwrap(),
    )
}

/// The antenna reference point of a marker: DELTA H up the ellipsoid normal.
fn arp_of(marker: &Vector3<f64>) -> (Vector3<f64>, nalgebra::Matrix3<f64>) {
    let rot = enu_rotation(&ecef_to_geodetic(marker));
    (
        marker + rot.transpose() * Vector3::new(0.0, 0.0, DELTA_H),
        rot,
    )
}

fn value(
    vm: &VictoriaMetrics,
    metric: &str,
    station: &str,
) -> Vec<(Vec<(String, String)>, i64, f64)> {
    vm.export_at_least(&format!("{metric}{{station=\"{station}\"}}"), 1)
        .into_iter()
        .map(|(_, l, t, v)| (l, t, v))
        .collect()
}

fn label<'a>(labels: &'a [(String, String)], key: &str) -> &'a str {
    labels.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v)
}

#[test]
fn the_archived_day_is_surveyed_written_and_watched() {
    let vm = VictoriaMetrics::start("daily-coordinates");
    let t0 = Instant::now();
    let marker = survey();
    let survey_s = t0.elapsed().as_secs_f64();
    let (arp, rot) = arp_of(&marker);

    // At the surveyed position: the day's coordinate, its troposphere, no event.
    let dir = temp_dir("daily-ok");
    let a = archive(&dir, "ESBC", false);
    let p = products(&dir, true);
    let health = free_port();
    let cfg = config(&dir, "ESBC", arp, &a, &p, &vm, health, "");
    let (daemon, log, took) = run_until(&dir, &cfg, "daily coordinates: day done");
    // The status page's series: the day's offsets and the ZTD.
    let (code, body) = common::servers::curl(&[&format!("http://127.0.0.1:{health}/status.json")]);
    assert_eq!(code, 200, "{body}");
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    let days = &status["coordinates"]["days"];
    assert_eq!(days[0]["day"], "2020-177", "{status}");
    assert_eq!(days[0]["products"], "final");
    assert!(days[0]["enu"][2].as_f64().unwrap().abs() < 1e-3, "{status}");
    assert!(status["coordinates"]["ztd"].as_array().unwrap().len() >= 285);
    eprintln!(
        "corsd survey {survey_s:.1} s; the daemon's day {:.1} s (start to done)",
        took.as_secs_f64()
    );
    assert!(log.contains("final products"), "{log}");
    let get = |m: &str, st: &str| value(&vm, m, st);
    for (axis, want) in [("x", marker.x), ("y", marker.y), ("z", marker.z)] {
        let got = get(&format!("station_coordinate_{axis}"), "ESBC");
        assert_eq!(got.len(), 1, "{axis}: {got:?}");
        let (labels, t, v) = &got[0];
        assert_eq!(label(labels, "products"), "final");
        assert_eq!(label(labels, "solution"), "ppp_static");
        assert_eq!(*t, MID_DAY_MS);
        assert!(
            (v - want).abs() < 1e-3,
            "{axis}: daemon {v} vs corsd survey {want}"
        );
    }
    for f in ["de", "dn", "du"] {
        let got = get(&format!("station_coordinate_{f}"), "ESBC");
        assert!(got[0].2.abs() < 1e-3, "{f}: {got:?}");
    }
    for f in ["sx", "sy", "sz"] {
        let s = get(&format!("station_coordinate_{f}"), "ESBC")[0].2;
        assert!(s > 0.0 && s < 0.05, "{f} {s}");
    }
    // The day-177 orbits end at 23:45 and no day-178 file is there: the last 15 min go unsolved,
    // and so does 00:00:00 (its signals left before the first clock record); both counted.
    let hours = get("station_coordinate_hours", "ESBC")[0].2;
    assert!((23.7..=24.0).contains(&hours), "{hours}");
    assert_eq!(get("station_coordinate_epochs", "ESBC")[0].2, 2850.0);
    assert_eq!(get("station_coordinate_epochs_left_out", "ESBC")[0].2, 30.0);
    assert!(
        log.contains("30 of 2880 epochs lie outside the products"),
        "{log}"
    );
    let ztd = vm.export_at_least("troposphere_ztd_m{station=\"ESBC\"}", 285);
    assert!(
        (285..=288).contains(&ztd.len()),
        "one ZTD every 5 min of the day: {}",
        ztd.len()
    );
    assert!(
        ztd.iter().all(|(_, _, _, z)| (2.0..2.7).contains(z)),
        "{ztd:?}"
    );
    assert_eq!(
        vm.export_at_least("troposphere_zwd_m{station=\"ESBC\"}", 285)
            .len(),
        ztd.len()
    );
    assert_eq!(
        vm.export_at_least("troposphere_sigma_m{station=\"ESBC\"}", 285)
            .len(),
        ztd.len()
    );
    assert!(
        !log.contains("coordinate_moved") && !log.contains("puts the antenna"),
        "{log}"
    );
    let state = std::fs::read_to_string(dir.join("coordinates-ESBC.jsonl")).unwrap();
    assert!(
        state.contains("\"day\":\"2020-177\"") && state.contains("\"products\":\"final\""),
        "{state}"
    );

    // A restart does not survey the day again.
    drop(daemon);
    std::fs::remove_file(dir.join("log")).unwrap();
    let (daemon, log, _) = run_until(&dir, &cfg, "daily coordinates: nothing to survey");
    drop(daemon);
    assert!(!log.contains("surveying archived days"), "{log}");

    // The configured position 5 cm east of the antenna: the event, read back with its size.
    let dir = temp_dir("daily-moved");
    let a = archive(&dir, "ESB5", false);
    let p = products(&dir, true);
    let moved = arp + rot.transpose() * Vector3::new(0.05, 0.0, 0.0);
    let cfg = config(&dir, "ESB5", moved, &a, &p, &vm, free_port(), "");
    let (_daemon, log, _) = run_until(&dir, &cfg, "daily coordinates: day done");
    let de = get("station_coordinate_de", "ESB5")[0].2;
    assert!((de + 0.05).abs() < 1e-3, "de {de}");
    let ev = vm.export_at_least("event_offset_m{station=\"ESB5\"}", 1);
    assert_eq!(ev.len(), 1, "{ev:?}\n{log}");
    assert_eq!(label(&ev[0].1, "kind"), "coordinate_moved");
    assert!((ev[0].3 - 0.05).abs() < 1e-3, "{ev:?}");
    assert!(
        log.contains(
            "puts the antenna 5.0 cm from [station] position: 5.0 cm west, 0.0 cm north, 0.0 cm up"
        ),
        "{log}"
    );

    // No products: broadcast orbits and clocks from the archived navigation file; no event.
    let dir = temp_dir("daily-broadcast");
    let a = archive(&dir, "ESBB", true);
    let p = products(&dir, false);
    let cfg = config(&dir, "ESBB", arp, &a, &p, &vm, free_port(), "");
    let (_daemon, log, _) = run_until(&dir, &cfg, "daily coordinates: day done");
    assert!(
        log.contains("no precise orbits and clocks for it in"),
        "{log}"
    );
    let x = get("station_coordinate_x", "ESBB");
    assert_eq!(label(&x[0].0, "products"), "broadcast");
    let d: Vec<f64> = ["de", "dn", "du"]
        .iter()
        .map(|f| get(&format!("station_coordinate_{f}"), "ESBB")[0].2)
        .collect();
    eprintln!(
        "broadcast: E {:.3} N {:.3} U {:.3} m from the precise coordinate",
        d[0], d[1], d[2]
    );
    assert!(d[0].hypot(d[1]).hypot(d[2]) < 3.0, "{d:?}");
    assert!(vm.export("event_offset_m{station=\"ESBB\"}").is_empty());
    assert!(
        vm.export_at_least(
            "troposphere_ztd_m{station=\"ESBB\",products=\"broadcast\"}",
            280
        )
        .len()
            >= 280
    );
}

/// A state file with earlier days on record: (day, products, east/north/up of the ARP).
fn earlier_days(dir: &Path, name: &str, days: &[(&str, &str, [f64; 3])]) {
    let lines: Vec<String> = days
        .iter()
        .map(|(day, products, d)| {
            if *products == "none" {
                serde_json::json!({"day": day, "products": products, "error": "no solution"})
            } else {
                serde_json::json!({"day": day, "products": products, "denu": d})
            }
            .to_string()
        })
        .collect();
    std::fs::write(
        dir.join(format!("coordinates-{name}.jsonl")),
        lines.join("\n") + "\n",
    )
    .unwrap();
}

#[test]
fn a_step_from_the_previous_days_is_a_coordinate_jump() {
    let vm = VictoriaMetrics::start("daily-trend");
    let (arp, _) = arp_of(&survey());
    // ESBJ's earlier precise days put the antenna 3 cm east and 1 cm south of where the ESBC day
    // does (a broadcast day and a failed one are no part of the trend); ESBK's 1.2 cm east and 2 cm up, within
    // the thresholds (2 cm horizontal, 4 cm up).
    let jump = [
        ("2020-171", "final", [0.030, -0.012, 0.004]),
        ("2020-172", "broadcast", [1.2, 0.8, -0.5]),
        ("2020-173", "rapid", [0.028, -0.010, 0.001]),
        ("2020-174", "none", [0.0; 3]),
        ("2020-175", "final", [0.033, -0.008, -0.003]),
    ];
    let steady = [
        ("2020-174", "final", [0.012, 0.001, 0.021]),
        ("2020-175", "final", [0.011, 0.000, 0.019]),
        ("2020-176", "final", [0.013, -0.001, 0.020]),
    ];
    // ESBL has two precise days 5 cm off: too few for a trend (three are needed).
    let young = [
        ("2020-174", "final", [0.050, 0.0, 0.0]),
        ("2020-175", "broadcast", [0.050, 0.0, 0.0]),
        ("2020-176", "final", [0.050, 0.0, 0.0]),
    ];
    let mut runs = Vec::new();
    for (name, earlier) in [
        ("ESBJ", &jump[..]),
        ("ESBK", &steady[..]),
        ("ESBL", &young[..]),
    ] {
        let dir = temp_dir(&format!("daily-trend-{name}"));
        earlier_days(&dir, name, earlier);
        let a = archive(&dir, name, false);
        let p = products(&dir, true);
        let cfg = config(&dir, name, arp, &a, &p, &vm, free_port(), "");
        runs.push((Daemon(spawn_run(&cfg, &dir)), dir, name));
    }
    for (_daemon, dir, name) in &runs {
        let log = wait_log(dir, "daily coordinates: day done", 1);
        let d: Vec<f64> = ["de", "dn", "du"]
            .iter()
            .map(|f| value(&vm, &format!("station_coordinate_{f}"), name)[0].2)
            .collect();
        assert!(d.iter().all(|x| x.abs() < 1e-3), "{name}: {d:?}");
        let events = vm.export(&format!("event_offset_m{{station=\"{name}\"}}"));
        if *name != "ESBJ" {
            assert!(events.is_empty(), "{events:?}\n{log}");
            assert!(!log.contains("coordinate_jump"), "{log}");
            continue;
        }
        // The median of the three precise days: 3.0 cm east, 1.0 cm south, 0.1 cm up.
        let step = [d[0] - 0.030, d[1] + 0.010, d[2] - 0.001];
        let size = step[0].hypot(step[1]).hypot(step[2]);
        assert_eq!(events.len(), 1, "{events:?}\n{log}");
        assert_eq!(label(&events[0].1, "kind"), "coordinate_jump");
        assert!(
            (events[0].3 - size).abs() < 1e-6,
            "{} vs {size}",
            events[0].3
        );
        assert!((size - 0.0316).abs() < 0.002, "{size}");
        assert!(
            log.contains("from the median of the 3 previous days: 3.0 cm west, 1.0 cm north"),
            "{log}"
        );
        let state = std::fs::read_to_string(dir.join("coordinates-ESBJ.jsonl")).unwrap();
        assert_eq!(state.lines().count(), 6, "{state}");
    }
}

#[test]
fn days_and_products_that_arrive_while_running_are_surveyed() {
    let vm = VictoriaMetrics::start("daily-schedule");
    let dir = temp_dir("daily-schedule");
    let root = dir.join("archive");
    std::fs::create_dir_all(&root).unwrap();
    let products = dir.join("products");
    std::fs::create_dir_all(&products).unwrap();
    let health = free_port();
    // The header position: only where the station is matters here.
    let header = Vector3::new(3_582_105.291, 532_589.731_3, 5_232_754.805_4);
    let cfg = config(
        &dir,
        "ESBS",
        header,
        &root,
        &products,
        &vm,
        health,
        "recheck = \"1s\"\nmargin = \"1m\"\n",
    );
    let (_daemon, _, _) = run_until(&dir, &cfg, "daily coordinates: nothing to survey");

    // The day arrives in the archive (whole, as the archive completes it): the next look
    // surveys it, from broadcast orbits while there are no products.
    let staged = archive(&dir.join("staged"), "ESBS", true).join("ESBS/2020/177");
    std::fs::create_dir_all(root.join("ESBS/2020")).unwrap();
    std::fs::rename(&staged, root.join("ESBS/2020/177")).unwrap();
    let t0 = Instant::now();
    let log = wait_log(&dir, "daily coordinates: day done", 1);
    eprintln!(
        "the archived day surveyed {:.1} s after it arrived",
        t0.elapsed().as_secs_f64()
    );
    assert!(
        log.contains("surveyed with broadcast orbits and clocks meanwhile"),
        "{log}"
    );
    let state = std::fs::read_to_string(dir.join("coordinates-ESBS.jsonl")).unwrap();
    assert!(state.contains("\"products\":\"broadcast\""), "{state}");

    // The products arrive (all at once, as a cron job's rename delivers them): the day is
    // surveyed again and the precise solution replaces the broadcast one on record.
    let staged = self::products(&dir.join("staged"), true);
    std::fs::rename(&staged, &products).unwrap();
    let t0 = Instant::now();
    let log = wait_log(&dir, "daily coordinates: day done", 2);
    eprintln!(
        "the day surveyed again {:.1} s after its products arrived",
        t0.elapsed().as_secs_f64()
    );
    assert!(log.contains("final products"), "{log}");
    let x = vm.export_at_least(
        "station_coordinate_x{station=\"ESBS\",products=\"final\"}",
        1,
    );
    assert_eq!(x.len(), 1, "{x:?}");
    let state = std::fs::read_to_string(dir.join("coordinates-ESBS.jsonl")).unwrap();
    assert_eq!(state.lines().count(), 1, "{state}");
    assert!(
        state.contains("\"products\":\"final\"") && state.contains("\"awaiting_products\":false"),
        "{state}"
    );
    let (code, body) = common::servers::curl(&[&format!("http://127.0.0.1:{health}/status.json")]);
    assert_eq!(code, 200, "{body}");
    let status: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        status["coordinates"]["days"][0]["products"], "final",
        "{status}"
    );
    // Later looks find nothing more to do.
    std::thread::sleep(Duration::from_secs(3));
    let log = std::fs::read_to_string(dir.join("log")).unwrap();
    assert_eq!(
        log.matches("daily coordinates: day done").count(),
        2,
        "{log}"
    );
}
