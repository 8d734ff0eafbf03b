//! UBX decoding against pyubx2 (PyPI), run in the test on the same bytes: every frame of the
//! three u-blox recordings is found by both, and every field corsd decodes equals pyubx2's.
//! Then the products of the frames: RAWX epochs as corsd observations, the gpsd JSON before
//! the F9T capture counted as discarded bytes.

mod common;

use common::ubx::{F9T, UBX_FILES, plain_copy, pyubx2_decode, read_ubx};
use corsd::framing::{FrameKind, Framer};
use corsd::messages::ubx::{self, Ubx, UbxEvent, UbxReceiver};
use serde_json::Value;

/// Field-by-field comparison, collecting every disagreement.
#[derive(Default)]
struct Check {
    fields: u64,
    errors: Vec<String>,
}

impl Check {
    fn value<'a>(&mut self, py: &'a Value, key: &str, at: &str) -> Option<&'a Value> {
        self.fields += 1;
        let v = py.get(key);
        if v.is_none() {
            self.errors.push(format!("{at}: pyubx2 has no {key}"));
        }
        v
    }

    /// `ours` equals pyubx2's value times `scale` (to the last digits of an f64).
    fn num(&mut self, py: &Value, key: &str, ours: f64, scale: f64, at: &str) {
        let Some(v) = self.value(py, key, at) else {
            return;
        };
        let theirs = v.as_f64().map(|x| x * scale);
        let ok = theirs.is_some_and(|t| (ours - t).abs() <= 1e-12 * t.abs().max(1.0));
        if !ok {
            self.errors
                .push(format!("{at}: {key}: corsd {ours}, pyubx2 {v}"));
        }
    }

    fn int(&mut self, py: &Value, key: &str, ours: i64, at: &str) {
        let Some(v) = self.value(py, key, at) else {
            return;
        };
        if v.as_i64() != Some(ours) {
            self.errors
                .push(format!("{at}: {key}: corsd {ours}, pyubx2 {v}"));
        }
    }

    fn flag(&mut self, py: &Value, key: &str, ours: bool, at: &str) {
        self.int(py, key, i64::from(ours), at)
    }
}

/// The pyubx2 name of group member `i` (0-based) of a repeated field.
fn g(name: &str, i: usize) -> String {
    format!("{name}_{:02}", i + 1)
}

