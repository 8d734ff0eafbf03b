//! ANTEX on the real IGS files in the shared data: igs05.atx (RTKLIB's copy, receiver antennas
//! of the test stations, satellites up to 2011) and a trimmed igs14.atx (gzip). Every expected
//! number below is read off the file's own lines (quoted beside it), so the test checks the
//! parser, the frequency fallback and the geometry, not our output pasted back.

mod common;

use corsd::gnss::Gnss;
use corsd::gnss::antex::{Antex, AntexError, nadir_angle, yaw_steering_axes};
use corsd::gnss::time::Gpst;
use corsd::rinex::read_text;
use nalgebra::Vector3;

/// Centimetre-level corrections read to a hundredth of a millimetre.
const TOL_M: f64 = 1e-8;

fn igs05() -> Antex {
    let text = read_text(&common::data_file("antex/tomojitakasu_RTKLIB/igs05.atx"))
        .unwrap_or_else(|e| panic!("igs05.atx: {e}"));
    Antex::parse(&text).unwrap_or_else(|e| panic!("igs05.atx: {e}"))
}

fn igs14_small() -> Antex {
    let text = read_text(&common::data_file(
        "antex/nav-solutions_data/igs14_small.atx.gz",
    ))
    .unwrap_or_else(|e| panic!("igs14_small.atx.gz: {e}"));
    Antex::parse(&text).unwrap_or_else(|e| panic!("igs14_small.atx.gz: {e}"))
}

/// A unit line of sight in east/north/up from elevation and azimuth (deg).
fn los(el_deg: f64, az_deg: f64) -> Vector3<f64> {
    let (el, az) = (el_deg.to_radians(), az_deg.to_radians());
    Vector3::new(el.cos() * az.sin(), el.cos() * az.cos(), el.sin())
}

fn gps_date(y: i32, m: u32, d: u32) -> Gpst {
    Gpst::from_date(chrono::NaiveDate::from_ymd_opt(y, m, d).expect("valid date"))
}

#[test]
fn igs05_counts_and_release_week() {
    let atx = igs05();
    // `grep -c "START OF ANTENNA"` gives 323 entries; the file's satellites carry serials
    // G01…, R01…
    assert_eq!(atx.receivers.len() + atx.satellites.len(), 323);
    assert!(atx.satellites.len() > 100, "{}", atx.satellites.len());
    assert!(atx.warnings.is_empty(), "{:?}", atx.warnings);
    // SINEX CODE `IGS05_1627`.
    assert_eq!(atx.file_week, Some(1627));
}

#[test]
fn ash701945c_m_none() {
    let atx = igs05();
    let a = atx.receiver("ASH701945C_M", "NONE").expect("in igs05");
    assert_eq!(a.dazi, 5.0);
    // G01: `0.60 -0.46 91.24  NORTH / EAST / UP`, PCV 0.00 at zenith.
    let c = a
        .receiver_correction(Gnss::Gps, 1, &los(90.0, 0.0))
        .unwrap();
    assert!((c.metres - -0.09124).abs() < TOL_M, "{}", c.metres);
    assert!(!c.freq.is_fallback());
    // Elevation 30° (zenith 60°, the 13th value), azimuth 90°: the `90.0` row gives -5.90 mm;
    // PCO·e = −0.46·cos 30° + 91.24·sin 30°. RTKLIB 2.4.3 reads only the NOAZI row (−6.27 at
    // zenith 60°); the azimuth grid is the calibration's full content.
    let c = a
        .receiver_correction(Gnss::Gps, 1, &los(30.0, 90.0))
        .unwrap();
    let pco = -0.46 * 30f64.to_radians().cos() + 91.24 * 0.5;
    assert!(
        (c.metres - (-pco - 5.90) * 1e-3).abs() < TOL_M,
        "{}",
        c.metres
    );
    // G02 `-0.10 -0.62 120.06`, row `0.0` at zenith 60°: -4.05.
    let c = a
        .receiver_correction(Gnss::Gps, 2, &los(30.0, 0.0))
        .unwrap();
    let pco = -0.10 * 30f64.to_radians().cos() + 120.06 * 0.5;
    assert!(
        (c.metres - (-pco - 4.05) * 1e-3).abs() < TOL_M,
        "{}",
        c.metres
    );
    // Bilinear: azimuth 357.5° between rows `355.0` and `360.0`, zenith 62.5° between the 60°
    // and 65° columns: G01 values -6.53, -4.81 and -6.51, -4.78.
    let e = los(27.5, 357.5);
    let c = a.receiver_correction(Gnss::Gps, 1, &e).unwrap();
    let pcv = ((-6.53 + -4.81) / 2.0 + (-6.51 + -4.78) / 2.0) / 2.0;
    let pco = Vector3::new(-0.46, 0.60, 91.24).dot(&e);
    assert!(
        (c.metres - (-pco + pcv) * 1e-3).abs() < TOL_M,
        "{}",
        c.metres
    );
}

