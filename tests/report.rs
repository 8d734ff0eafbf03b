//! `corsd report`: the QC report of dropped-packets-STR24.rtcm3, of the NYA1 day (RINEX) and of a
//! day of the raw archive, each opened in headless Chromium: no console errors, a real
//! screenshot, and every plot with labelled axes and units.

mod common;

use std::path::Path;

use common::data_file;
use common::servers::{assert_no_console_errors, chromium, corsd, png_size, temp_dir};

/// The SVG plots of a report.
fn svgs(html: &str) -> Vec<&str> {
    html.split("<svg")
        .skip(1)
        .map(|s| &s[..s.find("</svg>").expect("closed svg")])
        .collect()
}

/// The text of an SVG's `<text>` elements.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..t.find("</text>")?];
            Some(
                body.trim()
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&"),
            )
        })
        .collect()
}

/// Every plot names both axes with a unit in parentheses: "offset (m)", "elevation (°)", …
fn assert_axes_labelled(html: &str) {
    let plots = svgs(html);
    assert!(plots.len() >= 8, "{} plots", plots.len());
    for (i, svg) in plots.iter().enumerate() {
        let t = texts(svg);
        let with_unit = t
            .iter()
            .filter(|s| {
                let s = s.trim();
                s.contains(" (") && (s.ends_with(')') || s.contains(") →") || s.contains("(°)"))
            })
            .count();
        assert!(
            with_unit >= 2,
            "plot {i} lacks axis labels with units: {t:?}"
        );
    }
}

/// Open the report in Chromium twice (DOM and screenshot) and check both.
fn open_in_chromium(dir: &Path, report: &Path) {
    let url = format!("file://{}", report.display());
    let (dom, console) = chromium(&dir.join("profile-dom"), &["--dump-dom"], &url);
    let shot = dir.join("report.png");
    let (_, console2) = chromium(
        &dir.join("profile-shot"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1200,2400",
        ],
        &url,
    );
    assert_no_console_errors(&[&console, &console2]);
    assert!(
        dom.contains("station QC report"),
        "{}",
        &dom[..dom.len().min(2000)]
    );
    let ((w, h), len) = png_size(&shot);
    assert_eq!((w, h), (1200, 2400));
    assert!(len > 60_000, "{} bytes: a blank page?", len);
}

fn report(args: &[&str], out: &Path) -> String {
    let o = corsd()
        .arg("report")
        .args(args)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    err
}

