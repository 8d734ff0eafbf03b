//! Jittered exponential backoff (1 s doubling to a 5-minute cap by default): reconnecting to a
//! public caster or a database never turns into a fixed fast loop that gets the station banned,
//! and many stations restarted together do not retry in step.

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
    rng: u64,
    /// Attempts since the last reset.
    pub attempts: u32,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9)
            ^ (std::process::id() as u64) << 32;
        Backoff {
            min,
            max,
            next: min,
            rng: seed | 1,
            attempts: 0,
        }
    }

    /// 1 s → 5 min.
    pub fn standard() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(300))
    }

    /// The delay before the next attempt: the current step, jittered to 50–100 %, then doubled.
    pub fn next_delay(&mut self) -> Duration {
        self.attempts += 1;
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
        let d = self.next.mul_f64(0.5 + 0.5 * r);
        self.next = (self.next * 2).min(self.max);
        d
    }

    /// After a success.
    pub fn reset(&mut self) {
        self.next = self.min;
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_to_the_cap_with_jitter() {
        let mut b = Backoff::standard();
        let d: Vec<Duration> = (0..12).map(|_| b.next_delay()).collect();
        assert!(d[0] >= Duration::from_millis(500) && d[0] <= Duration::from_secs(1));
        assert!(d[3] >= Duration::from_secs(4) && d[3] <= Duration::from_secs(8));
        assert!(d.iter().all(|x| *x <= Duration::from_secs(300)));
        assert!(d[11] >= Duration::from_secs(150));
        b.reset();
        assert!(b.next_delay() <= Duration::from_secs(1));
    }
}
