//! RINEX observations corsd writes from u-blox RXM-RAWX against RTKLIB 2.4.3's
//! `convbin -r ubx` on the same bytes, run here, value by value; and against the RINEX that
//! RTKLIB demo5 made from the whole cold-start log where the two overlap.
//!
//! Pseudorange, phase, Doppler and C/N0 agree to the printed millimetre (millicycle, mHz,
//! mdB-Hz) wherever both files have them. Every other difference is explained from the RAWX
//! measurement it comes from, or the test fails:
//!
//! * RTKLIB drops a phase whose standard-deviation index is above 5 (0.02 cycles); corsd keeps
//!   every phase the receiver marks valid (`trkStat` bit 1) and carries the lock time.
//! * RTKLIB 2.4.3 has no RINEX code for the BeiDou B1C pilot (u-blox sigId 5): corsd writes
//!   it as `1P`.
//! * Loss-of-lock flags: RTKLIB sets one on the first phase it writes of a signal (at its first
//!   epoch or after it dropped the phase); corsd flags a lock that restarted, including one
//!   that restarted while the signal was missing for a few epochs, which RTKLIB does not see
//!   because it compares only with the last lock time it had.
//! * demo5 names Galileo E1 `1X`; the receiver tracks the E1 C pilot, which RINEX calls `1C`.

mod common;

use std::collections::BTreeMap;

use common::ubx::{
    COLDSTART, ObsFile, UBX_FILES, convbin_ubx, corsd_rinex, plain_copy, read_rinex_obs, read_ubx,
};
use corsd::gnss::sat_name;
use corsd::messages::ubx::rawx::RawxMeas;
use corsd::messages::ubx::{self, Ubx};

/// What a comparison found: values per type compared equal, and every difference.
#[derive(Debug, Default)]
struct Diff {
    equal: BTreeMap<char, u64>,
    kinds: BTreeMap<String, u64>,
    /// (kind, epoch ms, satellite, type) of each difference.
    details: Vec<(String, i64, String, String)>,
}

impl Diff {
    fn note(&mut self, kind: String, t: i64, sat: &str, ty: &str) {
        *self.kinds.entry(kind.clone()).or_default() += 1;
        self.details
            .push((kind, t, sat.to_string(), ty.to_string()));
    }
}

/// Compare corsd's file `a` with `b`; `code_map` renames a type of `b` to `a`'s name.
fn compare(a: &ObsFile, b: &ObsFile, code_map: &dyn Fn(&str) -> String) -> Diff {
    let mut d = Diff::default();
    for (&t, ea) in &a.epochs {
        let Some(eb) = b.epochs.get(&t) else {
            d.note("epoch only in corsd".into(), t, "", "");
            continue;
        };
        for (sat, oa) in ea {
            let ob: BTreeMap<String, (f64, u8)> = eb
                .get(sat)
                .map(|o| o.iter().map(|(k, v)| (code_map(k), *v)).collect())
                .unwrap_or_default();
            for (ty, (va, la)) in oa {
                match ob.get(ty) {
                    Some((vb, lb)) => {
                        if (va - vb).abs() <= 0.0015 {
                            *d.equal.entry(ty.chars().next().unwrap_or(' ')).or_default() += 1;
                        } else {
                            d.note(format!("{ty} value differs"), t, sat, ty);
                        }
                        if ty.starts_with('L') && la & 1 != lb & 1 {
                            d.note(format!("LLI {} vs {}", la & 1, lb & 1), t, sat, ty);
                        }
                    }
                    None => d.note(format!("{ty} only in corsd"), t, sat, ty),
                }
            }
            for ty in ob.keys().filter(|ty| !oa.contains_key(*ty)) {
                d.note(format!("{ty} only in the other"), t, sat, ty);
            }
        }
        for sat in eb.keys().filter(|s| !ea.contains_key(*s)) {
            d.note("satellite only in the other".into(), t, sat, "");
        }
    }
    for &t in b.epochs.keys().filter(|t| !a.epochs.contains_key(t)) {
        d.note("epoch only in the other".into(), t, "", "");
    }
    d
}

/// Every RAWX measurement of a recording by (epoch in ms, satellite, RINEX code).
fn rawx_index(rel: &str) -> BTreeMap<(i64, String, String), RawxMeas> {
    let data = read_ubx(rel);
    let mut out = BTreeMap::new();
    for (_, frame) in corsd::framing::frames(&data).0 {
        let Ok(Ubx::Rawx(r)) = ubx::decode_frame(&frame) else {
            continue;
        };
        let Some(t) = r.time() else {
            continue;
        };
        let ms = t.secs() * 1000 + (t.frac() * 1000.0).round() as i64;
        for m in r.meas {
            if let Some((sys, prn, code)) = m.signal() {
                out.insert((ms, sat_name(sys, prn), code.to_string()), m);
            }
        }
    }
    out
}

