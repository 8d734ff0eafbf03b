//! Writing one mountpoint's chunks to thousands of clients.
//!
//! A task per client woken for every epoch costs a wake-up, a poll and a timer besides the
//! write itself; at ten thousand clients that alone is ~100 ms per epoch on a small board. Here
//! the clients' write halves sit in blocks of [`BLOCK`], and for each chunk every block becomes
//! one short task that calls a non-blocking write on each of its sockets: one system call per v1
//! client per epoch. The runtime's worker threads steal these tasks from each other, so a pass
//! ends when the last core runs out of blocks, not when the slowest of fixed per-core shares
//! does (a core also busy with the kernel's own network work, or another process, would set
//! the pace). Passes run one after another, so each client's bytes stay in order.
//!
//! A client whose socket does not take the whole chunk keeps the rest in a backlog, flushed when
//! the next chunk comes or on a 100 ms tick; a backlog over [`MAX_BACKLOG`] or older than the
//! stall limit drops that client and no one else. The connection's own task keeps the read half
//! (in-band GGA, noticing the client leave) and is told when the fan-out lets the client go.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::feeds::caster::CasterStatus;
use crate::framing::rtcm3::frame_len;
use crate::ntrip::chunked;

/// Bytes a client may have waiting before it counts as stalled.
pub const MAX_BACKLOG: usize = 256 * 1024;

/// A client handed to the fan-out.
pub struct Client {
    pub wr: OwnedWriteHalf,
    /// NTRIP v2: chunked transfer encoding.
    pub chunked: bool,
    /// Told why the fan-out let the client go.
    pub gone: oneshot::Sender<&'static str>,
}

/// Clients in one block: enough that a block's task costs far more than spawning it, few
/// enough that a pass over ten thousand clients splits into dozens of tasks to balance.
pub const BLOCK: usize = 128;

/// The fan-out of one mountpoint.
#[derive(Clone, Debug)]
pub struct Fanout {
    new: mpsc::UnboundedSender<Client>,
}

impl Fanout {
    pub fn start(
        chunks: &broadcast::Sender<Arc<[u8]>>,
        counters: Arc<CasterStatus>,
        stall: Duration,
        shutdown: watch::Receiver<bool>,
    ) -> Fanout {
        let (new, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(rx, chunks.subscribe(), counters, stall, shutdown));
        Fanout { new }
    }

