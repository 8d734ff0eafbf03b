//! The RTK engine fed arbitrary observations: a simulated station's epochs as the base, the same
//! epochs as the rover with fuzzed phases, codes, lock times, flags, frequencies and times.
//! Never a panic, and every solution is finite.
#![no_main]

use corsd::gnss::rtk::{Antennas, Rtk, RtkOptions};
use corsd::simulate::{SimConfig, Simulator};
use corsd::station::state::StationState;
use libfuzzer_sys::fuzz_target;

fn simulated() -> (Vec<corsd::gnss::obs::Epoch>, corsd::gnss::nav::EphemerisStore, SimConfig) {
    let cfg = SimConfig {
        epochs: 8,
        ..Default::default()
    };
    let mut sim = Simulator::new(cfg.clone());
    let mut st = StationState::new(Some(cfg.start));
    let mut epochs = Vec::new();
    while let Some(frames) = sim.next_epoch() {
        for f in frames {
            if let Ok(m) = corsd::messages::rtcm3::decode(&f[3..f.len() - 3]) {
                epochs.extend(st.push(&m));
            }
        }
    }
    epochs.extend(st.finish());
    (epochs, st.store, cfg)
}

fn value(b: &[u8]) -> f64 {
    let mut w = [0u8; 8];
    w[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
    f64::from_le_bytes(w)
}

fuzz_target!(|data: &[u8]| {
    let (base, store, cfg) = simulated();
    let mut rover = base.clone();
    // Each 11-byte record: epoch, satellite, signal, what to change, and a 7-byte value.
    for rec in data.chunks(11) {
        let [e, s, g, what, rest @ ..] = rec else { break };
        let n = rover.len().max(1);
        let Some(ep) = rover.get_mut(*e as usize % n) else { continue };
        let v = value(rest);
        if *what % 8 == 7 {
            ep.time = ep.time.add(v.clamp(-1e6, 1e6));
            continue;
        }
        let n = ep.sats.len().max(1);
        let Some(sat) = ep.sats.get_mut(*s as usize % n) else { continue };
        let n = sat.signals.len().max(1);
        let Some(sig) = sat.signals.get_mut(*g as usize % n) else { continue };
        match *what % 8 {
            0 => sig.phase_cycles = Some(v),
            1 => sig.pseudorange_m = Some(v),
            2 => sig.lock_s = Some(v),
            3 => sig.slip = !sig.slip,
            4 => sig.half_cycle = !sig.half_cycle,
            5 => sig.freq_hz = Some(v),
            _ => sig.phase_cycles = None,
        }
    }
    let mut engine = Rtk::new(RtkOptions::default(), cfg.position, Antennas::default());
    for (r, b) in rover.iter().zip(&base) {
        if let Ok(s) = engine.process(r, b, &store) {
            assert!(s.position.iter().all(|v| v.is_finite()), "finite position");
        }
    }
});
