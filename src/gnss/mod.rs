//! GNSS vocabulary and engines. Vocabulary: systems, time scales, signals, observations,
//! geodesy, the ephemeris store. Engines (pure, fed data and time): orbits, atmosphere, single
//! point positioning and Doppler velocity, per-signal corrections and multipath, QC; precise
//! products (SP3 orbits, RINEX clocks) and frame transformations. Nothing here
//! knows a message or a frame.

/// A numeric kernel compiled twice, for any x86-64 and for AVX2, the second chosen at run time
/// when the CPU has it: `body` is the kernel (`#[inline(always)]`), `name` the function callers
/// see. Twice as many doubles per vector instruction in the elementwise loops, the same results
/// to the bit: Rust never fuses a multiply and an add, and vectorising an elementwise loop keeps
/// each element's operations in their order.
macro_rules! wide_kernel {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($a:ident: $t:ty),* $(,)?) $(-> $r:ty)? = $body:ident;) => {
        $(#[$m])*
        $vis fn $name($($a: $t),*) $(-> $r)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                fn wide($($a: $t),*) $(-> $r)? {
                    $body($($a),*)
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2, checked just above.
                    return unsafe { wide($($a),*) };
                }
            }
            $body($($a),*)
        }
    };
}

pub mod antex;
pub mod atmosphere;
pub mod clk;
pub mod corrections;
pub mod frames;
pub mod geodesy;
pub mod lambda;
pub mod lines;
pub mod nav;
pub mod obs;
pub mod orbit;
pub mod ppp;
pub mod qc;
pub mod reflect;
pub mod rtk;
pub mod signal;
pub mod slip;
pub mod smoothing;
pub mod sp3;
pub mod spp;
pub mod sunmoon;
pub mod tide;
pub mod time;
pub mod windup;

use serde::Serialize;

/// A satellite navigation system.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Gnss {
    Gps,
    Glonass,
    Galileo,
    Sbas,
    Qzss,
    Beidou,
    Navic,
}

impl Gnss {
    pub const ALL: [Gnss; 7] = [
        Gnss::Gps,
        Gnss::Glonass,
        Gnss::Galileo,
        Gnss::Sbas,
        Gnss::Qzss,
        Gnss::Beidou,
        Gnss::Navic,
    ];

    /// The RINEX 3 system letter (G R E S J C I).
    pub fn letter(self) -> char {
        match self {
            Gnss::Gps => 'G',
            Gnss::Glonass => 'R',
            Gnss::Galileo => 'E',
            Gnss::Sbas => 'S',
            Gnss::Qzss => 'J',
            Gnss::Beidou => 'C',
            Gnss::Navic => 'I',
        }
    }

    pub fn from_letter(c: char) -> Option<Gnss> {
        Gnss::ALL
            .into_iter()
            .find(|g| g.letter() == c.to_ascii_uppercase())
    }
}

/// Median of finite values (sorted in place).
pub fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// The RINEX satellite name (`G05`, `C59`, `J02`): QZSS PRNs 193–202 become J01–J10 and SBAS
/// PRNs 120–158 become S20–S58, as RINEX writes them.
pub fn sat_name(sys: Gnss, prn: u8) -> String {
    let n = match sys {
        Gnss::Qzss if prn >= 193 => prn - 192,
        Gnss::Sbas if prn >= 100 => prn - 100,
        _ => prn,
    };
    format!("{}{:02}", sys.letter(), n)
}

/// BeiDou GEO satellites (C01–C05 and C59–C63) need their own orbit rotation.
pub fn is_beidou_geo(prn: u8) -> bool {
    matches!(prn, 1..=5 | 59..=63)
}

/// The three BeiDou orbits, which a sky plot tells apart: GEO satellites stand still, IGSO
/// ones draw a figure of eight over Asia, MEO ones cross the sky.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BeidouOrbit {
    Geo,
    Igso,
    Meo,
}

/// A BeiDou satellite's orbit from its PRN, as the constellation status (CSNO) assigns them:
/// IGSO C06–C10, C13, C16 (BDS-2), C31, C56 (BDS-3 test) and C38–C40 (BDS-3); GEO as
/// [`is_beidou_geo`]; MEO the rest.
pub fn beidou_orbit(prn: u8) -> BeidouOrbit {
    if is_beidou_geo(prn) {
        BeidouOrbit::Geo
    } else if matches!(prn, 6..=10 | 13 | 16 | 31 | 38..=40 | 56) {
        BeidouOrbit::Igso
    } else {
        BeidouOrbit::Meo
    }
}

/// A map of per-satellite (and per-signal) state, keyed by small tuples such as
/// `(Gnss, u8, SignalCode)`. The standard map's SipHash, built against hostile keys, was a
/// fifth of a QC report's time; these keys come from a few hundred satellites and signals.
pub type SatMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<SatHasher>>;

/// Multiply-rotate hashing of a few small words (the scheme of rustc's FxHash), enough to
/// spread a few hundred distinct keys.
#[derive(Clone, Copy, Debug, Default)]
pub struct SatHasher(u64);

impl SatHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for SatHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(w));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn write_isize(&mut self, n: isize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