    /// Hand a client over. `false` if the fan-out is gone (shutting down).
    pub fn add(&self, c: Client) -> bool {
        self.new.send(c).is_ok()
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
/// keeps them aligned, as the per-frame writes of other casters do. Chunks of several frames,
/// even kept under pygnssutils' 4 KiB read, starve it: its request loop swallows the first data
/// read, the next read can start inside a chunk, and its dechunker then keeps a line of frame bytes
/// as a "partial" header that ends every later read. Bytes that are not whole frames (a relay's
/// raw reads) go as one chunk.
pub fn http_chunks(raw: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < raw.len() {
        let len = frame_len(&raw[at..]).unwrap_or(raw.len() - at);
        let end = (at + len).min(raw.len());
        out.push(chunked::encode(&raw[at..end]));
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

/// What one pass writes: v1 bytes as they are, in one write; v2 as HTTP chunks, made once for
/// everyone (empty when no client of the mount speaks v2, or on a backlog-only pass).
struct Parts {
    raw: Vec<Vec<u8>>,
    chunks: Vec<Vec<u8>>,
}

struct Block {
    slots: Vec<Slot>,
}

impl Block {
    fn has_backlog(&self) -> bool {
        self.slots.iter().any(|s| !s.backlog.is_empty())
    }

    /// Write `parts` to every client; bytes written and clients dropped for falling behind.
    fn send(&mut self, parts: &Parts, stall: Duration) -> (u64, u64) {
        let (mut i, mut bytes, mut dropped) = (0, 0u64, 0u64);
        while i < self.slots.len() {
            let p = if self.slots[i].c.chunked {
                &parts.chunks
            } else {
                &parts.raw
            };
            match self.slots[i].push(p, stall) {
                Ok(n) => {
                    bytes += n as u64;
                    i += 1;
                }
                Err(why) => {
                    dropped += u64::from(why != "client closed");
                    let s = self.slots.swap_remove(i);
                    let _ = s.c.gone.send(why);
                }
            }
        }
        (bytes, dropped)
    }
}

/// One pass over `blocks` (all of them, or with `backlog_only` those that have a backlog), a
/// task per block, the blocks handed back when every task is done.
async fn pass(
    blocks: &mut Vec<Block>,
    parts: Parts,
    backlog_only: bool,
    stall: Duration,
    counters: &CasterStatus,
) {
    let parts = Arc::new(parts);
    let mut tasks = tokio::task::JoinSet::new();
    let mut kept = Vec::with_capacity(blocks.len());
    for mut b in blocks.drain(..) {
        if b.slots.is_empty() || (backlog_only && !b.has_backlog()) {
            kept.push(b);
            continue;
        }
        let parts = parts.clone();
        tasks.spawn(async move {
            let r = b.send(&parts, stall);
            (b, r)
        });
    }
    // Totals once per pass: a counter shared by the cores, touched per client, would bounce
    // its cache line between them ten thousand times an epoch.
    let (mut bytes, mut dropped) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        // A task only fails when the runtime is going down; its clients' connection tasks
        // then see their `gone` channel close.
        if let Ok((b, (n, d))) = r {
            bytes += n;
            dropped += d;
            kept.push(b);
        }
    }
    counters.bytes_out.fetch_add(bytes, Ordering::Relaxed);
    counters
        .dropped_clients
        .fetch_add(dropped, Ordering::Relaxed);
    *blocks = kept;
}

/// A new client goes into the first block with room, so that blocks emptied by leavers refill.
fn place(blocks: &mut Vec<Block>, c: Client) {
    let slot = Slot {
        c,
        backlog: Vec::new(),
        since: None,
    };
    match blocks.iter_mut().find(|b| b.slots.len() < BLOCK) {
        Some(b) => b.slots.push(slot),
        None => blocks.push(Block { slots: vec![slot] }),
    }
}

async fn run(
    mut new: mpsc::UnboundedReceiver<Client>,
    mut chunks: broadcast::Receiver<Arc<[u8]>>,
    counters: Arc<CasterStatus>,
    stall: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut blocks: Vec<Block> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut lagged_logged = false;
    loop {
        tokio::select! {
            c = new.recv() => match c {
                Some(c) => place(&mut blocks, c),
                None => return,
            },
            r = chunks.recv() => match r {
                Ok(first) => {
                    // Clients that arrived while the last pass ran get this chunk too.
                    while let Ok(c) = new.try_recv() {
                        place(&mut blocks, c);
                    }
                    // Whatever else already waits goes out in the same write.
                    let mut raw: Vec<u8> = first.to_vec();
                    while raw.len() < 64 * 1024 {
                        match chunks.try_recv() {
                            Ok(b) => raw.extend_from_slice(&b),
                            Err(_) => break,
                        }
                    }
                    let any_v2 = blocks.iter().any(|b| b.slots.iter().any(|s| s.c.chunked));
                    let chunks = if any_v2 { http_chunks(&raw) } else { Vec::new() };
                    let parts = Parts { raw: vec![raw], chunks };
                    pass(&mut blocks, parts, false, stall, &counters).await;
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    // The fan-out itself fell behind: every client misses these chunks; better
                    // to drop them all than to send a stream with a hole.
                    let clients: usize = blocks.iter().map(|b| b.slots.len()).sum();
                    if !lagged_logged {
                        tracing::warn!(chunks = n, clients, "caster: the machine cannot keep up with this many clients; dropping them");
                        lagged_logged = true;
                    }
                    for s in blocks.drain(..).flat_map(|b| b.slots) {
                        counters.dropped_clients.fetch_add(1, Ordering::Relaxed);
                        let _ = s.c.gone.send("fell behind the stream");
                    }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = tick.tick() => {
                if blocks.iter().any(Block::has_backlog) {
                    let parts = Parts { raw: Vec::new(), chunks: Vec::new() };
                    pass(&mut blocks, parts, true, stall, &counters).await;
                }
            }
            _ = shutdown.changed() => break,
        }
    }
    for s in blocks.into_iter().flat_map(|b| b.slots) {
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
