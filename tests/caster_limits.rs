//! The embedded caster under bad input and load, on 127.0.0.1.
//!
//! * Bad input: an oversize header, a slow-loris request, binary garbage, bad base64, unknown
//!   mountpoints and too many connections from one address are each answered or closed per the
//!   protocol and counted, while a rover on the same mountpoint keeps receiving without a gap.
//! * Load (bounded in time and count): 10 000 concurrent v1 clients on one mountpoint of a 1 Hz
//!   MSM7 stream (simulated, fed through a TCP source so that the time each frame went in is
//!   known), the delay from frame in to frame out at every client, corsd's peak memory; then 500
//!   connects per second of churn; then stalled clients that read nothing, against the others'
//!   delay.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::servers::{corsd, curl, free_port, run_daemon, temp_dir};

const STR24: &str = "rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3";

/// The load test times a fan-out against this machine's own floor; the other test's daemon,
/// rover and slow requests must not share the cores with it, so the two run one at a time.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn alone() -> std::sync::MutexGuard<'static, ()> {
    ALONE.lock().unwrap_or_else(|e| e.into_inner())
}

/// One request on a fresh connection; the answer until the server closes (or 13 s).
fn exchange(port: u16, request: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(13))).unwrap();
    let _ = s.write_all(request);
    let mut out = vec![0u8; 4096];
    let mut n = 0;
    while n < out.len() {
        match s.read(&mut out[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    String::from_utf8_lossy(&out[..n]).into_owned()
}

#[test]
fn bad_requests_are_answered_and_counted_and_rovers_see_nothing() {
    let _alone = alone();
    let dir = temp_dir("caster-bad");
    let port = free_port();
    let health = format!("127.0.0.1:{}", free_port());
    std::fs::write(dir.join("users"), "crew:secret\n").unwrap();
    let config = format!(
        r#"data_dir = "{d}"
[station]
name = "STR2"
position = {{ x = -4467075.2780, y = 2683011.8519, z = -3667007.0103 }}
[health]
listen = "{health}"
[[source]]
kind = "file"
name = "rx"
path = "{file}"
speed = 10.0
loop = true
[[caster]]
listen = "127.0.0.1:{port}"
credentials_file = "users"
max_clients_per_ip = 8
[[caster.mount]]
name = "ALL"
[[caster.mount]]
name = "PRIV"
users = ["crew"]
"#,
        d = dir.display(),
        file = common::data_file(STR24).display()
    );
    let _d = run_daemon(&dir, &config, port);
    // A rover that logs when each read arrived.
    let stop = Arc::new(AtomicU64::new(0));
    let rover = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            s.write_all(b"GET /ALL HTTP/1.0\r\nUser-Agent: NTRIP rover\r\n\r\n")
                .unwrap();
            let mut buf = [0u8; 8192];
            let (mut bytes, mut longest, mut last) = (0usize, Duration::ZERO, Instant::now());
            while stop.load(Ordering::Relaxed) == 0 {
                if let Ok(n) = s.read(&mut buf)
                    && n > 0
                {
                    bytes += n;
                    longest = longest.max(last.elapsed());
                    last = Instant::now();
                }
            }
            (bytes, longest)
        })
    };
    std::thread::sleep(Duration::from_secs(1));
    // A slow-loris request: half a request line, then nothing.
    let loris = std::thread::spawn(move || exchange(port, b"GET /ALL HTT"));
    let mut huge = b"GET /ALL HTTP/1.0\r\nX-Padding: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 20_000));
    huge.extend_from_slice(b"\r\n\r\n");
    let a = exchange(port, &huge);
    assert!(a.starts_with("HTTP/1.1 431"), "{a}");
    let mut garbage: Vec<u8> = (0..600u32).map(|i| (i * 7919 % 251) as u8 | 0x80).collect();
    garbage.extend_from_slice(b"\r\n\r\n");
    let a = exchange(port, &garbage);
    assert!(a.starts_with("HTTP/1.1 400"), "{a}");
    let a = exchange(
        port,
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
    );
    assert!(a.starts_with("HTTP/1.1 400"), "TLS hello: {a}");
    let a = exchange(
        port,
        b"GET /PRIV HTTP/1.0\r\nAuthorization: Basic !!not*base64\r\n\r\n",
    );
    assert!(a.starts_with("HTTP/1.1 400"), "{a}");
    let a = exchange(port, b"GET /NOPE HTTP/1.0\r\nUser-Agent: NTRIP x\r\n\r\n");
    assert!(
        a.starts_with("SOURCETABLE 200 OK\r\n") && a.contains("STR;ALL;"),
        "{a}"
    );
    let a = exchange(
        port,
        b"GET /NOPE HTTP/1.1\r\nNtrip-Version: Ntrip/2.0\r\nUser-Agent: NTRIP x\r\n\r\n",
    );
    assert!(
        a.starts_with("HTTP/1.1 200 OK\r\n") && a.contains("Content-Type: gnss/sourcetable"),
        "{a}"
    );
    let a = exchange(port, b"DELETE /ALL HTTP/1.1\r\n\r\n");
    assert!(a.starts_with("HTTP/1.1 501"), "{a}");
    let a = exchange(port, b"SOURCE pw /ALL\r\n\r\n");
    assert!(a.starts_with("ERROR - Bad Mountpoint"), "{a}");
    let a = loris.join().unwrap();
    assert!(a.starts_with("HTTP/1.1 408"), "slow loris: {a}");
    // Connections per address: the rover and 7 idle ones fill the 8; the next is refused.
    let idle: Vec<TcpStream> = (0..7)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let a = exchange(port, b"GET /ALL HTTP/1.0\r\n\r\n");
    assert!(a.starts_with("HTTP/1.1 503"), "{a}");
    drop(idle);
    std::thread::sleep(Duration::from_millis(300));
    let a = exchange(port, b"GET /NOPE HTTP/1.0\r\n\r\n");
    assert!(
        a.starts_with("SOURCETABLE 200 OK"),
        "a slot is free again: {a}"
    );
    stop.store(1, Ordering::Relaxed);
    let (bytes, longest) = rover.join().unwrap();
    assert!(bytes > 50_000, "the rover got {bytes} bytes");
    assert!(
        longest < Duration::from_secs(2),
        "the rover's stream stalled for {longest:?}"
    );
    let (_, m) = curl(&[&format!("http://{health}/metrics")]);
    let value = |name: &str| -> u64 {
        m.lines()
            .find(|l| l.starts_with(&format!("corsd_{name}{{")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in {m}"))
    };
    // 431, two 400s for bytes that are no request, bad base64, 501, 408.
    assert!(value("caster_bad_requests_total") >= 6, "{m}");
    assert!(value("caster_refused_total") >= 1, "{m}");
    assert_eq!(value("caster_dropped_clients_total"), 0, "{m}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Raise the open-file limit for 10 000 sockets on each side (the daemon inherits it).
fn raise_nofile(n: u64) {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut r);
        r.rlim_cur = n.min(r.rlim_max.max(n));
        r.rlim_max = r.rlim_max.max(n);
        if libc::setrlimit(libc::RLIMIT_NOFILE, &r) != 0 {
            r.rlim_max = r.rlim_cur.min(r.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

/// What this machine's kernel alone needs to hand one 2 kB chunk to `clients` loopback sockets
/// from `threads` threads, in ms (median of 20 rounds, readers drained between rounds, their
/// sockets set up as the load test's clients): the floor under any fan-out's delay here. Measured on as many sockets as the open-file limit
/// allows (both ends count), up to `clients`, and scaled.
fn kernel_floor_ms(clients: usize, threads: usize) -> f64 {
    use std::io::{Read, Write};
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    let per_thread =
        ((lim.rlim_cur as usize).saturating_sub(500) / (2 * threads)).clamp(500, clients / threads);
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut groups = Vec::new();
    let mut readers = Vec::new();
    for _ in 0..threads {
        let mut g = Vec::new();
        for _ in 0..per_thread {
            let c = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
            let (s, _) = l.accept().unwrap();
            s.set_nonblocking(true).unwrap();
            c.set_nonblocking(true).unwrap();
            g.push(s);
            readers.push(c);
        }
        groups.push(g);
    }
    let data = vec![0x55u8; 2_000];
    let mut rounds = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    for _ in 0..20 {
        let per_thread: Vec<f64> = std::thread::scope(|sc| {
            let hs: Vec<_> = groups
                .iter_mut()
                .map(|g| {
                    let data = &data;
                    sc.spawn(move || {
                        let t = Instant::now();
                        for s in g.iter_mut() {
                            let _ = s.write(data);
                        }
                        t.elapsed().as_secs_f64() * 1e3
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        rounds.push(per_thread.into_iter().fold(0.0, f64::max));
        // Read later, as the load test does, so that the readers' delayed ACKs come from their
        // timers, as there (read at once, they would ride on the reads, outside the round).
        std::thread::sleep(Duration::from_millis(300));
        for r in readers.iter_mut() {
            while let Ok(1..) = r.read(&mut buf) {}
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    rounds.sort_by(f64::total_cmp);
    rounds[rounds.len() / 2] * (clients as f64 / (threads * per_thread) as f64)
}

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The simulated stream as one byte string per epoch (second).
/// Read what each quiet client has waiting, without blocking; with `until`, wait (up to 5 s
/// each) until every client has that many bytes. The number of clients that fell short.
fn drain(
    quiet: &std::sync::Mutex<Vec<(std::net::TcpStream, usize)>>,
    until: Option<usize>,
) -> usize {
    use std::io::Read;
    let mut buf = vec![0u8; 256 * 1024];
    let mut short = 0;
    for (s, got) in quiet.lock().unwrap().iter_mut() {
        if let Some(want) = until {
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            while *got < want {
                match s.read(&mut buf) {
                    Ok(n) if n > 0 => *got += n,
                    _ => break,
                }
            }
            short += usize::from(*got < want);
        } else {
            while let Ok(n @ 1..) = s.read(&mut buf) {
                *got += n;
            }
        }
    }
    short
}

fn simulated_epochs(dir: &std::path::Path, secs: u32) -> Vec<Vec<u8>> {
    let path = dir.join("sim.rtcm3");
    let out = corsd()
        .args([
            "simulate",
            "--msm",
            "7",
            "--duration",
            &secs.to_string(),
            "-o",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let frames: Vec<Vec<u8>> = corsd::framing::frames(&std::fs::read(&path).unwrap())
        .0
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    // Split into seconds: an MSM whose multiple-message bit is clear ends an epoch.
    let mut epochs = vec![Vec::new()];
    for f in frames {
        let payload = &f[3..f.len() - 3];
        let n = corsd::messages::rtcm3::message_number(payload).unwrap_or(0);
        let last_of_epoch =
            (1071..=1137).contains(&n) && payload.len() > 7 && payload[6] & 0x02 == 0;
        epochs.last_mut().unwrap().extend_from_slice(&f);
        if last_of_epoch {
            epochs.push(Vec::new());
        }
    }
    epochs.retain(|e| !e.is_empty());
    epochs
}

struct Phase {
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    samples: usize,
}

fn percentiles(mut d: Vec<u32>) -> Phase {
    if d.is_empty() {
        return Phase {
            p50_ms: f64::NAN,
            p99_ms: f64::NAN,
            max_ms: f64::NAN,
            samples: 0,
        };
    }
    d.sort_unstable();
    let at = |q: f64| d[((d.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    Phase {
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: *d.last().unwrap_or(&0) as f64 / 1000.0,
        samples: d.len(),
    }
}

#[test]
fn ten_thousand_clients_churn_and_stalled_clients() {
    let _alone = alone();
    const CLIENTS: usize = 10_000;
    raise_nofile(40_000);
    let cores = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 8);
    let floor = kernel_floor_ms(CLIENTS, cores);
    let dir = temp_dir("caster-load");
    let (port, src) = (free_port(), free_port());
    let health = format!("127.0.0.1:{}", free_port());
    let config = format!(
        r#"data_dir = "{d}"
[station]
name = "LOAD"
position = {{ x = -1327313.145, y = 5921985.503, z = 1955881.955 }}
[health]
listen = "{health}"
[[source]]
kind = "tcp-server"
name = "rx"
listen = "127.0.0.1:{src}"
[[caster]]
listen = "127.0.0.1:{port}"
max_clients_per_ip = 20000
[[caster.mount]]
name = "ALL"
"#,
        d = dir.display()
    );
    let daemon = run_daemon(&dir, &config, port);
    let epochs = Arc::new(simulated_epochs(&dir, 60));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Send time of each epoch, µs since `t0`.
    let t0 = Instant::now();
    let sent: Arc<Vec<AtomicU64>> =
        Arc::new((0..epochs.len()).map(|_| AtomicU64::new(0)).collect());
    // Where each epoch ends in the stream a client receives from the first byte on.
    let ends: Arc<Vec<usize>> = Arc::new(
        epochs
            .iter()
            .scan(0usize, |acc, e| {
                *acc += e.len();
                Some(*acc)
            })
            .collect(),
    );
    let phase = Arc::new(AtomicU64::new(0));
    let delays: Arc<std::sync::Mutex<Vec<Vec<u32>>>> =
        Arc::new(std::sync::Mutex::new(vec![Vec::new(); 3]));
    let errors = Arc::new(AtomicU64::new(0));
    // The quiet clients' sockets and what each has read so far.
    let quiet: Arc<std::sync::Mutex<Vec<(std::net::TcpStream, usize)>>> = Arc::default();
    rt.block_on(async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut source = tokio::net::TcpStream::connect(("127.0.0.1", src))
            .await
            .unwrap();
        source.set_nodelay(true).unwrap();
        // Clients connect in waves (the accept queue is bounded).
        let mut handles = Vec::new();
        for i in 0..CLIENTS {
            let (quiet, ends, sent, delays, phase, errors) = (
                quiet.clone(),
                ends.clone(),
                sent.clone(),
                delays.clone(),
                phase.clone(),
                errors.clone(),
            );
            handles.push(tokio::spawn(async move {
                // Every 100th client is a probe that reads at once and times each epoch; the
                // others are read half-way between epochs, so that the delays measured are
                // corsd's fan-out, not this process waking 10 000 tasks on the same two cores.
                // Their sockets keep the kernel's default buffers, as a rover's do: a 1 MiB
                // buffer alone makes each loopback send ~10% dearer. corsd spreads clients over
                // its cores as they come, so the probes sample every position in a pass.
                let probe = i % 100 == 0;
                let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                if s.write_all(b"GET /ALL HTTP/1.0\r\nUser-Agent: NTRIP load\r\n\r\n")
                    .await
                    .is_err()
                {
                    errors.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                if !probe {
                    // Out of this process's reactor and without a task, so that data arriving
                    // costs no wake-up here on the cores corsd uses; drained half-way between
                    // epochs, as rovers read their streams (a socket left to fill up makes the
                    // kernel ACK every segment at once, which loads the sender's core).
                    quiet.lock().unwrap().push((s.into_std().unwrap(), 0));
                    return;
                }
                let mut buf = vec![0u8; 16 * 1024];
                let mut data: Vec<u8> = Vec::new();
                let mut header = false;
                let (mut offset, mut next) = (0usize, 0usize);
                let mut mine: [Vec<u32>; 3] = Default::default();
                loop {
                    let n = match s.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let now = t0.elapsed().as_micros() as u64;
                    data.extend_from_slice(&buf[..n]);
                    if !header {
                        if data.len() < 12 {
                            continue;
                        }
                        assert!(data.starts_with(b"ICY 200 OK\r\n"));
                        data.drain(..12);
                        header = true;
                    }
                    // The stream is the epochs in order from the first: an epoch is out when its
                    // last byte is.
                    offset += data.len();
                    data.clear();
                    while next < ends.len() && offset >= ends[next] {
                        let at = sent[next].load(Ordering::Relaxed);
                        if at > 0 {
                            let p = phase.load(Ordering::Relaxed) as usize;
                            mine[p.min(2)].push(now.saturating_sub(at) as u32);
                        }
                        next += 1;
                    }
                    if phase.load(Ordering::Relaxed) == 9 {
                        break;
                    }
                }
                let mut d = delays.lock().unwrap();
                for p in 0..3 {
                    d[p].extend_from_slice(&mine[p]);
                }
            }));
            if i % 500 == 499 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // Wait until every client is in.
        let t_connect = Instant::now();
        loop {
            let (_, h) = tokio::task::spawn_blocking({
                let health = health.clone();
                move || curl(&[&format!("http://{health}/healthz")])
            })
            .await
            .unwrap();
            let n = serde_json::from_str::<serde_json::Value>(&h)
                .ok()
                .and_then(|v| v["caster_clients"].as_u64())
                .unwrap_or(0);
            if n as usize >= CLIENTS {
                break;
            }
            assert!(
                t_connect.elapsed() < Duration::from_secs(60),
                "{n} of {CLIENTS} clients connected"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let connected = t_connect.elapsed();
        let mut k = 0usize;
        // Phase 0: 15 s of 1 Hz epochs to 10 000 clients.
        // Phase 1: the same with 500 connects/s of churn beside them.
        // Phase 2: the same with 20 stalled clients (connected, never reading).
        let mut stalled = Vec::new();
        let mut churn_ok = 0u64;
        let mut churn_err = 0u64;
        for p in 0..3u64 {
            phase.store(p, Ordering::Relaxed);
            if p == 2 {
                for _ in 0..20 {
                    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                        .await
                        .unwrap();
                    s.write_all(b"GET /ALL HTTP/1.0\r\n\r\n").await.unwrap();
                    stalled.push(s);
                }
            }
            let (start, secs) = (k, 15usize);
            k += secs;
            let churn = if p == 1 {
                Some(tokio::spawn(async move {
                    let (mut ok, mut err) = (0u64, 0u64);
                    let t = Instant::now();
                    let mut tick = tokio::time::interval(Duration::from_millis(2));
                    while t.elapsed() < Duration::from_secs(14) {
                        tick.tick().await;
                        match tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                            Ok(mut s) => {
                                let _ = s.write_all(b"GET /ALL HTTP/1.0\r\n\r\n").await;
                                let mut b = [0u8; 12];
                                match tokio::time::timeout(
                                    Duration::from_secs(2),
                                    s.read_exact(&mut b),
                                )
                                .await
                                {
                                    Ok(Ok(_)) if &b == b"ICY 200 OK\r\n" => ok += 1,
                                    _ => err += 1,
                                }
                            }
                            Err(_) => err += 1,
                        }
                    }
                    (ok, err)
                }))
            } else {
                None
            };
            for i in start..start + secs {
                let e = &epochs[i % epochs.len()];
                let t = Instant::now();
                sent[i % epochs.len()].store(t0.elapsed().as_micros() as u64, Ordering::Relaxed);
                source.write_all(e).await.unwrap();
                tokio::time::sleep(Duration::from_millis(500)).await;
                let q = quiet.clone();
                tokio::task::spawn_blocking(move || drain(&q, None)).await.unwrap();
                tokio::time::sleep(Duration::from_secs(1).saturating_sub(t.elapsed())).await;
            }
            if let Some(c) = churn {
                let (ok, err) = c.await.unwrap();
                churn_ok += ok;
                churn_err += err;
            }
        }
        phase.store(9, Ordering::Relaxed);
        // One more epoch wakes every client to see the end.
        source.write_all(&epochs[0]).await.unwrap();
        let rss = peak_rss_kb(daemon.0.id());
        for h in handles {
            let _ = tokio::time::timeout(Duration::from_secs(20), h).await;
        }
        // Every quiet client got everything and is still connected.
        let want = 12 + ends[ends.len().min(45) - 1];
        let quiet_clients = quiet.lock().unwrap().len();
        let q = quiet.clone();
        let short = tokio::task::spawn_blocking(move || drain(&q, Some(want)))
            .await
            .unwrap();
        assert_eq!(quiet_clients, CLIENTS - CLIENTS / 100);
        assert_eq!(short, 0, "quiet clients that missed data or lost the connection");
        let d = std::mem::take(&mut *delays.lock().unwrap());
        let phases: Vec<Phase> = d.into_iter().map(percentiles).collect();
        eprintln!(
            "caster load: {CLIENTS} clients connected in {:.1} s; corsd peak RSS {} MB",
            connected.as_secs_f64(),
            rss / 1024
        );
        for (name, p) in [
            "10 000 clients",
            "with 500 connects/s",
            "with 20 stalled clients",
        ]
        .iter()
        .zip(&phases)
        {
            eprintln!(
                "  {name}: {} probe deliveries, delay p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                p.samples, p.p50_ms, p.p99_ms, p.max_ms
            );
        }
        eprintln!("  churn: {churn_ok} connects answered, {churn_err} failed");
        eprintln!("  client errors: {}", errors.load(Ordering::Relaxed));
        assert_eq!(
            errors.load(Ordering::Relaxed),
            0,
            "clients that could not connect"
        );
        assert!(rss < 200 * 1024, "corsd peak RSS {} MB", rss / 1024);
        // A p99 under 50 ms is the aim. Where the kernel alone needs nearly that much to hand
        // an epoch to ten thousand loopback sockets (here the sending and the receiving side of
        // every connection run on the same cores), the bound is twice that floor: corsd adds at
        // most as much again for reading the source, its own work and this process's probes.
        let bound = 50f64.max(2.0 * floor);
        eprintln!(
            "  kernel floor for {CLIENTS} loopback sends on {cores} threads: {floor:.1} ms ({:.1} µs a send); p99 bound {bound:.0} ms",
            floor * 1e3 * cores as f64 / CLIENTS as f64
        );
        eprintln!(
            "  corsd's p99 over the floor: {}",
            phases
                .iter()
                .map(|p| format!("{:+.0} %", (p.p99_ms / floor - 1.0) * 100.0))
                .collect::<Vec<_>>()
                .join(", ")
        );
        for p in &phases {
            assert!(p.samples >= CLIENTS / 100 * 14, "{} deliveries", p.samples);
            assert!(p.p99_ms < bound, "p99 {:.1} ms", p.p99_ms);
        }
        assert!(
            churn_ok >= 6000 && churn_err == 0,
            "churn {churn_ok} ok, {churn_err} failed"
        );
        assert!(
            phases[2].p99_ms < phases[0].p99_ms * 1.5 + 10.0,
            "stalled clients moved the p99 from {:.1} to {:.1} ms",
            phases[0].p99_ms,
            phases[2].p99_ms
        );
        drop(stalled);
    });
    let _ = std::fs::remove_dir_all(&dir);
}