#[test]
fn str24_report_in_chromium() {
    let dir = temp_dir("report-str24");
    let out = dir.join("str24.html");
    let err = report(
        &[
            data_file("rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3")
                .to_str()
                .unwrap(),
        ],
        &out,
    );
    assert!(err.contains("1311 epochs"), "{err}");
    let html = std::fs::read_to_string(&out).unwrap();
    // Self-contained: no script, no outside asset.
    for bad in ["<script", "src=\"http", "href=\"http", "@import"] {
        assert!(!html.contains(bad), "{bad}");
    }
    for section in [
        "Position offsets",
        "Satellites and DOP",
        "Sky",
        "C/N0 against elevation",
        "Completeness and gaps",
        "Cycle slips",
        "Code multipath",
        "Reflector heights (GNSS-IR)",
        "Latency",
    ] {
        assert!(html.contains(&format!("<h2>{section}</h2>")), "{section}");
    }
    // One sky plot per GNSS, BeiDou's orbit classes told apart (STR24 sees GEO, IGSO and MEO).
    for sky in ["GPS (", "GLONASS (", "Galileo (", "BeiDou (", "QZSS ("] {
        assert!(html.contains(sky), "{sky}");
    }
    let beidou = svgs(&html)
        .into_iter()
        .find(|s| s.contains("BeiDou ("))
        .unwrap();
    let t = texts(beidou);
    for class in ["GEO", "IGSO", "MEO"] {
        assert!(t.iter().any(|x| x == class), "{class}: {t:?}");
    }
    // QZSS by its RINEX number (MSM satellite 1 is PRN 193).
    let qzss = svgs(&html)
        .into_iter()
        .find(|s| s.contains("QZSS ("))
        .unwrap();
    assert!(texts(qzss).iter().any(|x| x == "J01"), "{:?}", texts(qzss));
    assert!(html.contains("1311 of 1311 expected epochs at 1 s"));
    assert_axes_labelled(&html);
    open_in_chromium(&dir, &out);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nya1_day_report_in_chromium() {
    let dir = temp_dir("report-nya1");
    let out = dir.join("nya1.html");
    let base = "rinex/nav-solutions_data/NYA100NOR_S_20241240000_01D";
    let obs = data_file(&format!("{base}_30S_MO.crx.gz"));
    let gn = data_file(&format!("{base}_GN.rnx.gz"));
    let cn = data_file(&format!("{base}_CN.rnx.gz"));
    let err = report(
        &[
            obs.to_str().unwrap(),
            "--nav",
            gn.to_str().unwrap(),
            "--nav",
            cn.to_str().unwrap(),
            "--station-pos",
            "1202433.6131,252632.4074,6237772.7803",
        ],
        &out,
    );
    assert!(err.contains("2880 epochs, 2880 of them solved"), "{err}");
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("time (h of 2024-05-03, GPST)"));
    assert!(html.contains("2880 of 2880 expected epochs at 30 s"));
    assert!(html.contains("the surveyed position (--station-pos)"));
    // A day stays light: binned time series, C/N0 as cells.
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    assert_axes_labelled(&html);
    open_in_chromium(&dir, &out);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A simulated day whose C/N0 carries a ground reflection: the report draws the reflector
/// height against azimuth and against time, and its sector medians give the height back.
#[test]
fn reflector_heights_in_the_report() {
    let dir = temp_dir("report-reflection");
    let file = dir.join("sim.rtcm3");
    let o = corsd()
        .args([
            "simulate",
            "--msm",
            "7",
            "--duration",
            "86400",
            "--interval",
            "30",
            "--systems",
            "GREC",
            "--reflector",
            "2.35",
            "-o",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.join("sim.html");
    report(&[file.to_str().unwrap(), "--date", "2026-03-01"], &out);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.contains("<h2>Reflector heights (GNSS-IR)</h2>"));
    for title in [
        "Reflector height against azimuth",
        "Reflector height against time",
    ] {
        let svg = svgs(&html)
            .into_iter()
            .find(|s| s.contains(title))
            .unwrap_or_else(|| panic!("no plot {title}"));
        // One dot per accepted arc.
        assert!(
            svg.matches("<circle").count() >= 50,
            "{title}: too few arcs"
        );
    }
    let table = &html[html.find("<th>Median RH</th>").expect("the sector table")..];
    let medians: Vec<f64> = table
        .split("<td>")
        .filter_map(|c| c.split_once(" m</td>").and_then(|(v, _)| v.parse().ok()))
        .take(4)
        .collect();
    assert_eq!(medians.len(), 4, "{}", &table[..table.len().min(600)]);
    // The report corrects low elevations for refraction, which the simulator does not bend:
    // that scales the heights up by about 0.7 %.
    for m in medians {
        assert!((m - 2.35).abs() < 0.03, "sector median {m}");
    }
    assert_axes_labelled(&html);
    open_in_chromium(&dir, &out);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--from-archive DAY` reads the daemon's hour files of that day (here one hour of STR24,
/// placed where the daemon's archive puts it) and names the report after station and day.
#[test]
fn report_from_the_archive() {
    let dir = temp_dir("report-archive");
    let day = dir.join("archive/STR2/2018/193");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::copy(
        data_file("rtcm3/swift-nav_gnss-converters/dropped-packets-STR24.rtcm3"),
        day.join("STR2_2018193_23.rtcm3"),
    )
    .unwrap();
    let o = corsd()
        .current_dir(&dir)
        .args([
            "report",
            "--from-archive",
            "2018/193",
            "--archive",
            "archive",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let html = std::fs::read_to_string(dir.join("STR2_2018193_report.html")).unwrap();
    assert!(html.contains("<h1>STR2 — station QC</h1>"));
    assert!(html.contains("STR2_2018193_23.rtcm3"));
    // A day the archive does not have is a clear error.
    let o = corsd()
        .current_dir(&dir)
        .args([
            "report",
            "--from-archive",
            "2018-07-13",
            "--archive",
            "archive",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("no archive for STR2 on 2018-07-13"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
