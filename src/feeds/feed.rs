//! One output's byte stream, made once from what the station publishes and shared by everyone
//! who takes it: every client of a mountpoint, a push to a remote caster, a TCP or serial output.
//!
//! A feed applies its message set to the station's frames (str2str's syntax, by data time, with
//! MSM4 and 1004/1012 made from MSM7 where asked, see [`Transcoder`]) or encodes the code
//! corrections the station publishes as RTCM 2.3 ([`Rtcm2Encoder`]: nothing is decoded or
//! solved a second time), and publishes the bytes on a broadcast channel. Doing it once per feed
//! rather than once per client is what lets ten thousand rovers share a mountpoint: each client
//! only copies an `Arc` out of the channel. The channel's capacity is each consumer's queue: a
//! consumer that falls that far behind gets `Lagged` and is dropped, and nobody else waits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{broadcast, watch};

use super::message_set::{BroadcastArp, Format, MessageRate};
use super::rtcm2::Rtcm2Encoder;
use super::transcode::Transcoder;
use crate::framing::rtcm3::epoch_mark;
use crate::framing::{FrameKind, RawFrame};
use crate::gnss::corrections::EpochCorrections;

/// Chunks a consumer may fall behind before it is dropped (an epoch is usually one chunk: minutes
/// of a 1 Hz station, a few MB at most).
pub const FEED_QUEUE: usize = 512;

/// Frames that arrive together are sent as one chunk up to this size.
pub const MAX_CHUNK: usize = 32 * 1024;

/// How long a chunk waits for the rest of an epoch its last frame announced. A receiver on a
/// fast link sends an epoch's MSMs back to back (microseconds apart); on a slow serial line
/// (an epoch of 2 kB takes 170 ms at 115 200 Bd) the frames leave one by one as before.
pub const EPOCH_WAIT: std::time::Duration = std::time::Duration::from_millis(20);

/// How long a chunk that ends in a frame other than an observation waits for more of the same
/// burst.
pub const BURST_GAP: std::time::Duration = std::time::Duration::from_millis(2);

/// What the station publishes that feeds are made from.
#[derive(Clone, Debug)]
pub struct Streams {
    /// Every checked frame, in order.
    pub frames: broadcast::Sender<RawFrame>,
    /// Each epoch's code corrections against the surveyed position (sent only while a DGNSS
    /// output exists).
    pub corrections: broadcast::Sender<Arc<EpochCorrections>>,
}

impl Streams {
    /// Channels with room for `frames` frames and `epochs` epochs of corrections per consumer.
    pub fn new(frames: usize, epochs: usize) -> Self {
        Streams {
            frames: broadcast::channel(frames).0,
            corrections: broadcast::channel(epochs).0,
        }
    }
}

/// A running feed.
#[derive(Clone, Debug)]
pub struct Feed {
    pub tx: broadcast::Sender<Arc<[u8]>>,
    pub format: Format,
    /// Chunks published.
    pub chunks: Arc<AtomicU64>,
}

impl Feed {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<[u8]>> {
        self.tx.subscribe()
    }
}

/// Start a feed over what the station publishes.
pub fn spawn(format: Format, streams: &Streams, shutdown: watch::Receiver<bool>) -> Feed {
    let (tx, _) = broadcast::channel(FEED_QUEUE);
    let feed = Feed {
        tx: tx.clone(),
        format: format.clone(),
        chunks: Arc::default(),
    };
    let chunks = feed.chunks.clone();
    match format {
        Format::Rtcm3 { messages, arp } => {
            let frames = streams.frames.subscribe();
            tokio::spawn(rtcm3(messages, arp, frames, tx, chunks, shutdown));
        }
        Format::Rtcm2 { station_id } => {
            let corrections = streams.corrections.subscribe();
            tokio::spawn(rtcm2(station_id, corrections, tx, chunks, shutdown));
        }
    }
    feed
}

/// Logs the first time a feed falls behind what it reads.
fn lag_logger(what: &'static str) -> impl FnMut(u64) {
    let mut logged = false;
    move |n: u64| {
        if !logged {
            tracing::warn!(
                skipped = n,
                what,
                "an output fell behind the station stream and skipped some (the machine is overloaded)"
            );
            logged = true;
        }
    }
}

