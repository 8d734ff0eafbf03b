//! Writing one mountpoint's chunks to thousands of clients.
//!
//! A task per client woken for every epoch costs a wake-up, a poll and a timer besides the
//! write itself; at ten thousand clients that alone is ~100 ms per epoch on a small board. Here
//! a few shard tasks own the clients' write halves and, for each chunk, call a non-blocking write
//! on every socket in turn: one system call per v1 client per epoch. A client whose socket does not
//! take the whole chunk keeps the rest in a backlog, flushed when the next chunk comes or on a
//! 100 ms tick; a backlog over [`MAX_BACKLOG`] or older than the stall limit drops that client
//! and no one else. The connection's own task keeps the read half (in-band GGA, noticing the
//! client leave) and is told when the shard lets the client go.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::sinks::caster::CasterStatus;

/// Bytes a client may have waiting before it counts as stalled.
pub const MAX_BACKLOG: usize = 256 * 1024;

/// A client handed to a shard.
pub struct Client {
    pub wr: OwnedWriteHalf,
    /// NTRIP v2: chunked transfer encoding.
    pub chunked: bool,
    /// Told why the shard let the client go.
    pub gone: oneshot::Sender<&'static str>,
}

/// The shards of one mountpoint.
#[derive(Clone, Debug)]
pub struct Fanout {
    shards: Vec<mpsc::UnboundedSender<Client>>,
    next: Arc<AtomicUsize>,
}

impl Fanout {
    pub fn start(
        shards: usize,
        chunks: &broadcast::Sender<Arc<[u8]>>,
        counters: Arc<CasterStatus>,
        stall: Duration,
        shutdown: watch::Receiver<bool>,
    ) -> Fanout {
        let shards = (0..shards.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(shard(
                    rx,
                    chunks.subscribe(),
                    counters.clone(),
                    stall,
                    shutdown.clone(),
                ));
                tx
            })
            .collect();
        Fanout {
            shards,
            next: Arc::default(),
        }
    }

    /// Hand a client over (round robin). `false` if the shards are gone (shutting down).
    pub fn add(&self, c: Client) -> bool {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.shards.len();
        self.shards[i].send(c).is_ok()
    }
}

struct Slot {
    c: Client,
    backlog: Vec<u8>,
    /// When the backlog started.
    since: Option<Instant>,
}

impl Slot {
    /// Write what is waiting, then `parts` in order, each with its own write (see
    /// [`http_chunks`]); `Err` with the reason to let the client go.
    fn push(&mut self, parts: &[Vec<u8>], stall: Duration) -> Result<usize, &'static str> {
        let mut written = 0;
        if !self.backlog.is_empty() {
            let n = write_some(&self.c.wr, &self.backlog)?;
            self.backlog.drain(..n);
            written += n;
        }
        for part in parts {
            if self.backlog.is_empty() {
                let n = write_some(&self.c.wr, part)?;
                written += n;
                self.backlog.extend_from_slice(&part[n..]);
            } else {
                self.backlog.extend_from_slice(part);
            }
        }
        if self.backlog.is_empty() {
            self.since = None;
        } else {
            let since = *self.since.get_or_insert_with(Instant::now);
            if self.backlog.len() > MAX_BACKLOG {
                return Err("fell behind the stream (backlog full)");
            }
            if since.elapsed() > stall {
                return Err("stalled (socket took nothing)");
            }
        }
        Ok(written)
    }
}

/// NTRIP v2 data as one HTTP chunk per RTCM3 frame, each written on its own. Several popular
/// clients (pygnssutils among them) take chunk boundaries from read boundaries and lose sync for
/// good when a chunk header lands inside a read; a chunk per frame, sent as its own segment,
/// keeps them aligned, as the per-frame writes of other casters do. Bytes that are not whole
/// frames (a relay's raw reads) go as one chunk.
pub fn http_chunks(raw: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < raw.len() {
        let len = if raw[at] == 0xD3 && at + 3 <= raw.len() {
            (((raw[at + 1] as usize) & 0x03) << 8 | raw[at + 2] as usize) + 6
        } else {
            raw.len() - at
        };
        let end = (at + len).min(raw.len());
        let frame = &raw[at..end];
        let mut c = format!("{:X}\r\n", frame.len()).into_bytes();
        c.extend_from_slice(frame);
        c.extend_from_slice(b"\r\n");
        out.push(c);
        at = end;
    }
    out
}

