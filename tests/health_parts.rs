//! `/healthz` tells the truth about every part that can fail, not only the sources (issue 19,
//! item 5): each test degrades one part of a running daemon with a real fault — the database
//! stopped, the spool filling behind it, the archive directory replaced by a regular file (root
//! can write anywhere chmod allows nothing, but not into a file), a push target that is not up
//! yet — and checks that `/healthz` answers 503 naming the part and its error, that
//! `corsd_part_up` and `/status.json`'s `parts` say the same, and that all is 200 again once the
//! fault is gone.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::servers::{
    Daemon, Influx1, VictoriaMetrics, chromium, curl, free_port, run_daemon, temp_dir,
};
use serde_json::Value;

const STR24: &str = "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3";

fn station(dir: &Path, health: &str) -> String {
    format!(
        r#"data_dir = "{d}"
[station]
name = "STR2"
position = {{ x = -4467075.2780, y = 2683011.8519, z = -3667007.0103 }}
[health]
listen = "{health}"
"#,
        d = dir.display()
    )
}

/// A daemon under test and its health address.
struct Station {
    _daemon: Daemon,
    health: String,
    log: std::path::PathBuf,
}

impl Station {
    fn start(dir: &Path, body: &str) -> Station {
        let port = free_port();
        let health = format!("127.0.0.1:{port}");
        let daemon = run_daemon(dir, &format!("{}{body}", station(dir, &health)), port);
        Station {
            _daemon: daemon,
            health,
            log: dir.join("log"),
        }
    }

