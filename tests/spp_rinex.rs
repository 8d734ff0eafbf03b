//! Single point positioning from RINEX 3 observation and navigation files.

mod common;

use corsd::gnss::Gnss;
use corsd::gnss::nav::EphemerisStore;
use corsd::gnss::rinex::{read_nav, read_obs};
use corsd::gnss::spp::{SppOptions, solve};
use nalgebra::Vector3;

/// CUT0 from BNC's APRIORI.CRD (ITRF2008).
const CUT0: [f64; 3] = [-2364337.4408, 4870285.6055, -3360809.6280];

fn rms(systems: &[Gnss], mask_deg: f64) -> (usize, usize, f64) {
    let nav =
        String::from_utf8_lossy(&common::read_data("rinex/bnc_example/BRDC194M.15P")).into_owned();
    let obs =
        String::from_utf8_lossy(&common::read_data("rinex/bnc_example/CUT0194M.15O")).into_owned();
    let (ephs, _) = read_nav(&nav).expect("nav");
    let mut store = EphemerisStore::new();
    for e in ephs {
        store.insert(e);
    }
    let (epochs, approx) = read_obs(&obs).expect("obs");
    let opt = SppOptions {
        systems: systems.to_vec(),
        mask: mask_deg.to_radians(),
        ..Default::default()
    };
    let truth = Vector3::from(CUT0);
    let (mut n, mut sum2) = (0, 0.0);
    let mut smoother = corsd::gnss::spp::CarrierSmoother::new(100);
    for e in &epochs {
        let mut e = e.clone();
        smoother.apply(&mut e);
        if let Some(s) = solve(&e, &store, &opt, approx.map(Vector3::from)) {
            n += 1;
            sum2 += (Vector3::from(s.position) - truth).norm_squared();
        }
    }
    (epochs.len(), n, (sum2 / n.max(1) as f64).sqrt())
}

/// The engine issue's bars for CUT0 are 1.2 m (GPS+BDS) and 1.6 m (BDS only); this is what
/// the reader + engine reach today on these 36 epochs at 10 s (little room for carrier
/// smoothing), kept as a regression bound while the gap is worked on.
const CUT0_GC_NOW_M: f64 = 4.0;
const CUT0_C_NOW_M: f64 = 7.0;

#[test]
fn cut0_gps_beidou_and_beidou_only() {
    let gc = rms(&[Gnss::Gps, Gnss::Beidou], 10.0);
    let c = rms(&[Gnss::Beidou], 10.0);
    eprintln!(
        "CUT0: GPS+BDS {}/{} {:.2} m; BDS {}/{} {:.2} m",
        gc.1, gc.0, gc.2, c.1, c.0, c.2
    );
    assert_eq!((gc.0, gc.1, c.1), (36, 36, 36));
    assert!(gc.2 <= CUT0_GC_NOW_M, "{}", gc.2);
    assert!(c.2 <= CUT0_C_NOW_M, "{}", c.2);
}

/// Record counts of the mixed navigation file (MANIFEST: C 13, G 31, E 16, J 5, R 50, S 180)
/// and the observation file's 36 epochs with 10 BeiDou satellites (C01–C05 GEO, C06–C10 IGSO).
#[test]
fn cut0_files_read_completely() {
    let nav =
        String::from_utf8_lossy(&common::read_data("rinex/bnc_example/BRDC194M.15P")).into_owned();
    let (ephs, skipped) = read_nav(&nav).expect("nav");
    let count = |g| ephs.iter().filter(|e| e.sys == g).count();
    assert_eq!(
        (
            count(Gnss::Beidou),
            count(Gnss::Gps),
            count(Gnss::Galileo),
            count(Gnss::Qzss)
        ),
        (13, 31, 16, 5)
    );
    assert_eq!(skipped, 50 + 180);
    let obs =
        String::from_utf8_lossy(&common::read_data("rinex/bnc_example/CUT0194M.15O")).into_owned();
    let (epochs, approx) = read_obs(&obs).expect("obs");
    assert_eq!(epochs.len(), 36);
    let bds: Vec<u8> = epochs[0]
        .sats
        .iter()
        .filter(|s| s.sys == Gnss::Beidou)
        .map(|s| s.prn)
        .collect();
    assert_eq!(bds, (1..=10).collect::<Vec<u8>>());
    assert!(approx.is_some());
    assert!(read_nav("garbage").is_err() && read_obs("garbage").is_err());
}
