//! The simulator's faults — epochs left out, cycle slips, corrupted bytes — are each found by the
//! station pipeline, exactly as many as were made, and the rest of the stream is untouched.

use std::process::Command;

use corsd::gnss::qc::Qc;
use corsd::station::pipeline::{Output, Pipeline, PipelineConfig};

/// `corsd simulate` with fault options; returns the stream and the counts it says it made
/// (epochs left out, slips, corrupted frames) and the frames it wrote.
fn simulate(name: &str, faults: &[&str]) -> (Vec<u8>, [u64; 3], u64) {
    let file = std::env::temp_dir().join(format!("corsd-faults-{name}-{}", std::process::id()));
    let out = Command::new(env!("CARGO_BIN_EXE_corsd"))
        .args(["simulate", "--duration", "600", "--seed", "11", "--noise"])
        .args(faults)
        .arg("-o")
        .arg(&file)
        .output()
        .expect("run corsd simulate");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    let frames: u64 = err
        .split(" frames,")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{err}"));
    let mut counts = [0u64; 3];
    if let Some(l) = err.lines().find(|l| l.contains("faults:")) {
        let nums: Vec<u64> = l
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|w| w.parse().ok())
            .collect();
        counts.copy_from_slice(&nums[..3]);
    }
    let data = std::fs::read(&file).expect("simulated stream");
    let _ = std::fs::remove_file(&file);
    (data, counts, frames)
}

struct Seen {
    qc: Qc,
    /// Satellite-epochs with a loss of lock on any phase.
    slipped_sat_epochs: u64,
    frames: u64,
    crc_errors: u64,
    solutions: u64,
}

fn pipeline(data: &[u8]) -> Seen {
    let mut p = Pipeline::new(PipelineConfig {
        reference: Some(corsd::gnss::time::Gpst::from_date(
            chrono::NaiveDate::from_ymd_opt(2026, 3, 1).expect("a date"),
        )),
        ..Default::default()
    });
    let mut out = Output::default();
    // In uneven pieces, as a link delivers them.
    for chunk in data.chunks(1237) {
        p.push(chunk, &mut out);
    }
    p.finish(&mut out);
    let mut qc = Qc::new();
    let mut slipped = 0;
    for e in &out.epochs {
        qc.add(e);
        slipped += e
            .sats
            .iter()
            .filter(|s| s.signals.iter().any(|g| g.slip))
            .count() as u64;
    }
    let fs = p.framer_stats();
    Seen {
        qc,
        slipped_sat_epochs: slipped,
        frames: fs.rtcm3_frames,
        crc_errors: fs.rtcm3_crc_errors,
        solutions: out.solutions.len() as u64,
    }
}

#[test]
fn every_gap_is_found_and_counted() {
    let (data, [gaps, _, _], _) = simulate("gaps", &["--gaps", "0.03"]);
    assert!(gaps > 5, "{gaps} gaps made");
    let s = pipeline(&data);
    let missing: u64 = s.qc.gaps().iter().map(|g| g.missing).sum();
    eprintln!(
        "{gaps} epochs left out; {} of {} expected received, {} gaps found",
        s.qc.epochs,
        s.qc.expected(),
        s.qc.gaps().len()
    );
    // A gap at the very start or end is not visible as a gap; the seed has none there.
    assert_eq!(s.qc.expected(), 600);
    assert_eq!(missing, gaps);
    assert_eq!(s.qc.epochs, 600 - gaps);
    assert_eq!(s.slipped_sat_epochs, 0, "a gap is not a slip");
}

#[test]
fn every_cycle_slip_is_flagged() {
    let (data, [_, slips, _], _) = simulate("slips", &["--slips", "0.002"]);
    assert!(slips > 10, "{slips} slips made");
    let s = pipeline(&data);
    eprintln!(
        "{slips} slips made, {} satellite-epochs flagged",
        s.slipped_sat_epochs
    );
    assert_eq!(s.slipped_sat_epochs, slips);
    assert_eq!(s.qc.epochs, 600);
}

#[test]
fn corrupted_frames_are_dropped_alone() {
    let (clean, _, frames) = simulate("clean", &[]);
    let (data, [_, _, corrupted], frames_bad) = simulate("corrupt", &["--corrupt", "0.02"]);
    assert_eq!(frames, frames_bad);
    assert!(corrupted > 50, "{corrupted} frames corrupted");
    let (a, b) = (pipeline(&clean), pipeline(&data));
    eprintln!(
        "{corrupted} of {frames} frames corrupted: {} frames good, {} CRC errors; {} vs {} solutions",
        b.frames, b.crc_errors, b.solutions, a.solutions
    );
    assert_eq!((a.frames, a.crc_errors), (frames, 0));
    // Every other frame is recovered, whatever the flipped bit hit (the length field too).
    assert_eq!(b.frames, frames - corrupted);
    assert!(b.crc_errors >= corrupted);
    // The epochs whose observation frames survived still solve.
    assert!(b.solutions as f64 > 0.7 * a.solutions as f64);
}

#[test]
fn all_faults_together_do_not_stop_the_stream() {
    let (data, [gaps, slips, corrupted], _) = simulate(
        "all",
        &["--gaps", "0.02", "--slips", "0.002", "--corrupt", "0.01"],
    );
    let s = pipeline(&data);
    eprintln!(
        "{gaps} gaps, {slips} slips, {corrupted} corrupted: {} epochs, {} solutions, {} CRC errors",
        s.qc.epochs, s.solutions, s.crc_errors
    );
    assert!(s.qc.epochs >= 600 - gaps - corrupted);
    assert!(s.crc_errors >= corrupted);
    assert!(s.solutions > 500);
}
