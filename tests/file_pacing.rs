//! A recording read at `speed = 1` by `corsd run -c` is released epoch by epoch, each epoch's
//! frames together when its data time is due, from the first second on: a caster client sees
//! one epoch a second, and RTKLIB `str2str` pulling the mountpoint gets frames at once. Paced per
//! read (16 KiB), STR24 came as 17 epochs every 17 s and `str2str` got nothing in 15 s.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::servers::{Daemon, free_port, run_daemon, str2str_read, temp_dir};
use corsd::gnss::Gnss;
use corsd::messages::rtcm3::{self, Message};

const STR24: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR24.rtcm3";

fn start(dir: &std::path::Path, port: u16) -> Daemon {
    let config = format!(
        r#"data_dir = "{d}"
[station]
name = "STR2"
position = {{ x = -4467075.2780, y = 2683011.8519, z = -3667007.0103 }}
[[source]]
kind = "file"
name = "rx"
path = "{file}"
speed = 1.0
loop = true
[health]
listen = "127.0.0.1:{health}"
[[caster]]
listen = "127.0.0.1:{port}"
[[caster.mount]]
name = "ALL"
# The recording's own frames, 1006 included, byte for byte.
coordinates = "receiver"
"#,
        d = dir.display(),
        file = common::data_file(STR24).display(),
        health = free_port(),
    );
    run_daemon(dir, &config, port)
}

/// When (after the request) each GPS epoch's first frame arrived, with the epoch's time of week.
fn epoch_arrivals(port: u16, for_how_long: Duration) -> Vec<(Duration, u32)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let t0 = Instant::now();
    s.write_all(b"GET /ALL HTTP/1.0\r\nUser-Agent: NTRIP test\r\n\r\n")
        .unwrap();
    let mut framer = corsd::framing::Framer::new();
    let mut header = Vec::new();
    let mut arrivals: Vec<(Duration, u32)> = Vec::new();
    let mut buf = [0u8; 4096];
    while t0.elapsed() < for_how_long {
        let n = match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(e) => panic!("reading the mountpoint: {e}"),
        };
        let at = t0.elapsed();
        let mut data = &buf[..n];
        if header.len() < 12 {
            let take = (12 - header.len()).min(data.len());
            header.extend_from_slice(&data[..take]);
            data = &data[take..];
            if header.len() == 12 {
                assert_eq!(header, b"ICY 200 OK\r\n");
            }
        }
        framer.push(data);
        while let Some(f) = framer.next_frame() {
            if let Ok(Message::Msm(m)) = rtcm3::decode(f.payload())
                && m.system == Gnss::Gps
                && let Some(tow) = m.tow_ms()
                && arrivals.last().is_none_or(|(_, t)| *t != tow)
            {
                arrivals.push((at, tow));
            }
        }
    }
    arrivals
}

#[test]
fn a_caster_client_sees_one_epoch_a_second_from_the_first_second() {
    let dir = temp_dir("pace-epochs");
    let port = free_port();
    let _daemon = start(&dir, port);
    let arrivals = epoch_arrivals(port, Duration::from_secs(12));
    assert!(
        arrivals.len() >= 10,
        "{} epochs in 12 s: {arrivals:?}",
        arrivals.len()
    );
    let first = arrivals[0].0;
    assert!(
        first <= Duration::from_millis(1100),
        "first epoch {first:?} after the request"
    );
    // Each epoch when due: the spacing in wall time is the spacing in data time (1 s here).
    let gaps: Vec<f64> = arrivals
        .windows(2)
        .map(|w| {
            let wall = (w[1].0 - w[0].0).as_secs_f64();
            let data = (w[1].1 as f64 - w[0].1 as f64) / 1000.0;
            wall - data
        })
        .collect();
    let worst = gaps.iter().fold(0.0f64, |a, g| a.max(g.abs()));
    let spacing: Vec<f64> = arrivals
        .windows(2)
        .map(|w| (w[1].0 - w[0].0).as_secs_f64())
        .collect();
    let mean = spacing.iter().sum::<f64>() / spacing.len() as f64;
    let sd =
        (spacing.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / spacing.len() as f64).sqrt();
    eprintln!(
        "{} epochs, first after {first:?}, spacing mean {mean:.4} s, sd {:.1} ms, min {:.4} s, max {:.4} s, worst deviation {:.1} ms",
        arrivals.len(),
        sd * 1e3,
        spacing.iter().cloned().fold(f64::MAX, f64::min),
        spacing.iter().cloned().fold(0.0, f64::max),
        worst * 1e3
    );
    assert!(
        worst <= 0.1,
        "an epoch came {:.0} ms off its second: {spacing:?}",
        worst * 1e3
    );
}

#[test]
fn str2str_gets_frames_from_the_first_seconds() {
    let dir = temp_dir("pace-str2str");
    let port = free_port();
    let _daemon = start(&dir, port);
    let out = dir.join("got.rtcm3");
    let mut client = str2str_read(port, "ALL", &out);
    std::thread::sleep(Duration::from_secs(15));
    let _ = client.kill();
    let _ = client.wait();
    let got = std::fs::read(&out).unwrap_or_default();
    let (frames, _) = corsd::framing::frames(&got);
    eprintln!(
        "str2str wrote {} frames ({} bytes) in 15 s",
        frames.len(),
        got.len()
    );
    assert!(
        frames.len() >= 40,
        "str2str wrote {} frames in 15 s",
        frames.len()
    );
    // What it wrote is whole frames of the recording, in order.
    common::assert_run_of_recording(&got, STR24, "str2str on ALL");
}
