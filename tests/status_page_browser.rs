//! The live status page of the demo station, opened in headless Chromium (Debian's package): its
//! script runs without console errors, fills the streams, the sky view and the message
//! inventory from the daemon's own JSON, and the screenshot is a real picture.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::servers::{corsd, curl, free_port, require, temp_dir};

/// Chromium with DESIGN §6's flags, a fresh profile, and the page's console on stderr.
fn chromium(profile: &std::path::Path, args: &[&str], url: &str) -> (String, String) {
    let out = Command::new(require("chromium", "chromium"))
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
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("run chromium");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn demo_status_page_in_headless_chromium() {
    let dir = temp_dir("status-page");
    let health = format!("127.0.0.1:{}", free_port());
    let caster = format!("127.0.0.1:{}", free_port());
    let mut child = corsd()
        .args(["run", "--demo-dir"])
        .arg(&dir)
        .args(["--health", &health, "--caster", &caster])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("log")).unwrap())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    loop {
        let (_, body) = curl(&[&format!("http://{health}/status.json")]);
        if body.contains("\"sat\"") {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "no solution yet: {body}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let url = format!("http://{health}/");
    let (dom, console) = chromium(&dir.join("profile-dom"), &["--dump-dom"], &url);
    let shot = dir.join("status.png");
    let (_, console2) = chromium(
        &dir.join("profile-shot"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,900",
        ],
        &url,
    );
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    for c in [&console, &console2] {
        let errors: Vec<&str> = c
            .lines()
            .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
            .collect();
        assert!(errors.is_empty(), "console: {errors:#?}");
    }
    // The script ran: the tables and the sky view are filled from the daemon's JSON.
    assert!(dom.contains("corsd station VTE1"), "{dom}");
    assert!(
        dom.contains("updated ") && dom.contains("every 2 s"),
        "{dom}"
    );
    assert!(dom.contains("<td class=\"ok\">streaming</td>"), "{dom}");
    assert!(
        dom.matches("<circle").count() > 8,
        "satellites in the sky view: {dom}"
    );
    assert!(dom.contains("NTRIP caster clients"), "{dom}");
    // A real picture: a PNG of the window's size with more than a few colours' worth of bytes.
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (1280, 900));
    assert!(png.len() > 20_000, "{} bytes: a blank page?", png.len());
    let _ = std::fs::remove_dir_all(&dir);
}