fn compare(m: &Ubx, py: &Value, at: &str, c: &mut Check) {
    match m {
        Ubx::Rawx(r) => {
            let h = &r.head;
            c.num(py, "rcvTow", h.rcv_tow_s, 1.0, at);
            c.int(py, "week", h.week.into(), at);
            c.int(py, "leapS", h.leap_s.into(), at);
            c.int(py, "numMeas", h.num_meas.into(), at);
            c.int(py, "recStat", h.rec_stat.into(), at);
            c.flag(py, "leapSec", r.leap_seconds_valid(), at);
            c.flag(py, "clkReset", r.clock_reset(), at);
            let reserved1 = i64::from(h.version)
                | i64::from(h.reserved[0]) << 8
                | i64::from(h.reserved[1]) << 16;
            c.int(py, "reserved1", reserved1, at);
            for (i, m) in r.meas.iter().enumerate() {
                c.num(py, &g("prMes", i), m.pr_m, 1.0, at);
                c.num(py, &g("cpMes", i), m.cp_cycles, 1.0, at);
                c.num(py, &g("doMes", i), m.do_hz.into(), 1.0, at);
                c.int(py, &g("gnssId", i), m.gnss_id.into(), at);
                c.int(py, &g("svId", i), m.sv_id.into(), at);
                c.int(py, &g("sigId", i), m.sig_id.into(), at);
                c.int(py, &g("freqId", i), m.freq_id.into(), at);
                c.int(py, &g("locktime", i), m.locktime_ms.into(), at);
                c.int(py, &g("cno", i), m.cno_dbhz.into(), at);
                c.int(py, &g("prStdev", i), m.pr_stdev.into(), at);
                c.int(py, &g("cpStdev", i), m.cp_stdev.into(), at);
                c.int(py, &g("doStdev", i), m.do_stdev.into(), at);
                c.int(py, &g("prStd", i), (m.pr_stdev & 0xF).into(), at);
                c.int(py, &g("cpStd", i), (m.cp_stdev & 0xF).into(), at);
                c.int(py, &g("doStd", i), (m.do_stdev & 0xF).into(), at);
                c.int(py, &g("trkStat", i), m.trk_stat.into(), at);
                c.flag(py, &g("prValid", i), m.pr_valid(), at);
                c.flag(py, &g("cpValid", i), m.cp_valid(), at);
                c.flag(py, &g("halfCyc", i), m.half_cycle_valid(), at);
                c.flag(py, &g("subHalfCyc", i), m.half_cycle_subtracted(), at);
                c.int(py, &g("reserved3", i), m.reserved.into(), at);
            }
        }
        Ubx::Sfrbx(s) => {
            let h = &s.head;
            for (key, v) in [
                ("gnssId", h.gnss_id),
                ("svId", h.sv_id),
                ("sigId", h.sig_id),
                ("freqId", h.freq_id),
                ("numWords", h.num_words),
                ("chn", h.chn),
                ("version", h.version),
                ("reserved0", h.reserved),
            ] {
                c.int(py, key, v.into(), at);
            }
            for (i, w) in s.words.iter().enumerate() {
                c.int(py, &g("dwrd", i), (*w).into(), at);
            }
        }
        Ubx::NavPvt(p) => {
            for (key, v) in [
                ("iTOW", i64::from(p.itow_ms)),
                ("year", p.year.into()),
                ("month", p.month.into()),
                ("day", p.day.into()),
                ("hour", p.hour.into()),
                ("min", p.min.into()),
                ("second", p.sec.into()),
                ("valid", p.valid.into()),
                ("tAcc", p.t_acc_ns.into()),
                ("nano", p.nano_ns.into()),
                ("fixType", p.fix_type.into()),
                ("flags", p.flags.into()),
                ("flags2", p.flags2.into()),
                ("numSV", p.num_sv.into()),
                ("flags3", p.flags3.into()),
                ("reserved0", i64::from(u32::from_le_bytes(p.reserved))),
            ] {
                c.int(py, key, v, at);
            }
            c.flag(py, "validDate", p.valid_date(), at);
            c.flag(py, "validTime", p.valid_time(), at);
            c.flag(py, "fullyResolved", p.fully_resolved(), at);
            c.flag(py, "gnssFixOk", p.gnss_fix_ok(), at);
            c.flag(py, "diffSoln", p.diff_soln(), at);
            c.int(py, "carrSoln", p.carr_soln().into(), at);
            c.flag(py, "invalidLlh", p.invalid_llh(), at);
            for (key, v, scale) in [
                ("lon", p.lon_deg, 1.0),
                ("lat", p.lat_deg, 1.0),
                ("height", p.height_m, 1e-3),
                ("hMSL", p.h_msl_m, 1e-3),
                ("hAcc", p.h_acc_m, 1e-3),
                ("vAcc", p.v_acc_m, 1e-3),
                ("velN", p.vel_n_mps, 1e-3),
                ("velE", p.vel_e_mps, 1e-3),
                ("velD", p.vel_d_mps, 1e-3),
                ("gSpeed", p.g_speed_mps, 1e-3),
                ("headMot", p.head_mot_deg, 1.0),
                ("sAcc", p.s_acc_mps, 1e-3),
                ("headAcc", p.head_acc_deg, 1.0),
                ("pDOP", p.p_dop, 1.0),
                ("headVeh", p.head_veh_deg, 1.0),
                ("magDec", p.mag_dec_deg, 1.0),
                ("magAcc", p.mag_acc_deg, 1.0),
            ] {
                c.num(py, key, v, scale, at);
            }
        }
        Ubx::NavStatus(s) => {
            for (key, v) in [
                ("iTOW", i64::from(s.itow_ms)),
                ("gpsFix", s.gps_fix.into()),
                ("flags", s.flags.into()),
                ("fixStat", s.fix_stat.into()),
                ("flags2", s.flags2.into()),
                ("ttff", s.ttff_ms.into()),
                ("msss", s.msss_ms.into()),
                ("spoofDetState", s.spoof_det_state().into()),
            ] {
                c.int(py, key, v, at);
            }
        }
        Ubx::NavSat(s) => {
            c.int(py, "iTOW", s.head.itow_ms.into(), at);
            c.int(py, "version", s.head.version.into(), at);
            c.int(py, "numSvs", s.head.num_svs.into(), at);
            for (i, v) in s.svs.iter().enumerate() {
                for (key, x) in [
                    ("gnssId", i64::from(v.gnss_id)),
                    ("svId", v.sv_id.into()),
                    ("cno", v.cno_dbhz.into()),
                    ("elev", v.elev_deg.into()),
                    ("azim", v.azim_deg.into()),
                    ("flags", v.flags.into()),
                    ("qualityInd", v.quality_ind().into()),
                    ("svUsed", v.sv_used().into()),
                    ("health", v.health().into()),
                    ("diffCorr", v.diff_corr().into()),
                    ("smoothed", v.smoothed().into()),
                    ("orbitSource", v.orbit_source().into()),
                    ("ephAvail", v.eph_avail().into()),
                    ("almAvail", v.alm_avail().into()),
                ] {
                    c.int(py, &g(key, i), x, at);
                }
                c.num(py, &g("prRes", i), v.pr_res_m, 1.0, at);
            }
        }
        Ubx::NavSig(s) => {
            c.int(py, "iTOW", s.head.itow_ms.into(), at);
            c.int(py, "version", s.head.version.into(), at);
            c.int(py, "numSigs", s.head.num_sigs.into(), at);
            for (i, v) in s.sigs.iter().enumerate() {
                for (key, x) in [
                    ("gnssId", i64::from(v.gnss_id)),
                    ("svId", v.sv_id.into()),
                    ("sigId", v.sig_id.into()),
                    ("freqId", v.freq_id.into()),
                    ("cno", v.cno_dbhz.into()),
                    ("qualityInd", v.quality_ind.into()),
                    ("corrSource", v.corr_source.into()),
                    ("ionoModel", v.iono_model.into()),
                    ("sigFlags", v.sig_flags.into()),
                    ("health", v.health().into()),
                    ("prSmoothed", v.pr_smoothed().into()),
                    ("prUsed", v.pr_used().into()),
                    ("crUsed", v.cr_used().into()),
                    ("doUsed", v.do_used().into()),
                ] {
                    c.int(py, &g(key, i), x, at);
                }
                c.num(py, &g("prRes", i), v.pr_res_m, 1.0, at);
            }
        }
        Ubx::MonRf(r) => {
            c.int(py, "version", r.head.version.into(), at);
            c.int(py, "nBlocks", r.head.n_blocks.into(), at);
            for (i, b) in r.blocks.iter().enumerate() {
                for (key, x) in [
                    ("blockId", i64::from(b.block_id)),
                    ("flags", b.flags.into()),
                    ("jammingState", b.jamming_state().into()),
                    ("antStatus", b.ant_status.into()),
                    ("antPower", b.ant_power.into()),
                    ("postStatus", b.post_status.into()),
                    ("noisePerMS", b.noise_per_ms.into()),
                    ("agcCnt", b.agc_cnt.into()),
                    ("jamInd", b.jam_ind.into()),
                    ("ofsI", b.ofs_i.into()),
                    ("magI", b.mag_i.into()),
                    ("ofsQ", b.ofs_q.into()),
                    ("magQ", b.mag_q.into()),
                ] {
                    c.int(py, &g(key, i), x, at);
                }
            }
        }
        Ubx::MonHw(h) => {
            for (key, x) in [
                ("pinSel", i64::from(h.pin_sel)),
                ("pinBank", h.pin_bank.into()),
                ("pinDir", h.pin_dir.into()),
                ("pinVal", h.pin_val.into()),
                ("noisePerMS", h.noise_per_ms.into()),
                ("agcCnt", h.agc_cnt.into()),
                ("aStatus", h.a_status.into()),
                ("aPower", h.a_power.into()),
                ("flags", h.flags.into()),
                ("rtcCalib", h.rtc_calib().into()),
                ("safeBoot", h.safe_boot().into()),
                ("jammingState", h.jamming_state().into()),
                ("xtalAbsent", h.xtal_absent().into()),
                ("reserved0", h.reserved0.into()),
                ("usedMask", h.used_mask.into()),
                ("jamInd", h.jam_ind.into()),
                ("reserved1", i64::from(u16::from_le_bytes(h.reserved1))),
                ("pinIrq", h.pin_irq.into()),
                ("pullH", h.pull_h.into()),
                ("pullL", h.pull_l.into()),
            ] {
                c.int(py, key, x, at);
            }
            for (i, v) in h.vp.iter().enumerate() {
                c.int(py, &g("VP", i), (*v).into(), at);
            }
        }
        Ubx::Other(_) => {}
    }
}

