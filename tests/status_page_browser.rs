//! The live status page of the demo station, opened in headless Chromium (Debian's package): its
//! script runs without console errors, fills the streams, the sky view and the message
//! inventory from the daemon's own JSON, and the screenshot is a real picture.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::servers::{assert_no_console_errors, chromium, curl, png_size, start_demo, temp_dir};

#[test]
fn demo_status_page_in_headless_chromium() {
    let dir = temp_dir("status-page");
    let (mut child, health, _caster) = start_demo(&dir);
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
    assert_no_console_errors(&[&console, &console2]);
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
    let ((w, h), len) = png_size(&shot);
    assert_eq!((w, h), (1280, 900));
    assert!(len > 20_000, "{} bytes: a blank page?", len);
    let _ = std::fs::remove_dir_all(&dir);
}
