//! The README's claims that a newcomer acts on (issue 19, item 6): the two first commands, every
//! `corsd` subcommand it shows, the worked examples' configurations, the layout section against
//! `src/lib.rs`, and an introduction that says what exists.

mod common;

use std::path::Path;

use common::servers::{corsd, temp_dir};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

/// The fenced code blocks: (language, body).
fn blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(lang)) => open = Some((lang.trim().to_string(), String::new())),
            (Some(_), Some(_)) => out.extend(open.take()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

/// The subcommands `corsd --help` lists.
fn subcommands() -> Vec<String> {
    let out = corsd().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn the_two_newcomer_commands_come_first() {
    let b = blocks(&readme());
    assert_eq!(b[0], ("sh".into(), "cargo run --release -- run\n".into()));
    assert_eq!(b[1], ("sh".into(), "scripts/test.sh\n".into()));
}

#[test]
fn every_corsd_command_shown_exists() {
    let known = subcommands();
    assert!(known.iter().any(|c| c == "run"), "{known:?}");
    let text = readme();
    let mut shown = Vec::new();
    // In code blocks (`$ corsd …` or a line starting with `corsd …`) and in inline code.
    for (_, body) in blocks(&text) {
        for l in body.lines() {
            let l = l.trim_start().trim_start_matches("$ ");
            if let Some(rest) = l.strip_prefix("corsd ") {
                shown.extend(rest.split_whitespace().next().map(str::to_string));
            }
        }
    }
    for part in text.split("`corsd ").skip(1) {
        shown.extend(part.split([' ', '`']).next().map(str::to_string));
    }
    shown.retain(|w| !w.starts_with('-') && !w.starts_with('<') && !w.ends_with(':'));
    shown.sort();
    shown.dedup();
    assert!(shown.len() >= 5, "{shown:?}");
    for c in &shown {
        assert!(
            known.contains(c),
            "the README shows `corsd {c}`, which `corsd --help` does not list: {known:?}"
        );
        let out = corsd().args([c, "--help"]).output().unwrap();
        assert!(out.status.success(), "corsd {c} --help");
    }
}

#[test]
fn worked_example_configurations_are_valid() {
    let data = common::data_dir();
    let mut checked = 0;
    for (lang, body) in blocks(&readme()) {
        if lang != "toml" || !body.contains("[station]") || !body.contains("[[source]]") {
            continue;
        }
        let dir = temp_dir(&format!("readme-config-{checked}"));
        std::fs::write(dir.join("push.pass"), "secret\n").unwrap();
        let text = body
            .replace("../shared/data", &data.display().to_string())
            .replace("/tmp/rx/", &format!("{}/", dir.display()));
        let cfg = dir.join("corsd.toml");
        std::fs::write(&cfg, &text).unwrap();
        let out = corsd()
            .args(["check-config", "-c"])
            .arg(&cfg)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}\n{text}",
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 2, "the station and correction-feed examples");
}

#[test]
fn the_layout_section_names_every_module_of_lib_rs() {
    let lib =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let text = readme();
    let layout = text
        .split("## Layout")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Layout section");
    for m in lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
    {
        assert!(
            layout.contains(&format!("{m}/")) || layout.contains(&format!("{m}.rs")),
            "the README's layout does not show {m}"
        );
        assert!(
            lib.contains(&format!("[`{m}`]")),
            "lib.rs's map does not list {m}"
        );
    }
}

#[test]
fn the_introduction_says_what_exists() {
    let text = readme();
    let intro = text.split("\n## ").next().unwrap();
    assert!(!text.contains("next part being built"));
    for what in [
        "push",
        "serial radio",
        "caster",
        "/healthz",
        "replay",
        "report",
    ] {
        assert!(
            intro.contains(what),
            "the introduction does not mention {what}"
        );
    }
    for section in [
        "### A station daemon",
        "### Replay and backfill",
        "### A correction feed",
        "### A QC report",
        "## Layout",
    ] {
        assert!(text.contains(section), "{section}");
    }
}