fn write_some(wr: &OwnedWriteHalf, data: &[u8]) -> Result<usize, &'static str> {
    match wr.try_write(data) {
        Ok(n) => Ok(n),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
        Err(_) => Err("client closed"),
    }
}

async fn shard(
    mut new: mpsc::UnboundedReceiver<Client>,
    mut chunks: broadcast::Receiver<Arc<[u8]>>,
    counters: Arc<CasterStatus>,
    stall: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut slots: Vec<Slot> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut lagged_logged = false;
    // v1 bytes as they are, in one write; v2 as HTTP chunks, made once for everyone.
    let send = |slots: &mut Vec<Slot>, raw: &[Vec<u8>], chunks: &[Vec<u8>]| {
        let (mut i, mut bytes) = (0, 0u64);
        while i < slots.len() {
            let parts = if slots[i].c.chunked { chunks } else { raw };
            match slots[i].push(parts, stall) {
                Ok(n) => {
                    bytes += n as u64;
                    i += 1;
                }
                Err(why) => {
                    if why != "client closed" {
                        counters.dropped_clients.fetch_add(1, Ordering::Relaxed);
                    }
                    let s = slots.swap_remove(i);
                    let _ = s.c.gone.send(why);
                }
            }
        }
        // Once per pass: a counter shared by the shards, touched per client, would bounce its
        // cache line between the cores ten thousand times an epoch.
        counters.bytes_out.fetch_add(bytes, Ordering::Relaxed);
    };
    loop {
        tokio::select! {
            c = new.recv() => match c {
                Some(c) => slots.push(Slot { c, backlog: Vec::new(), since: None }),
                None => return,
            },
            r = chunks.recv() => match r {
                Ok(first) => {
                    // Whatever else already waits goes out in the same write.
                    let mut raw: Vec<u8> = first.to_vec();
                    while raw.len() < 64 * 1024 {
                        match chunks.try_recv() {
                            Ok(b) => raw.extend_from_slice(&b),
                            Err(_) => break,
                        }
                    }
                    let chunks = if slots.iter().any(|s| s.c.chunked) {
                        http_chunks(&raw)
                    } else {
                        Vec::new()
                    };
                    send(&mut slots, &[raw], &chunks);
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    // The shard itself fell behind: every client of it misses these chunks;
                    // better to drop them all than to send a stream with a hole.
                    if !lagged_logged {
                        tracing::warn!(chunks = n, clients = slots.len(), "caster: the machine cannot keep up with this many clients; dropping them");
                        lagged_logged = true;
                    }
                    for s in slots.drain(..) {
                        counters.dropped_clients.fetch_add(1, Ordering::Relaxed);
                        let _ = s.c.gone.send("fell behind the stream");
                    }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = tick.tick() => {
                if slots.iter().any(|s| !s.backlog.is_empty()) {
                    send(&mut slots, &[], &[]);
                }
            }
            _ = shutdown.changed() => break,
        }
    }
    for s in slots {
        if s.c.chunked {
            let _ = s.c.wr.try_write(b"0\r\n\r\n");
        }
        let _ = s.c.gone.send("shutdown");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_http_chunk_per_frame() {
        let mut raw = vec![0xD3, 0x00, 0x02, 0xAA, 0xBB, 1, 2, 3];
        raw.extend_from_slice(&[0xD3, 0x00, 0x00, 4, 5, 6]);
        let c = http_chunks(&raw);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0], b"8\r\n\xD3\x00\x02\xAA\xBB\x01\x02\x03\r\n".to_vec());
        assert_eq!(c[1], b"6\r\n\xD3\x00\x00\x04\x05\x06\r\n".to_vec());
        // Not frames: one chunk.
        assert_eq!(http_chunks(b"abc"), vec![b"3\r\nabc\r\n".to_vec()]);
    }
}