/// RTCM 2.3: one chunk per epoch of corrections.
async fn rtcm2(
    station_id: u16,
    mut corrections: broadcast::Receiver<Arc<EpochCorrections>>,
    tx: broadcast::Sender<Arc<[u8]>>,
    chunks: Arc<AtomicU64>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut encoder = Rtcm2Encoder::new(station_id);
    let mut lagged = lag_logger("corrections");
    loop {
        let c = tokio::select! {
            c = corrections.recv() => c,
            _ = shutdown.changed() => return,
        };
        match c {
            Ok(c) => {
                let bytes = encoder.encode(&c);
                if !bytes.is_empty() {
                    chunks.fetch_add(1, Ordering::Relaxed);
                    // No subscriber is fine: a mountpoint without clients.
                    let _ = tx.send(Arc::from(bytes));
                }
            }
            Err(broadcast::error::RecvError::Lagged(n)) => lagged(n),
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// RTCM3 on a message set: frames in, chunks out.
async fn rtcm3(
    set: Vec<MessageRate>,
    arp: Option<BroadcastArp>,
    mut frames: broadcast::Receiver<RawFrame>,
    tx: broadcast::Sender<Arc<[u8]>>,
    chunks: Arc<AtomicU64>,
    mut shutdown: watch::Receiver<bool>,
) {
    // An empty set passes every frame untouched.
    let mut transcoder = (!set.is_empty()).then(|| Transcoder::new(&set));
    let mut lagged = lag_logger("frames");
    loop {
        let f = tokio::select! {
            f = frames.recv() => f,
            _ = shutdown.changed() => return,
        };
        // An epoch leaves as one chunk, so that each consumer wakes and writes once per epoch,
        // not once per frame: what keeps ten thousand clients within milliseconds of each other.
        // Frames already waiting join the chunk. While the last one taken says more of its epoch
        // follow (the MSM multiple-message bit, 1004/1012's synchronous flag), the next is
        // awaited for up to EPOCH_WAIT; after a frame that is not an observation (1006, 1230,
        // an ephemeris: MSMs may follow in the same burst) for up to BURST_GAP; after an
        // epoch's last observation, not at all. Without the waits a chunk ends wherever this
        // task happened to catch up with the source, and an epoch split in two costs a second
        // pass over every client (measured: +45 ms for the later clients at ten thousand).
        let mut batch: Vec<u8> = Vec::new();
        let mut next = Some(f);
        while let Some(f) = next.take() {
            let mut wait = None;
            match f {
                Ok(f) => {
                    wait = match epoch_mark(&f.bytes) {
                        Some(true) => Some(EPOCH_WAIT),
                        Some(false) => None,
                        None => Some(BURST_GAP),
                    };
                    // Frames that are not RTCM3 (NMEA, UBX) are not sent.
                    let mut put = |out: &[u8]| match arp.as_ref().and_then(|a| a.rewrite(out)) {
                        Some(ours) => batch.extend_from_slice(&ours),
                        None => batch.extend_from_slice(out),
                    };
                    match transcoder.as_mut() {
                        _ if f.kind != FrameKind::Rtcm3 => {}
                        Some(t) => {
                            for out in t.feed(&f) {
                                put(&out);
                            }
                        }
                        None => put(&f.bytes),
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => lagged(n),
                Err(broadcast::error::RecvError::Closed) => return,
            }
            if batch.len() >= MAX_CHUNK {
                break;
            }
            next = match frames.try_recv() {
                Ok(f) => Some(Ok(f)),
                Err(broadcast::error::TryRecvError::Lagged(n)) => {
                    Some(Err(broadcast::error::RecvError::Lagged(n)))
                }
                Err(broadcast::error::TryRecvError::Empty) => match wait {
                    Some(w) => tokio::time::timeout(w, frames.recv()).await.ok(),
                    None => None,
                },
                Err(_) => None,
            };
        }
        if !batch.is_empty() {
            chunks.fetch_add(1, Ordering::Relaxed);
            // No subscriber is fine: a mountpoint without clients.
            let _ = tx.send(Arc::from(batch));
        }
    }
}
