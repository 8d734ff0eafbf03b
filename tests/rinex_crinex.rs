//! Hatanaka-compressed (CRINEX 3.0) and gzipped RINEX: corsd's expansion against the `hatanaka`
//! package's CRX2RNX on the two full-day IGS files, and the gzipped navigation files read through
//! the same path.
//!
//! The comparison is byte for byte, without any normalisation: CRX2RNX drops trailing blanks on
//! every line it builds and so does corsd.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use corsd::gnss::Gnss;
use corsd::rinex::{RinexError, read_nav, read_obs, read_obs_file, read_obs_of, read_text};

const NYA1_OBS: &str = "rinex/nav-solutions_data/NYA100NOR_S_20241240000_01D_30S_MO.crx.gz";
const ESBC_OBS: &str = "rinex/nav-solutions_data/ESBC00DNK_R_20201770000_01D_30S_MO.crx.gz";

/// The file expanded by the `hatanaka` package (gunzip + its CRX2RNX) in the test venv.
fn hatanaka_decompress(path: &Path) -> Vec<u8> {
    let script = "import sys, hatanaka\n\
                  data = open(sys.argv[1], 'rb').read()\n\
                  sys.stdout.buffer.write(hatanaka.decompress(data))\n";
    let out = std::process::Command::new(common::venv_python())
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("run the venv python");
    assert!(
        out.status.success(),
        "hatanaka failed (is it in .venv? run scripts/test.sh --install): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// corsd's text and the reference, equal byte for byte; on a difference, the first differing line.
fn assert_same(name: &str, ours: &str, reference: &[u8]) {
    if ours.as_bytes() == reference {
        return;
    }
    let reference = String::from_utf8_lossy(reference);
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), reference.lines().collect());
    let k = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    panic!(
        "{name}: expansion differs from CRX2RNX at line {} (ours {} lines, {} bytes; CRX2RNX {} lines, {} bytes)\n ours: {:?}\n crx2rnx: {:?}",
        k + 1,
        a.len(),
        ours.len(),
        b.len(),
        reference.len(),
        a.get(k),
        b.get(k)
    );
}

fn expand_and_compare(rel: &str) -> String {
    let path = common::data_file(rel);
    let t = Instant::now();
    let ours = read_text(&path).expect("corsd reads the CRINEX file");
    let ms = t.elapsed().as_secs_f64() * 1e3;
    eprintln!(
        "{rel}: gunzip + CRINEX expansion {ms:.0} ms ({} MB of RINEX)",
        ours.len() / 1_000_000
    );
    assert_same(rel, &ours, &hatanaka_decompress(&path));
    ours
}

/// The epochs decoded straight from the compact file equal those read from its expansion, for
/// all systems and for subsets (the other systems' lines passed over).
fn direct_reading_matches_expansion(rel: &str, text: &str) {
    let path = common::data_file(rel);
    let subsets: [Option<&[Gnss]>; 3] = [
        None,
        Some(&[Gnss::Gps]),
        Some(&[Gnss::Galileo, Gnss::Beidou]),
    ];
    for systems in subsets {
        let (want, approx) = read_obs_of(text, systems).expect("read_obs_of");
        let t = Instant::now();
        let got = read_obs_file(&path, systems).expect("read_obs_file");
        let ms = t.elapsed().as_secs_f64() * 1e3;
        eprintln!("{rel} {systems:?}: gunzip + CRINEX decoding into epochs {ms:.0} ms");
        assert_eq!(got.approx, approx);
        assert_eq!(got.epochs.len(), want.len());
        for (g, w) in got.epochs.iter().zip(&want) {
            assert_eq!(g, w, "{rel} {systems:?}: epoch {:?}", w.time);
        }
        let header_end = text.find("END OF HEADER").expect("header") + "END OF HEADER".len();
        assert_eq!(got.header.trim_end(), text[..header_end].trim_end());
    }
}

#[test]
fn nya1_crinex_matches_crx2rnx_and_reads_2880_epochs() {
    let text = expand_and_compare(NYA1_OBS);
    direct_reading_matches_expansion(NYA1_OBS, &text);
    let (epochs, approx) = read_obs(&text).expect("read_obs");
    assert_eq!(epochs.len(), 2880);
    let approx = approx.expect("APPROX POSITION XYZ");
    assert!((approx[0] - 1202434.1303).abs() < 1e-3);
    // BDS 18 satellites observed over the day (MANIFEST).
    let bds: BTreeSet<u8> = epochs
        .iter()
        .flat_map(|e| &e.sats)
        .filter(|s| s.sys == Gnss::Beidou)
        .map(|s| s.prn)
        .collect();
    assert_eq!(bds.len(), 18, "{bds:?}");
}