#[test]
fn leiar25_r3_none() {
    let atx = igs05();
    let a = atx
        .receiver_by_descriptor("LEIAR25.R3      NONE")
        .expect("in igs05");
    // G01 `0.41 0.11 162.23`.
    let c = a
        .receiver_correction(Gnss::Gps, 1, &los(90.0, 0.0))
        .unwrap();
    assert!((c.metres - -0.16223).abs() < TOL_M, "{}", c.metres);
    // On the horizon due north (zenith 90°, last value of row `0.0`: 2.91): −0.41 + 2.91.
    let c = a.receiver_correction(Gnss::Gps, 1, &los(0.0, 0.0)).unwrap();
    assert!((c.metres - 2.50e-3).abs() < TOL_M, "{}", c.metres);
    // G02 `0.18 -0.51 159.51`, elevation 45° due east, row `90.0` at zenith 45°: -4.95.
    let c = a
        .receiver_correction(Gnss::Gps, 2, &los(45.0, 90.0))
        .unwrap();
    let pco = (-0.51 + 159.51) * 45f64.to_radians().sin();
    assert!(
        (c.metres - (-pco - 4.95) * 1e-3).abs() < TOL_M,
        "{}",
        c.metres
    );
}

#[test]
fn ash701945e_m_scis_and_fallbacks() {
    let atx = igs05();
    let a = atx.receiver("ASH701945E_M", "SCIS").expect("in igs05");
    // No azimuth grid (`DAZI 0.0`), zenith 0–80°.
    assert_eq!(a.dazi, 0.0);
    assert_eq!(a.zen, [0.0, 80.0, 5.0]);
    // G01 `0.50 0.04 89.04`; elevation 45° north, NOAZI at 45°: -9.90.
    let c = a
        .receiver_correction(Gnss::Gps, 1, &los(45.0, 0.0))
        .unwrap();
    let s45 = 45f64.to_radians().sin();
    assert!((c.metres - (-(0.50 + 89.04) * s45 - 9.90) * 1e-3).abs() < TOL_M);
    // G02 `-0.60 -0.02 118.96`, NOAZI at 45°: -6.23.
    let c = a
        .receiver_correction(Gnss::Gps, 2, &los(45.0, 0.0))
        .unwrap();
    assert!((c.metres - (-(-0.60 + 118.96) * s45 - 6.23) * 1e-3).abs() < TOL_M);
    // Elevation 5° (zenith 85°, beyond ZEN2 = 80°) takes the last value, 3.69.
    let e = los(5.0, 90.0);
    let c = a.receiver_correction(Gnss::Gps, 1, &e).unwrap();
    let pco = Vector3::new(0.04, 0.50, 89.04).dot(&e);
    assert!((c.metres - (-pco + 3.69) * 1e-3).abs() < TOL_M);

    // igs05's receiver entries are GPS-only: other systems fall back by carrier frequency and
    // say so (B1I 1561 MHz and GLONASS G1 → G01; B3I, Galileo E5a/E5b, GLONASS G2 → G02).
    for (sys, band, used) in [
        (Gnss::Beidou, 2, "G01"),
        (Gnss::Beidou, 1, "G01"),
        (Gnss::Galileo, 1, "G01"),
        (Gnss::Glonass, 1, "G01"),
        (Gnss::Beidou, 6, "G02"),
        (Gnss::Beidou, 7, "G02"),
        (Gnss::Galileo, 5, "G02"),
        (Gnss::Galileo, 7, "G02"),
        (Gnss::Glonass, 2, "G02"),
        (Gnss::Gps, 5, "G02"),
        (Gnss::Qzss, 2, "G02"),
    ] {
        let c = a.receiver_correction(sys, band, &los(45.0, 0.0)).unwrap();
        assert!(c.freq.is_fallback(), "{sys:?} {band}");
        assert_eq!(c.freq.used.to_string(), used, "{sys:?} {band}");
    }
}