#[test]
fn every_frame_of_the_u_blox_recordings_equals_pyubx2() {
    let dir = common::servers::temp_dir("ubx-pyubx2");
    let mut report = Vec::new();
    // The RAWX recordings, and gpsd's ZED-F9P log of navigation words (after its comment header).
    let files = UBX_FILES
        .iter()
        .chain([&(common::ubx::GPSD_F9P_SFRBX, 374)]);
    for &(rel, leading_garbage) in files {
        let data = read_ubx(rel);
        let mut framer = Framer::new();
        framer.push(&data);
        framer.finish();
        let mut ours = Vec::new();
        while let Some(f) = framer.next_frame() {
            assert_eq!(f.kind, FrameKind::Ubx, "{rel}: only UBX in these files");
            ours.push(f.bytes.to_vec());
        }
        let stats = framer.stats().clone();
        assert_eq!(stats.ubx_checksum_errors, 0, "{rel}");
        // The coldstart file is a prefix of a longer log: its last frame may be cut.
        let cut =
            data.len() as u64 - ours.iter().map(|f| f.len() as u64).sum::<u64>() - leading_garbage;
        assert_eq!(stats.discarded_bytes, leading_garbage + cut, "{rel}");
        assert!(cut < 8192, "{rel}: {cut} bytes outside frames at the end");

        let py = pyubx2_decode(&plain_copy(&dir, rel));
        assert_eq!(ours.len(), py.len(), "{rel}: frames found, corsd vs pyubx2");
        let mut c = Check::default();
        let mut decoded = std::collections::BTreeMap::<String, u64>::new();
        for (k, (frame, p)) in ours.iter().zip(&py).enumerate() {
            let at = format!("{rel} frame {k} ({})", p["identity"]);
            assert_eq!(
                (frame[2] as u64, frame[3] as u64, frame.len() as u64 - 8),
                (
                    p["class"].as_u64().unwrap(),
                    p["id"].as_u64().unwrap(),
                    p["len"].as_u64().unwrap()
                ),
                "{at}"
            );
            let m = ubx::decode_frame(frame).unwrap_or_else(|e| panic!("{at}: {e}"));
            if !matches!(m, Ubx::Other(_)) {
                *decoded
                    .entry(p["identity"].as_str().unwrap().to_string())
                    .or_default() += 1;
            }
            compare(&m, p, &at, &mut c);
            // Encoding gives back the same frame.
            assert_eq!(m.to_frame(), *frame, "{at}: re-encoded");
        }
        assert!(
            c.errors.is_empty(),
            "{rel}: {} of {} fields differ, first: {:#?}",
            c.errors.len(),
            c.fields,
            &c.errors[..c.errors.len().min(10)]
        );
        report.push(format!(
            "{rel}: {} frames, {} fields equal; decoded {decoded:?}",
            ours.len(),
            c.fields
        ));
    }
    eprintln!("{}", report.join("\n"));
}

