//! What the database acknowledged in the last seconds, kept to send again after an outage.
//!
//! VictoriaMetrics answers 204 while the points are still in its memory and writes them to disk
//! every few seconds (`-inmemoryDataFlushInterval`, 5 s by default): when its process or host dies
//! (a power cut at the station), the points it had just acknowledged are gone although the spool
//! has already let go of them. So the batches acknowledged within [`WINDOW`] before a write fails
//! are sent again, first, once the database answers. The points carry their data timestamps: a
//! database that did keep them stores them once (InfluxDB overwrites, VictoriaMetrics
//! deduplicates).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How far back acknowledged batches are sent again: several of VictoriaMetrics' flush intervals
/// plus the time until the failure is noticed.
pub const WINDOW: Duration = Duration::from_secs(30);
/// Memory kept at most for them; beyond it the oldest go first.
pub const MAX_BYTES: usize = 16 << 20;

/// The acknowledged batches of the last [`WINDOW`], and those waiting to be sent again.
#[derive(Default)]
pub struct Resend {
    acked: VecDeque<(Instant, Vec<u8>)>,
    acked_bytes: usize,
    redo: VecDeque<Vec<u8>>,
}

impl Resend {
    /// The database acknowledged `payload` at `now`.
    pub fn acked(&mut self, payload: Vec<u8>, now: Instant) {
        self.acked_bytes += payload.len();
        self.acked.push_back((now, payload));
        self.trim(now);
    }

    fn trim(&mut self, now: Instant) {
        while let Some((t, p)) = self.acked.front() {
            if now.duration_since(*t) <= WINDOW && self.acked_bytes <= MAX_BYTES {
                break;
            }
            self.acked_bytes -= p.len();
            self.acked.pop_front();
        }
    }

    /// A write failed at `now` because the database is unreachable or failing: what it
    /// acknowledged just before is queued to go again. Returns the number of batches queued.
    pub fn outage(&mut self, now: Instant) -> usize {
        self.trim(now);
        let n = self.acked.len();
        self.redo.extend(self.acked.drain(..).map(|(_, p)| p));
        self.acked_bytes = 0;
        n
    }

    /// The next batch to send again, if any.
    pub fn next(&self) -> Option<&[u8]> {
        self.redo.front().map(Vec::as_slice)
    }

    /// The batch from [`Resend::next`] is done with (written, or refused for good).
    pub fn sent(&mut self) {
        self.redo.pop_front();
    }

    /// Batches still waiting to be sent again.
    pub fn pending(&self) -> usize {
        self.redo.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_window_goes_again_in_order() {
        let t0 = Instant::now();
        let mut r = Resend::default();
        r.acked(b"old\n".to_vec(), t0);
        r.acked(b"a\n".to_vec(), t0 + Duration::from_secs(20));
        r.acked(b"b\n".to_vec(), t0 + Duration::from_secs(25));
        assert_eq!(r.outage(t0 + Duration::from_secs(40)), 2);
        assert_eq!(r.next(), Some(&b"a\n"[..]));
        r.sent();
        assert_eq!(r.next(), Some(&b"b\n"[..]));
        // A second failure while sending again queues nothing twice.
        assert_eq!(r.outage(t0 + Duration::from_secs(41)), 0);
        r.sent();
        assert_eq!(r.next(), None);
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn memory_is_bounded() {
        let t0 = Instant::now();
        let mut r = Resend::default();
        for _ in 0..5 {
            r.acked(vec![b'x'; MAX_BYTES / 2], t0);
        }
        assert!(r.acked_bytes <= MAX_BYTES);
        assert_eq!(r.outage(t0), 2);
    }
}
