//! Observations of one epoch, independent of where they came from (RTCM MSM or legacy
//! messages, RINEX observation files, the simulator).

use serde::Serialize;

use super::Gnss;
use super::time::Gpst;

/// A RINEX 3 observation code without its type letter: band digit and attribute, e.g. `1C`,
/// `2W`, `5X`; BeiDou B1I is `2I`, B3I `6I`, B2I `7I`, B2a `5P`/`5X`, B1C `1P`/`1X`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SignalCode(pub [u8; 2]);

impl SignalCode {
    pub fn new(s: &str) -> Option<SignalCode> {
        let b = s.as_bytes();
        (b.len() == 2 && b[0].is_ascii_digit() && b[1].is_ascii_alphabetic())
            .then(|| SignalCode([b[0], b[1]]))
    }
    pub fn as_str(&self) -> &str {
        // Constructed only from two ASCII bytes.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
    /// The frequency band digit (1, 2, 5, 6, 7, 8).
    pub fn band(&self) -> u8 {
        self.0[0] - b'0'
    }
}

impl Serialize for SignalCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for SignalCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was measured on one signal of one satellite.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SignalObs {
    pub code: SignalCode,
    /// Carrier frequency (Hz), when known (GLONASS needs the channel).
    pub freq_hz: Option<f64>,
    /// Pseudorange (m).
    pub pseudorange_m: Option<f64>,
    /// Carrier phase (cycles).
    pub phase_cycles: Option<f64>,
    /// Doppler (Hz).
    pub doppler_hz: Option<f64>,
    /// Carrier-to-noise density (dB-Hz).
    pub cn0_dbhz: Option<f64>,
    /// Time since the receiver locked on the carrier (s), when the source says.
    pub lock_s: Option<f64>,
    /// Loss of lock (cycle slip possible) since the previous epoch.
    pub slip: bool,
    /// Half-cycle ambiguity unresolved.
    pub half_cycle: bool,
}

/// All signals of one satellite at one epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SatObs {
    pub sys: Gnss,
    pub prn: u8,
    pub signals: Vec<SignalObs>,
}

impl SatObs {
    pub fn signal(&self, code: SignalCode) -> Option<&SignalObs> {
        self.signals.iter().find(|s| s.code == code)
    }
}

/// One epoch of observations of one receiver.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Epoch {
    /// Receiver time of the epoch (GPST).
    pub time: Gpst,
    pub sats: Vec<SatObs>,
}
