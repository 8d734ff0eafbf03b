//! Real servers for the integration tests, each started on 127.0.0.1 with a free port and its
//! own data directory, and killed when dropped. A missing program fails the test with the
//! command that installs it (`scripts/test.sh` installs them all).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port on 127.0.0.1")
}

pub fn require(program: &str, package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
        let p = Path::new(dir).join(program);
        if p.is_file() {
            return p;
        }
    }
    panic!(
        "{program} is not installed: run scripts/test.sh --install (or apt-get install {package})"
    );
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("corsd-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `curl` with arguments; returns (HTTP status, body).
pub fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new(require("curl", "curl"))
        .args(["-s", "-o", "-", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

fn wait_http(url: &str, code: u16, what: &str, log: &Path) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(30) {
        if curl(&[url]).0 == code {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{what} did not answer {url} within 30 s; its log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// VictoriaMetrics: the v2 write path. Started with a 100-year retention (old recordings must
/// stay) and deduplication at 1 ms (the same point written twice is stored once, as InfluxDB
/// does).
pub struct VictoriaMetrics {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
    extra: Vec<String>,
}

impl VictoriaMetrics {
    pub fn start(name: &str) -> Self {
        Self::start_with(name, &[])
    }

    pub fn start_with(name: &str, extra: &[&str]) -> Self {
        let mut vm = VictoriaMetrics {
            port: free_port(),
            dir: temp_dir(&format!("vm-{name}")),
            child: None,
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        vm.restart();
        vm
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Start again on the same port and data directory.
    pub fn restart(&mut self) {
        let bin = require("victoria-metrics", "victoria-metrics");
        let log = self.dir.join("vm.log");
        let child = Command::new(bin)
            .arg(format!("-httpListenAddr=127.0.0.1:{}", self.port))
            .arg(format!(
                "-storageDataPath={}",
                self.dir.join("data").display()
            ))
            .arg("-retentionPeriod=100y")
            .arg("-dedup.minScrapeInterval=1ms")
            .arg("-loggerLevel=WARN")
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start victoria-metrics");
        self.child = Some(child);
        wait_http(
            &format!("{}/health", self.url()),
            200,
            "victoria-metrics",
            &log,
        );
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// [`VictoriaMetrics::export`], polled until at least `want` samples are visible (new series
    /// become searchable shortly after a write, later on a loaded machine) or 10 s passed.
    pub fn export_at_least(
        &self,
        selector: &str,
        want: usize,
    ) -> Vec<(String, Vec<(String, String)>, i64, f64)> {
        let t0 = std::time::Instant::now();
        loop {
            let got = self.export(selector);
            if got.len() >= want || t0.elapsed() > Duration::from_secs(10) {
                return got;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// Every sample of the series matching `selector`, as (metric, sorted labels, ms, value).
    pub fn export(&self, selector: &str) -> Vec<(String, Vec<(String, String)>, i64, f64)> {
        curl(&[&format!("{}/internal/force_flush", self.url())]);
        let end = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600)
            .to_string();
        let (code, body) = curl(&[
            "-G",
            &format!("{}/api/v1/export", self.url()),
            "--data-urlencode",
            &format!("match[]={selector}"),
            "--data-urlencode",
            "start=0",
            "--data-urlencode",
            &format!("end={end}"),
        ]);
        assert_eq!(code, 200, "export: {body}");
        let mut out = Vec::new();
        for line in body.lines().filter(|l| !l.is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let m = v["metric"].as_object().unwrap();
            let name = m["__name__"].as_str().unwrap().to_string();
            let mut labels: Vec<(String, String)> = m
                .iter()
                .filter(|(k, _)| *k != "__name__")
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect();
            labels.sort();
            let ts = v["timestamps"].as_array().unwrap();
            let vals = v["values"].as_array().unwrap();
            for (t, x) in ts.iter().zip(vals) {
                out.push((
                    name.clone(),
                    labels.clone(),
                    t.as_i64().unwrap(),
                    x.as_f64().unwrap_or(f64::NAN),
                ));
            }
        }
        out
    }
}

impl Drop for VictoriaMetrics {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// InfluxDB 1.6.7: the v1 write path and a strict line-protocol parser.
pub struct Influx1 {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
}

impl Influx1 {
    pub fn start(name: &str) -> Self {
        let bin = require("influxd", "influxdb");
        let dir = temp_dir(&format!("influx-{name}"));
        let port = free_port();
        let rpc = free_port();
        let conf = dir.join("influxdb.conf");
        std::fs::write(
            &conf,
            format!(
                "reporting-enabled = false\nbind-address = \"127.0.0.1:{rpc}\"\n[meta]\n  dir = \"{d}/meta\"\n[data]\n  dir = \"{d}/data\"\n  wal-dir = \"{d}/wal\"\n  query-log-enabled = false\n[monitor]\n  store-enabled = false\n[http]\n  bind-address = \"127.0.0.1:{port}\"\n  log-enabled = false\n[logging]\n  level = \"warn\"\n",
                d = dir.display()
            ),
        )
        .unwrap();
        let log = dir.join("influxd.log");
        let child = Command::new(bin)
            .arg("-config")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start influxd");
        let s = Influx1 {
            port,
            dir,
            child: Some(child),
        };
        wait_http(&format!("{}/ping", s.url()), 204, "influxd", &log);
        s
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn create_db(&self, db: &str) {
        let (code, body) = curl(&[
            "-XPOST",
            &format!("{}/query", self.url()),
            "--data-urlencode",
            &format!("q=CREATE DATABASE \"{db}\""),
        ]);
        assert_eq!(code, 200, "{body}");
    }

    /// Run an InfluxQL query; the JSON answer.
    pub fn query(&self, db: &str, q: &str) -> serde_json::Value {
        let (code, body) = curl(&[
            "-G",
            &format!("{}/query", self.url()),
            "--data-urlencode",
            &format!("db={db}"),
            "--data-urlencode",
            "epoch=ns",
            "--data-urlencode",
            &format!("q={q}"),
        ]);
        assert_eq!(code, 200, "{q}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    pub fn write(&self, db: &str, lines: &str) -> (u16, String) {
        curl(&[
            "-XPOST",
            &format!("{}/write?db={db}&precision=ns", self.url()),
            "--data-binary",
            lines,
        ])
    }
}

impl Drop for Influx1 {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One parsed line of line protocol (as corsd writes it: no escaped characters in our tags).
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub measurement: String,
    pub tags: Vec<(String, String)>,
    pub fields: Vec<(String, f64)>,
    pub time_ns: i64,
}

pub fn parse_lines(text: &str) -> Vec<Line> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.splitn(3, ' ');
            let key = parts.next().unwrap();
            let fields = parts.next().unwrap();
            let ts = parts.next().unwrap().parse().unwrap();
            let mut k = key.split(',');
            let measurement = k.next().unwrap().to_string();
            let mut tags: Vec<(String, String)> = k
                .map(|t| {
                    let (a, b) = t.split_once('=').unwrap();
                    (a.to_string(), b.to_string())
                })
                .collect();
            tags.sort();
            let fields = fields
                .split(',')
                .map(|f| {
                    let (a, b) = f.split_once('=').unwrap();
                    let v = match b {
                        "true" => 1.0,
                        "false" => 0.0,
                        // VictoriaMetrics stores a string field as 0.
                        b if b.starts_with('"') => 0.0,
                        b => b.trim_end_matches('i').parse().unwrap(),
                    };
                    (a.to_string(), v)
                })
                .collect();
            Line {
                measurement,
                tags,
                fields,
                time_ns: ts,
            }
        })
        .collect()
}

/// Every `.lp` file of a directory, concatenated in name order.
pub fn read_series(dir: &Path) -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "lp"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

/// The corsd binary under test.
pub fn corsd() -> Command {
    Command::new(std::env::var("CORSD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_corsd").into()))
}

/// `corsd check-config -c PATH`, run to the end.
pub fn check_config(path: &std::path::Path) -> std::process::Output {
    corsd()
        .args(["check-config", "-c"])
        .arg(path)
        .output()
        .expect("corsd check-config runs")
}

/// Chromium with DESIGN §6's flags, a fresh profile, and the page's console on stderr:
/// `(stdout, stderr)`.
///
/// Headless Chromium now and then never exits after it has printed the page (seen once in CI, a
/// screenshot of a finished page, the suite waiting until its time ran out). So one run at a time
/// per test binary, each in its own process group, killed with its helpers after a minute and
/// tried again with a new profile; only three hangs in a row fail the test.
pub fn chromium(profile: &std::path::Path, args: &[&str], url: &str) -> (String, String) {
    use std::os::unix::process::CommandExt;
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let program = require("chromium", "chromium");
    const ATTEMPTS: usize = 3;
    const LIMIT: Duration = Duration::from_secs(60);
    for attempt in 1..=ATTEMPTS {
        let profile = profile.with_extension(format!("try{attempt}"));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).unwrap();
        let (out_path, err_path) = (profile.join("stdout.txt"), profile.join("stderr.txt"));
        let mut child = Command::new(&program)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--enable-logging=stderr",
                "--v=0",
                "--virtual-time-budget=6000",
            ])
            .arg(format!(
                "--user-data-dir={}",
                profile.join("data").display()
            ))
            .args(args)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out_path).unwrap())
            .stderr(std::fs::File::create(&err_path).unwrap())
            .process_group(0)
            .spawn()
            .expect("run chromium");
        let t0 = Instant::now();
        let exited = loop {
            if child.try_wait().unwrap().is_some() {
                break true;
            }
            if t0.elapsed() > LIMIT {
                break false;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // The renderer and GPU helpers share the group; none may outlive the run.
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
        let _ = child.wait();
        let read =
            |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
        if exited {
            return (read(&out_path), read(&err_path));
        }
        eprintln!(
            "chromium did not exit within {LIMIT:?} (attempt {attempt} of {ATTEMPTS}) on {url}; killed"
        );
    }
    panic!("chromium hung {ATTEMPTS} times in a row on {url}: see the stderr above");
}

/// No console message and no uncaught exception in what Chromium logged for a page.
pub fn assert_no_console_errors(logs: &[&str]) {
    for c in logs {
        let errors: Vec<&str> = c
            .lines()
            .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
            .collect();
        assert!(errors.is_empty(), "console: {errors:#?}");
    }
}

/// A screenshot's (width, height) and byte length; panics unless it is a PNG.
pub fn png_size(path: &std::path::Path) -> ((u32, u32), usize) {
    let png = std::fs::read(path).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
    ((w, h), png.len())
}

/// A pty pair made by `socat`: `(child, end A, end B)`; bytes written to one end come out of the
/// other, as through a serial cable. Killing the child makes both ends vanish.
pub fn socat_pair(dir: &Path, a: &str, b: &str) -> (Child, PathBuf, PathBuf) {
    let socat = require("socat", "socat");
    let (a, b) = (dir.join(a), dir.join(b));
    let _ = std::fs::remove_file(&a);
    let _ = std::fs::remove_file(&b);
    let child = Command::new(socat)
        .arg(format!("pty,raw,echo=0,link={}", a.display()))
        .arg(format!("pty,raw,echo=0,link={}", b.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !(a.exists() && b.exists()) {
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "socat made no pty pair"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, a, b)
}

/// A `corsd run -c` daemon, stopped with SIGTERM when dropped.
pub struct Daemon(pub Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// `corsd run -c CFG`, its log in `dir/log`.
pub fn spawn_run(cfg: &Path, dir: &Path) -> Child {
    corsd()
        .args(["run", "-c"])
        .arg(cfg)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("log")).unwrap())
        .spawn()
        .unwrap()
}

/// Write `config` into `dir/corsd.toml`, start `corsd run -c` on it (log in `dir/log`), and wait
/// until `port` on 127.0.0.1 accepts connections.
pub fn run_daemon(dir: &Path, config: &str, port: u16) -> Daemon {
    let cfg = dir.join("corsd.toml");
    std::fs::write(&cfg, config).unwrap();
    let child = spawn_run(&cfg, dir);
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "corsd not listening on {port}: {}",
            std::fs::read_to_string(dir.join("log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Daemon(child)
}

/// `corsd run` on its embedded demo station in `dir`, on free ports: `(child, health, caster)`.
pub fn start_demo(dir: &Path) -> (Child, String, String) {
    let health = format!("127.0.0.1:{}", free_port());
    let caster = format!("127.0.0.1:{}", free_port());
    let child = corsd()
        .args(["run", "--demo-dir"])
        .arg(dir)
        .args(["--health", &health, "--caster", &caster])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("log")).unwrap())
        .spawn()
        .unwrap();
    (child, health, caster)
}

/// str2str as an NTRIP v1 client of `mount` on `port`, into a file.
pub fn str2str_read(port: u16, mount: &str, out: &Path) -> Child {
    Command::new(require("str2str", "rtklib"))
        .arg("-in")
        .arg(format!("ntrip://127.0.0.1:{port}/{mount}"))
        .arg("-out")
        .arg(format!("file://{}", out.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// RINEX observations and navigation of a recording, written by `corsd replay`.
pub fn replay_rinex(dir: &Path, rel: &str, station: &str) -> (PathBuf, PathBuf) {
    let out_dir = dir.join(station);
    let out = corsd()
        .args(["replay", "--station", station, "--rinex"])
        .arg(&out_dir)
        .arg(super::data_file(rel))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let find = |suffix: &str| {
        std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .unwrap_or_else(|| panic!("no *{suffix} in {}", out_dir.display()))
    };
    (find("_MO.rnx"), find("_MN.rnx"))
}