/// Every RAWX of a recording through the receiver state: (epochs, unresolved-time RAWX).
fn epochs_of(rel: &str) -> (Vec<corsd::gnss::obs::Epoch>, UbxReceiver) {
    let data = read_ubx(rel);
    let mut framer = Framer::new();
    framer.push(&data);
    framer.finish();
    let mut rx = UbxReceiver::new(None);
    let mut epochs = Vec::new();
    while let Some(f) = framer.next_frame() {
        let m = ubx::decode_frame(f.bytes).expect("decodes");
        if let Some(UbxEvent::Epoch(e)) = rx.push(&m) {
            epochs.push(e);
        }
    }
    (epochs, rx)
}

#[test]
fn f9t_gpsd_prefix_is_discarded_and_its_299_epochs_come_through() {
    let data = read_ubx(F9T);
    let mut framer = Framer::new();
    // In pieces, as a serial port would deliver them.
    for chunk in data.chunks(997) {
        framer.push(chunk);
        while framer.next_frame().is_some() {}
    }
    framer.finish();
    while framer.next_frame().is_some() {}
    assert_eq!(framer.stats().discarded_bytes, 644);
    let (epochs, rx) = epochs_of(F9T);
    assert_eq!(epochs.len(), 299);
    assert_eq!(rx.stats.unresolved_time, 0);
    // L1 and L2 on GPS, B1I and B1C on BeiDou.
    let codes: std::collections::BTreeSet<String> = epochs
        .iter()
        .flat_map(|e| e.sats.iter())
        .flat_map(|s| {
            s.signals
                .iter()
                .map(move |x| format!("{}{}", s.sys.letter(), x.code))
        })
        .collect();
    for want in ["G1C", "G2L", "E1C", "C2I", "C1P", "S1C"] {
        assert!(codes.contains(want), "{want} in {codes:?}");
    }
}

#[test]
fn a_cold_start_drops_the_epochs_before_the_week_is_known() {
    let (epochs, rx) = epochs_of(common::ubx::COLDSTART);
    assert_eq!(rx.stats.unresolved_time, 20);
    assert_eq!(epochs.len(), 562);
    assert_eq!(epochs[0].time.week(), 2363);
}