    fn healthz(&self) -> (u16, Value) {
        let (code, body) = curl(&[&format!("http://{}/healthz", self.health)]);
        (code, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    fn get(&self, path: &str) -> String {
        curl(&[&format!("http://{}{path}", self.health)]).1
    }

    /// Wait until `/healthz` satisfies `cond`; fail with the last answer and the log.
    fn wait(&self, what: &str, secs: u64, cond: impl Fn(u16, &Value) -> bool) -> Value {
        let t0 = Instant::now();
        loop {
            let (code, v) = self.healthz();
            if cond(code, &v) {
                return v;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(secs),
                "{what}: not within {secs} s; /healthz {code}: {v}\nlog:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn wait_ok(&self, what: &str, secs: u64) {
        self.wait(what, secs, |code, v| code == 200 && v["status"] == "ok");
    }

    /// Wait for a 503 naming a degraded part of `kind`; returns that part.
    fn wait_degraded(&self, kind: &str, secs: u64) -> Value {
        let v = self.wait(&format!("{kind} degraded"), secs, |code, v| {
            code == 503 && degraded(v, kind).is_some()
        });
        degraded(&v, kind).unwrap_or_default()
    }

    /// The part of `kind` in `/status.json` and its `corsd_part_up` sample.
    fn part_everywhere(&self, kind: &str) -> (Value, Option<f64>) {
        let status: Value = serde_json::from_str(&self.get("/status.json")).unwrap();
        let part = status["parts"]
            .as_array()
            .expect("parts in /status.json")
            .iter()
            .find(|p| p["kind"] == kind)
            .cloned()
            .unwrap_or_default();
        let metrics = self.get("/metrics");
        let want = format!("kind=\"{kind}\"}}");
        let up = metrics
            .lines()
            .find(|l| l.starts_with("corsd_part_up{") && l.contains(&want))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok());
        (part, up)
    }

    /// `/status.json` and `/metrics` agree with `/healthz` about the part of `kind`.
    fn assert_same_everywhere(&self, kind: &str, ok: bool) {
        let (part, up) = self.part_everywhere(kind);
        for key in ["name", "kind", "ok", "state", "last_error"] {
            assert!(part.get(key).is_some(), "{key} missing in {part}");
        }
        assert_eq!(part["ok"], ok, "{part}");
        assert_eq!(
            up,
            Some(if ok { 1.0 } else { 0.0 }),
            "corsd_part_up of {kind}"
        );
    }
}

fn degraded(v: &Value, kind: &str) -> Option<Value> {
    v["degraded"]
        .as_array()?
        .iter()
        .find(|p| p["kind"] == kind)
        .cloned()
}

fn influx(vm: &VictoriaMetrics, extra: &str) -> String {
    format!(
        "[influx]\nurl = \"{}\"\napi = \"v2\"\norg = \"forestry\"\nbucket = \"cors\"\nbatch_interval = \"500ms\"\n{extra}",
        vm.url()
    )
}

fn file_source(speed: f64) -> String {
    format!(
        "[[source]]\nkind = \"file\"\nname = \"rx\"\npath = \"{}\"\nspeed = {speed}\nloop = true\n",
        common::data_file(STR24).display()
    )
}

#[test]
fn database_stopped_then_started() {
    let dir = temp_dir("health-influx");
    let mut vm = VictoriaMetrics::start("health-influx");
    let s = Station::start(&dir, &format!("{}{}", file_source(2.0), influx(&vm, "")));
    s.wait_ok("all parts up", 30);
    s.assert_same_everywhere("influx", true);
    vm.stop();
    let part = s.wait_degraded("influx", 30);
    assert_eq!(part["name"], vm.url(), "{part}");
    assert_eq!(part["state"], "retrying", "{part}");
    assert!(
        part["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("connection")),
        "{part}"
    );
    s.assert_same_everywhere("influx", false);
    vm.restart();
    s.wait_ok("database back", 90);
    s.assert_same_everywhere("influx", true);
}

#[test]
fn influxdb1_without_its_database_then_created() {
    let dir = temp_dir("health-influx1");
    let db = Influx1::start("health-influx1");
    let s = Station::start(
        &dir,
        &format!(
            "{}[influx]\nurl = \"{}\"\napi = \"v1\"\ndb = \"cors\"\nbatch_interval = \"500ms\"\n",
            file_source(2.0),
            db.url()
        ),
    );
    // InfluxDB 1.x answers 404 until the database exists: the data waits in the spool.
    let part = s.wait_degraded("influx", 30);
    assert_eq!(part["state"], "refused", "{part}");
    assert!(
        part["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("404") && e.contains("database not found")),
        "{part}"
    );
    s.assert_same_everywhere("influx", false);
    db.create_db("cors");
    s.wait_ok("database created", 90);
    s.assert_same_everywhere("influx", true);
}

#[test]
fn spool_filling_while_the_database_is_away() {
    let dir = temp_dir("health-spool");
    let mut vm = VictoriaMetrics::start("health-spool");
    vm.stop();
    let spool = dir.join("spool");
    let s = Station::start(
        &dir,
        &format!(
            "{}{}",
            file_source(8.0),
            influx(
                &vm,
                &format!(
                    "spool_dir = \"{}\"\nspool_max_bytes = \"64KiB\"\n",
                    spool.display()
                )
            )
        ),
    );
    let part = s.wait_degraded("spool", 90);
    assert_eq!(part["name"], spool.display().to_string(), "{part}");
    assert_eq!(part["state"], "filling", "{part}");
    assert!(
        part["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("cap")),
        "{part}"
    );
    s.assert_same_everywhere("spool", false);
    vm.restart();
    s.wait_ok("spool drained", 90);
    s.assert_same_everywhere("spool", true);
}

#[test]
fn spool_that_cannot_write_then_can() {
    let dir = temp_dir("health-spool-write");
    let vm = VictoriaMetrics::start("health-spool-write");
    let spool = dir.join("spool");
    let s = Station::start(
        &dir,
        &format!(
            "{}{}",
            file_source(8.0),
            influx(
                &vm,
                &format!(
                    "spool_dir = \"{}\"\nspool_max_bytes = \"64KiB\"\n",
                    spool.display()
                )
            )
        ),
    );
    s.wait_ok("all parts up", 30);
    // The spool's directory becomes a file: its next segment cannot be made.
    std::fs::rename(&spool, dir.join("spool-moved")).unwrap();
    std::fs::write(&spool, "a file where the spool was\n").unwrap();
    let part = s.wait_degraded("spool", 30);
    assert_eq!(part["state"], "failing", "{part}");
    assert!(
        part["last_error"]
            .as_str()
            .is_some_and(|e| e.contains(&spool.display().to_string())),
        "{part}"
    );
    s.assert_same_everywhere("spool", false);
    // Put right: the points held in memory meanwhile go to disk, then to the database.
    std::fs::remove_file(&spool).unwrap();
    std::fs::create_dir(&spool).unwrap();
    s.wait_ok("spool writing again", 30);
    s.assert_same_everywhere("spool", true);
    let log = std::fs::read_to_string(&s.log).unwrap();
    assert!(log.contains("spool: writing again"), "{log}");
}

#[test]
fn archive_directory_replaced_by_a_file_then_back() {
    let dir = temp_dir("health-archive");
    let archive = dir.join("archive");
    let s = Station::start(
        &dir,
        &format!(
            "[[source]]\nkind = \"simulate\"\nname = \"sim\"\n[archive]\ndir = \"{}\"\nrinex = false\n",
            archive.display()
        ),
    );
    s.wait_ok("archive writing", 30);
    s.assert_same_everywhere("archive", true);
    std::fs::rename(&archive, dir.join("archive-moved")).unwrap();
    std::fs::write(&archive, "a file where the archive was\n").unwrap();
    let part = s.wait_degraded("archive", 20);
    assert_eq!(part["name"], archive.display().to_string(), "{part}");
    assert!(
        part["last_error"]
            .as_str()
            .is_some_and(|e| e.contains(&archive.display().to_string())),
        "{part}"
    );
    s.assert_same_everywhere("archive", false);
    std::fs::remove_file(&archive).unwrap();
    s.wait_ok("archive writing again", 20);
    s.assert_same_everywhere("archive", true);
    // Frames go to the new directory (flushed every second), not to the moved one's open file.
    let t0 = Instant::now();
    while !walk(&archive).iter().any(|f| {
        f.extension().is_some_and(|e| e == "rtcm3")
            && std::fs::metadata(f).map(|m| m.len()).unwrap_or(0) > 0
    }) {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "no frames in {}: {:?}",
            archive.display(),
            walk(&archive)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn push_target_that_comes_up_later() {
    let dir = temp_dir("health-push");
    let remote_dir = temp_dir("health-push-remote");
    let port = free_port();
    std::fs::write(dir.join("pw"), "uppass\n").unwrap();
    let s = Station::start(
        &dir,
        &format!(
            "[[source]]\nkind = \"simulate\"\nname = \"sim\"\n[[push]]\nname = \"remote\"\naddress = \"127.0.0.1:{port}\"\nmount = \"UP\"\npassword_file = \"pw\"\n"
        ),
    );
    // Degraded from the start ("connecting"); wait for the first refused connection's error.
    let v = s.wait("push degraded with its error", 20, |code, v| {
        code == 503 && degraded(v, "push").is_some_and(|p| p["last_error"].is_string())
    });
    let part = degraded(&v, "push").unwrap_or_default();
    assert_eq!(part["name"], "remote", "{part}");
    assert!(
        part["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot connect")),
        "{part}"
    );
    s.assert_same_everywhere("push", false);
    // And on the status page.
    let (dom, _) = chromium(
        &dir.join("profile"),
        &["--dump-dom"],
        &format!("http://{}/", s.health),
    );
    assert!(
        dom.contains("push remote") && dom.contains("cannot connect"),
        "the status page does not show the push down:\n{dom}"
    );
    // The remote caster: another corsd with a relay mount the push may feed.
    std::fs::write(remote_dir.join("users"), "up:uppass\n").unwrap();
    let remote = format!(
        "{}[[source]]\nkind = \"simulate\"\nname = \"idle\"\n[[caster]]\nlisten = \"127.0.0.1:{port}\"\ncredentials_file = \"users\"\n[[caster.mount]]\nname = \"UP\"\nrelay_user = \"up\"\n",
        station(&remote_dir, &format!("127.0.0.1:{}", free_port()))
    );
    let _remote = run_daemon(&remote_dir, &remote, port);
    s.wait_ok("push streaming", 60);
    s.assert_same_everywhere("push", true);
}

fn walk(d: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