#[test]
fn esbc_crinex_matches_crx2rnx_and_reads_2880_epochs() {
    let text = expand_and_compare(ESBC_OBS);
    direct_reading_matches_expansion(ESBC_OBS, &text);
    let (epochs, _) = read_obs(&text).expect("read_obs");
    assert_eq!(epochs.len(), 2880);
    let bds: BTreeSet<u8> = epochs
        .iter()
        .flat_map(|e| &e.sats)
        .filter(|s| s.sys == Gnss::Beidou)
        .map(|s| s.prn)
        .collect();
    assert_eq!(bds.len(), 29, "{bds:?}");
}

/// Records and satellites per system of a gzipped navigation file.
fn nav_counts(rel: &str) -> (Vec<(Gnss, usize, usize)>, usize) {
    let text = read_text(&common::data_file(rel)).expect("gzipped nav");
    let (ephs, skipped) = read_nav(&text).expect("read_nav");
    let systems: BTreeSet<Gnss> = ephs.iter().map(|e| e.sys).collect();
    let counts = systems
        .into_iter()
        .map(|g| {
            let recs = ephs.iter().filter(|e| e.sys == g);
            let svs: BTreeSet<u8> = recs.clone().map(|e| e.prn).collect();
            (g, recs.count(), svs.len())
        })
        .collect();
    (counts, skipped)
}

#[test]
fn gzipped_navigation_files_record_counts() {
    let dir = "rinex/nav-solutions_data/";
    let cn = nav_counts(&format!("{dir}NYA100NOR_S_20241240000_01D_CN.rnx.gz"));
    assert_eq!(cn, (vec![(Gnss::Beidou, 194, 18)], 0));
    let gn = nav_counts(&format!("{dir}NYA100NOR_S_20241240000_01D_GN.rnx.gz"));
    assert_eq!(gn, (vec![(Gnss::Gps, 215, 31)], 0));
    let en = nav_counts(&format!("{dir}NYA100NOR_S_20241240000_01D_EN.rnx.gz"));
    assert_eq!(en, (vec![(Gnss::Galileo, 711, 23)], 0));
    // ESBC mixed: C 357 / 29 SVs, E 1602, G 257, J 15; R 510 and S 2130 are not read yet.
    let (mn, skipped) = nav_counts(&format!("{dir}ESBC00DNK_R_20201770000_01D_MN.rnx.gz"));
    let recs: Vec<(Gnss, usize)> = mn.iter().map(|&(g, r, _)| (g, r)).collect();
    assert_eq!(
        recs,
        [
            (Gnss::Gps, 257),
            (Gnss::Galileo, 1602),
            (Gnss::Qzss, 15),
            (Gnss::Beidou, 357)
        ]
    );
    assert_eq!(
        mn.iter().find(|m| m.0 == Gnss::Beidou).map(|m| m.2),
        Some(29)
    );
    assert_eq!(skipped, 510 + 2130);
}

#[test]
fn file_errors_name_the_path_or_line() {
    let missing = Path::new("/nonexistent/dir/X.crx.gz");
    match read_text(missing) {
        Err(RinexError::Io { path, .. }) => assert!(path.contains("X.crx.gz")),
        other => panic!("{other:?}"),
    }
    // A gzip stream cut in half.
    let data = common::read_data(NYA1_OBS);
    let cut = corsd::rinex::decode_bytes(&data[..data.len() / 2]);
    assert!(matches!(cut, Err(RinexError::Io { .. })), "{cut:?}");
    // The CRINEX text cut inside an epoch: a line error, not a panic.
    let full = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::GzDecoder::new(&data[..])
            .read_to_string(&mut s)
            .expect("gunzip");
        s
    };
    // After the first epoch line, its clock line and two of its satellites.
    let mut cut_at = full.find("\n>").expect("an epoch line");
    for _ in 0..4 {
        cut_at += 1 + full[cut_at + 1..].find('\n').expect("a line end");
    }
    match corsd::rinex::crinex::expand(&full[..cut_at]) {
        Err(RinexError::Line { line, what }) => {
            assert!(line > 40, "{line}: {what}");
        }
        other => panic!("{:?}", other.map(|s| s.len())),
    }
}
