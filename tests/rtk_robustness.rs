//! `corsd rtk` with a damaged rover: a copy of STR1's recording with frames dropped and bytes
//! corrupted (seeded, so every run damages the same way) in the first half, and a 40 s outage.
//! Whatever the damage, no fixed epoch may be wrong (float instead), and the fix comes back
//! once the stream is whole again.

mod common;

use common::servers::{corsd, temp_dir};
use nalgebra::Vector3;

const STR17: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR17.rtcm3";
const STR24: &str = "rtcm3/swift-nav_gnss-converters/week-rollover-STR24.rtcm3";
const ATX: &str = "antex/tomojitakasu_RTKLIB/igs05.atx";
const STR1: [f64; 3] = [-4467103.2326, 2683039.4771, -3666948.7128];
const STR2: [f64; 3] = [-4467075.2780, 2683011.8519, -3667007.0103];

/// A small deterministic generator (64-bit LCG, Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() as f64) < p * (1u64 << 31) as f64
    }
}

/// The recording with damage in its first half: 5 % of frames dropped, 5 % with a byte
/// changed, 2 % cut short, and every frame of a 40 s stretch gone.
fn damaged(seed: u64) -> Vec<u8> {
    let frames = common::frames(&common::read_data(STR17));
    let n = frames.len();
    let mut rng = Lcg(seed);
    let mut out = Vec::new();
    let outage = (n * 3 / 10)..(n * 3 / 10 + 330);
    for (i, f) in frames.iter().enumerate() {
        if i < n / 2 {
            if outage.contains(&i) || rng.chance(0.05) {
                continue;
            }
            let mut f = f.clone();
            if rng.chance(0.05) {
                let at = rng.next() as usize % f.len();
                f[at] ^= 1 << (rng.next() % 8);
            }
            if rng.chance(0.02) {
                let keep = rng.next() as usize % f.len();
                f.truncate(keep);
            }
            out.extend_from_slice(&f);
        } else {
            out.extend_from_slice(f);
        }
    }
    out
}

#[test]
fn damaged_rover_never_fixes_wrong_and_fixes_again() {
    let dir = temp_dir("rtk-damage");
    for seed in [1u64, 2, 3] {
        let rover = dir.join(format!("str17-damaged-{seed}.rtcm3"));
        std::fs::write(&rover, damaged(seed)).unwrap();
        let pos = dir.join(format!("{seed}.pos"));
        let out = corsd()
            .arg("rtk")
            .arg(&rover)
            .arg("--base")
            .arg(common::data_file(STR24))
            .arg(format!("--base-pos={},{},{}", STR2[0], STR2[1], STR2[2]))
            .arg("--atx")
            .arg(common::data_file(ATX))
            .arg("--pos")
            .arg(&pos)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "seed {seed}: {err}");
        let truth = Vector3::from(STR1);
        let lines: Vec<(Vector3<f64>, bool)> = std::fs::read_to_string(&pos)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('%'))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let p = Vector3::new(
                    f[2].parse().unwrap(),
                    f[3].parse().unwrap(),
                    f[4].parse().unwrap(),
                );
                (p, f[5] == "1")
            })
            .collect();
        assert!(lines.len() > 800, "seed {seed}: {} solutions", lines.len());
        let wrong = lines
            .iter()
            .filter(|(p, fixed)| *fixed && (p - truth).norm() > 0.05)
            .count();
        assert_eq!(wrong, 0, "seed {seed}: wrong fixes\n{err}");
        // The undamaged second half: fixed throughout after at most a few epochs.
        let half = &lines[lines.len() / 2 + 10..];
        let fixed = half.iter().filter(|(_, f)| *f).count();
        assert!(
            fixed as f64 >= 0.99 * half.len() as f64,
            "seed {seed}: {fixed} of {} fixed after the damage\n{err}",
            half.len()
        );
        eprintln!("seed {seed}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `corsd rtk` reads its recordings epoch by epoch after a first look at the whole file: the
/// epochs, ephemerides, notes and refusals are those of reading the file whole, for every RTCM3
/// recording of the data set and the damaged copy.
#[test]
fn streamed_epochs_are_those_of_the_whole_read() {
    use corsd::commands::rtk::input;
    use corsd::gnss::Gnss;
    let dir = temp_dir("rtk-stream");
    let damaged_path = dir.join("str17-damaged.rtcm3");
    std::fs::write(&damaged_path, damaged(1)).unwrap();
    let keep = [Gnss::Gps, Gnss::Galileo, Gnss::Beidou];
    let mut paths: Vec<_> = common::RTCM_FILES
        .iter()
        .map(|f| common::data_file(f))
        .collect();
    paths.push(damaged_path);
    let mut streamed_files = 0;
    for path in &paths {
        for systems in [None, Some(&keep[..])] {
            let name = path.display();
            let opened = input::open(path, None, systems);
            let whole = input::read_of(path, None, systems);
            let (opened, whole) = match (opened, whole) {
                (Ok(o), Ok(w)) => (o, w),
                (Err(a), Err(b)) => {
                    assert_eq!(a.to_string(), b.to_string(), "{name}");
                    continue;
                }
                (a, b) => panic!("{name}: {:?} against {:?}", a.err(), b.err()),
            };
            let input::Opened {
                recording,
                mut epochs,
            } = opened;
            assert_eq!(epochs.len, whole.epochs.len(), "{name}");
            assert_eq!(epochs.first, whole.epochs[0].time, "{name}");
            assert_eq!(
                epochs.last,
                whole.epochs[whole.epochs.len() - 1].time,
                "{name}"
            );
            let mut streamed = Vec::new();
            while let Some(e) = epochs.next_epoch().unwrap() {
                streamed.push(e);
            }
            assert!(streamed == whole.epochs, "{name}");
            assert_eq!(recording.notes, whole.notes, "{name}");
            assert_eq!(recording.antenna, whole.antenna, "{name}");
            assert_eq!(recording.arp, whole.arp, "{name}");
            let eph =
                |s: &corsd::gnss::nav::EphemerisStore| format!("{:?}", s.all().collect::<Vec<_>>());
            assert_eq!(eph(&recording.store), eph(&whole.store), "{name}");
            streamed_files += 1;
        }
    }
    assert!(streamed_files >= 6, "{streamed_files} recordings compared");
}