/// Why corsd's file and RTKLIB's differ at one place, or `None` when nothing explains it.
fn explain(
    kind: &str,
    t: i64,
    sat: &str,
    ty: &str,
    rawx: &BTreeMap<(i64, String, String), RawxMeas>,
    theirs: &ObsFile,
) -> Option<&'static str> {
    let m = rawx.get(&(t, sat.to_string(), ty[1..].to_string()))?;
    let previous_l = theirs
        .epochs
        .range(..t)
        .next_back()
        .and_then(|(_, e)| e.get(sat))
        .is_some_and(|o| o.contains_key(ty));
    if kind.ends_with("only in corsd") && m.gnss_id == 3 && m.sig_id == 5 {
        return Some("RTKLIB 2.4.3 has no RINEX code for u-blox's BeiDou B1C pilot (sigId 5)");
    }
    if kind.ends_with("only in corsd") && ty.starts_with('L') && m.cp_stdev & 0xF > 5 {
        return Some(
            "RTKLIB drops a phase whose standard-deviation index is above 5 (0.02 cycles); \
             corsd keeps what the receiver marks valid",
        );
    }
    if kind.ends_with("LLI 0 vs 1") && !previous_l {
        return Some(
            "RTKLIB flags loss of lock on the first phase it writes after none (a signal's \
             first epoch); corsd flags only a lock that restarted",
        );
    }
    if kind.ends_with("LLI 1 vs 0") {
        let prev = rawx
            .range(..(t, String::new(), String::new()))
            .rev()
            .find(|((_, s, c), _)| s == sat && *c == ty[1..])?;
        let gap = (t - prev.0.0) as f64 * 1e-3;
        let grown = (f64::from(prev.1.locktime_ms) * 1e-3 + gap).min(64.5);
        if f64::from(m.locktime_ms) * 1e-3 + 0.002 < grown && gap > 1.5 {
            return Some(
                "the lock restarted while the signal was missing for a while; RTKLIB compares \
                 only with the last lock time it saw",
            );
        }
    }
    None
}

/// Every difference explained, or the test fails naming the first unexplained ones.
fn assert_explained(
    rel: &str,
    d: &Diff,
    rawx: &BTreeMap<(i64, String, String), RawxMeas>,
    theirs: &ObsFile,
) -> BTreeMap<&'static str, u64> {
    let mut why = BTreeMap::new();
    let mut unexplained = Vec::new();
    for (kind, t, sat, ty) in &d.details {
        match explain(kind, *t, sat, ty, rawx, theirs) {
            Some(w) => *why.entry(w).or_default() += 1,
            None => unexplained.push(format!("{kind}: {t} {sat} {ty}")),
        }
    }
    assert!(
        unexplained.is_empty(),
        "{rel}: {} unexplained differences, first {:#?}\nall kinds: {:#?}",
        unexplained.len(),
        &unexplained[..unexplained.len().min(10)],
        d.kinds
    );
    why
}

#[test]
fn rinex_from_ubx_equals_convbin() {
    let dir = common::servers::temp_dir("ubx-rinex");
    for &(rel, _) in UBX_FILES {
        let sub = dir.join(rel.replace('/', "_"));
        std::fs::create_dir_all(&sub).unwrap();
        let (ours, _) = corsd_rinex(&sub, rel);
        let input = plain_copy(&sub, rel);
        let theirs = sub.join("convbin.obs");
        convbin_ubx(&input, &theirs, None);
        let (a, b) = (read_rinex_obs(&ours), read_rinex_obs(&theirs));
        assert_eq!(a.epochs.len(), b.epochs.len(), "{rel}: epochs");
        let d = compare(&a, &b, &|s| s.to_string());
        let why = assert_explained(rel, &d, &rawx_index(rel), &b);
        for ty in ['C', 'L', 'D', 'S'] {
            assert!(
                d.equal.get(&ty).copied().unwrap_or(0) > 100,
                "{rel}: {ty} compared"
            );
        }
        eprintln!(
            "{rel}: {} epochs, equal {:?}; explained differences {why:#?}",
            a.epochs.len(),
            d.equal
        );
    }
}

#[test]
fn rinex_from_ubx_equals_demo5_where_they_overlap() {
    let dir = common::servers::temp_dir("ubx-rinex-demo5");
    let (ours, _) = corsd_rinex(&dir, COLDSTART);
    let a = read_rinex_obs(&ours);
    let mut b = read_rinex_obs(&common::data_file(
        "ubx/nav-solutions_data/16dBatt_no_interference_coldstart.obs.gz",
    ));
    let last = *a.epochs.keys().last().unwrap();
    b.epochs.retain(|t, _| *t <= last);
    assert_eq!(a.epochs.len(), b.epochs.len(), "overlapping epochs");
    // demo5 names Galileo E1 `1X`; the receiver tracks the E1 C pilot, RINEX `1C`.
    let d = compare(&a, &b, &|s| s.replace("1X", "1C"));
    let why = assert_explained("demo5", &d, &rawx_index(COLDSTART), &b);
    eprintln!(
        "demo5: {} epochs overlap, equal {:?}; explained differences {why:#?}",
        a.epochs.len(),
        d.equal
    );
}

#[test]
fn corsd_replay_of_a_ubx_file_writes_the_same_rinex() {
    let dir = common::servers::temp_dir("ubx-replay");
    let rel = common::ubx::F9T;
    let (lib, _) = corsd_rinex(&dir.join("lib"), rel);
    let input = plain_copy(&dir, rel);
    let out = common::servers::corsd()
        .arg("replay")
        .arg(&input)
        .arg("--rinex")
        .arg(dir.join("cli"))
        .output()
        .expect("run corsd replay");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli = std::fs::read_dir(dir.join("cli"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with("_MO.rnx"))
        .expect("an observation file");
    let (a, b) = (read_rinex_obs(&lib), read_rinex_obs(&cli));
    assert_eq!(a.epochs.len(), 299);
    assert_eq!(a.types, b.types);
    assert_eq!(a.epochs, b.epochs);
}