#[test]
fn missing_receiver_antenna_is_a_typed_not_found() {
    let atx = igs05();
    match atx.receiver("ASH701945E_M", "XXXX") {
        Err(AntexError::ReceiverNotFound { antenna, radome }) => {
            assert_eq!(
                (antenna.as_str(), radome.as_str()),
                ("ASH701945E_M", "XXXX")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(atx.receiver_by_descriptor("NOTANANTENNA    NONE").is_err());
}

#[test]
fn satellites_by_prn_and_validity() {
    let atx = igs05();
    // `BLOCK IIA G01 G037`, valid 2008-10-23 – 2009-01-06: `279.00 0.00 2220.00`.
    let t = gps_date(2008, 12, 1);
    let s = atx.satellite(Gnss::Gps, 1, t).expect("G037 entry");
    assert_eq!(s.svn, "G037");
    let (f, _) = s.frequency(Gnss::Gps, 1).unwrap();
    assert!((f.pco - Vector3::new(0.279, 0.0, 2.220)).norm() < 1e-12);
    // Between G032 (until 2008-10-16) and G037 (from 2008-10-23): no satellite antenna.
    assert!(matches!(
        atx.satellite(Gnss::Gps, 1, gps_date(2008, 10, 20)),
        Err(AntexError::SatelliteNotFound { .. })
    ));
    // 2020: the file's last G01 entry (G049, open-ended since 2009) is nine years older than
    // the data; G01 was SVN 063 by then. The strict lookup refuses it, the file-only lookup
    // (RTKLIB's rule) returns it.
    match atx.satellite(Gnss::Gps, 1, gps_date(2020, 6, 25)) {
        Err(AntexError::SatelliteOutdated { svn, file_week, .. }) => {
            assert_eq!((svn.as_str(), file_week), ("G049", 1627));
        }
        other => panic!("{other:?}"),
    }
    let s = atx
        .satellite_in_file(Gnss::Gps, 1, gps_date(2020, 6, 25))
        .unwrap();
    assert_eq!(s.svn, "G049");
    // No Galileo or BeiDou satellites at all in igs05.
    assert!(matches!(
        atx.satellite(Gnss::Galileo, 11, gps_date(2011, 1, 1)),
        Err(AntexError::SatelliteNotFound { .. })
    ));
    assert!(
        atx.satellite(Gnss::Beidou, 6, gps_date(2011, 1, 1))
            .is_err()
    );

    // GLONASS R03 changed satellites several times: `R727` from 2010-12-16 to 2011-03-10,
    // `R715` from 2011-03-11.
    let s = atx
        .satellite(Gnss::Glonass, 3, gps_date(2011, 1, 20))
        .unwrap();
    assert_eq!(s.svn, "R727");
    let s = atx
        .satellite(Gnss::Glonass, 3, gps_date(2011, 4, 1))
        .unwrap();
    assert_eq!(s.svn, "R715");
}

#[test]
fn satellite_pco_in_ecef_and_pcv_by_nadir() {
    let atx = igs05();
    let s = atx
        .satellite(Gnss::Gps, 1, gps_date(2008, 12, 1))
        .expect("G037");
    // Satellite over (0°N, 0°E) at GPS altitude, Sun in the +y direction: body z points to
    // the Earth (−x ECEF), x towards the Sun (+y), so PCO (0.279, 0, 2.220) is
    // (−2.220, 0.279, 0) in ECEF.
    let sat = Vector3::new(26_560e3, 0.0, 0.0);
    let sun = Vector3::new(0.0, 1.496e11, 0.0);
    let (v, used) = s
        .satellite_pco_ecef(Gnss::Gps, 1, &sat, &sun)
        .unwrap()
        .expect("attitude defined");
    assert!(!used.is_fallback());
    assert!((v - Vector3::new(-2.220, 0.279, 0.0)).norm() < 1e-4, "{v}");
    let axes = yaw_steering_axes(&sat, &sun).unwrap();
    assert!((axes[0].dot(&axes[1])).abs() < 1e-12);
    // PCV: `NOAZI -0.80 -0.90 …` at nadir 0°, 1°, …; nadir 1.5° → −0.90.
    let pcv = s.satellite_pcv(Gnss::Gps, 1, 1.5f64.to_radians()).unwrap();
    assert!((pcv.metres - -0.90e-3).abs() < TOL_M);
    // A receiver on the equator under the satellite sees it at nadir 0.
    let rcv = Vector3::new(6_378_137.0, 0.0, 0.0);
    assert!(nadir_angle(&sat, &rcv).abs() < 1e-12);
}

#[test]
fn igs14_small_gzip_with_signed_values_and_galileo_grid() {
    let atx = igs14_small();
    // SINEX CODE `IGS14_2247`.
    assert_eq!(atx.file_week, Some(2247));
    // The trimmed file leaves GALILEO-2 E04 and EML_REACH_RS2 without END OF ANTENNA and with
    // fewer frequencies than declared: kept, and said.
    assert!(
        atx.warnings.iter().any(|w| w.contains("not closed")),
        "{:?}",
        atx.warnings
    );
    // `EML_REACH_RS2 NONE`, G01 `-0.98 +1.92 +134.92`, explicit plus signs.
    let a = atx.receiver("EML_REACH_RS2", "NONE").unwrap();
    let c = a
        .receiver_correction(Gnss::Gps, 1, &los(90.0, 0.0))
        .unwrap();
    assert!((c.metres - -0.13492).abs() < TOL_M);
    // `JPSLEGANT_E NONE` G02 `1.41 -1.76 54.15`, zenith grid to 80°.
    let a = atx.receiver("JPSLEGANT_E", "NONE").unwrap();
    let c = a
        .receiver_correction(Gnss::Gps, 2, &los(90.0, 0.0))
        .unwrap();
    assert!((c.metres - -0.05415).abs() < TOL_M);
    // `GALILEO-2 E04 E213` from 2016-11-17, nadir 0–20° by 0.5°, E05 `123.13 -9.59 604.15`,
    // NOAZI starting `0.43 0.42 0.40`: nadir 0.75° → 0.41 mm.
    let s = atx
        .satellite(Gnss::Galileo, 4, gps_date(2017, 3, 1))
        .unwrap();
    assert_eq!(s.svn, "E213");
    assert_eq!(s.zen, [0.0, 20.0, 0.5]);
    let (f, _) = s.frequency(Gnss::Galileo, 5).unwrap();
    assert!((f.pco - Vector3::new(0.12313, -0.00959, 0.60415)).norm() < 1e-12);
    let pcv = s
        .satellite_pcv(Gnss::Galileo, 5, 0.75f64.to_radians())
        .unwrap();
    assert!((pcv.metres - 0.41e-3).abs() < TOL_M);
    // Before its launch: not found.
    assert!(
        atx.satellite(Gnss::Galileo, 4, gps_date(2016, 1, 1))
            .is_err()
    );
}

/// Two files merged: receivers from the first that has them, satellites from both, each
/// entry judged by its own file's age.
#[test]
fn merged_files_keep_each_entrys_own_age() {
    let mut atx = igs05();
    let small = igs14_small();
    let warnings = small.warnings.len();
    assert!(
        warnings > 0,
        "the excerpt's E04 declares 5 frequencies and has 2"
    );
    atx.merge(small);
    let t = gps_date(2020, 6, 25);
    // `GALILEO-2 E04 E213 2016-069C`, valid from 2016-11-17, `IGS14_2247`.
    let e04 = atx
        .satellite(Gnss::Galileo, 4, t)
        .expect("E04 from igs14_small");
    assert_eq!((e04.svn.as_str(), e04.file_week), ("E213", Some(2247)));
    // igs05's open-ended G01 entry stays outdated although the merged files reach week 2247.
    match atx.satellite(Gnss::Gps, 1, t) {
        Err(AntexError::SatelliteOutdated { svn, file_week, .. }) => {
            assert_eq!((svn.as_str(), file_week), ("G049", 1627));
        }
        other => panic!("{other:?}"),
    }
    // Valid in both files at 2008-12-01: `BLOCK IIA G01 G037`, from the newer file.
    let g01 = atx
        .satellite_in_file(Gnss::Gps, 1, gps_date(2008, 12, 1))
        .unwrap();
    assert_eq!((g01.svn.as_str(), g01.file_week), ("G037", Some(2247)));
    assert!(atx.receiver("ASH701945E_M", "SCIS").is_ok());
    assert!(atx.warnings.len() >= warnings);
}
