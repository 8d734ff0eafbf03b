//! One output's byte stream, made once from the station's frames and shared by everyone who
//! takes it: every client of a mountpoint, a push to a remote caster, a TCP or serial output.
//!
//! A feed applies its message set (str2str's syntax, by data time, with MSM4 and 1004/1012 made
//! from MSM7 where asked, see [`crate::feeds::transcode::Transcoder`]) or turns the stream into RTCM 2.3
//! DGNSS corrections, and publishes the bytes on a broadcast channel. Doing it once per feed
//! rather than once per client is what lets ten thousand rovers share a mountpoint: each client
//! only copies an `Arc` out of the channel. The channel's capacity is each consumer's queue: a
//! consumer that falls that far behind gets `Lagged` and is dropped, and nobody else waits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use nalgebra::Vector3;
use tokio::sync::{broadcast, watch};

use super::message_set::Format;
use crate::framing::rtcm3::epoch_mark;
use crate::framing::{FrameKind, RawFrame};
use crate::station::pipeline::{Output, Pipeline, PipelineConfig};

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

/// Start a feed over the station's frames. `station` is the surveyed position RTCM 2.3 needs.
pub fn spawn(
    format: Format,
    frames: broadcast::Receiver<RawFrame>,
    station: Option<Vector3<f64>>,
    shutdown: watch::Receiver<bool>,
) -> Feed {
    let (tx, _) = broadcast::channel(FEED_QUEUE);
    let feed = Feed {
        tx: tx.clone(),
        format: format.clone(),
        chunks: Arc::default(),
    };
    tokio::spawn(run(
        format,
        frames,
        station,
        tx,
        feed.chunks.clone(),
        shutdown,
    ));
    feed
}

async fn run(
    format: Format,
    mut frames: broadcast::Receiver<RawFrame>,
    station: Option<Vector3<f64>>,
    tx: broadcast::Sender<Arc<[u8]>>,
    chunks: Arc<AtomicU64>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut maker = Maker::new(&format, station);
    let mut lagged_logged = false;
    let mut lagged = |n: u64| {
        if !lagged_logged {
            tracing::warn!(
                frames = n,
                "an output fell behind the station stream and skipped frames (the machine is overloaded)"
            );
            lagged_logged = true;
        }
    };
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
                    for out in maker.feed(&f) {
                        batch.extend_from_slice(&out);
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

/// The synchronous part: frames in, chunks out (also used by tests and benches).
pub struct Maker {
    kind: MakerKind,
}

enum MakerKind {
    All,
    Set(Box<crate::feeds::transcode::Transcoder>),
    /// Made at the first frame that carries a time: a stream without 1013 is dated by the
    /// station pipeline's reference, which the frames carry.
    Rtcm2 {
        pipeline: Option<Box<Pipeline>>,
        out: Output,
        station_id: u16,
        station: Option<Vector3<f64>>,
    },
}

impl Maker {
    pub fn new(format: &Format, station: Option<Vector3<f64>>) -> Self {
        let kind = match format {
            Format::Rtcm3(set) if set.is_empty() => MakerKind::All,
            Format::Rtcm3(set) => {
                MakerKind::Set(Box::new(crate::feeds::transcode::Transcoder::new(set)))
            }
            Format::Rtcm2 { station_id } => MakerKind::Rtcm2 {
                pipeline: None,
                out: Output::default(),
                station_id: *station_id,
                station,
            },
        };
        Maker { kind }
    }

    pub fn feed(&mut self, f: &RawFrame) -> Vec<Arc<[u8]>> {
        if f.kind != FrameKind::Rtcm3 {
            return Vec::new();
        }
        self.make(f).unwrap_or_default()
    }

    fn make(&mut self, f: &RawFrame) -> Option<Vec<Arc<[u8]>>> {
        match &mut self.kind {
            MakerKind::All => Some(vec![f.bytes.clone()]),
            MakerKind::Set(t) => Some(t.feed(f).into_iter().map(Arc::from).collect()),
            MakerKind::Rtcm2 {
                pipeline,
                out,
                station_id,
                station,
            } => {
                if pipeline.is_none() {
                    let reference = crate::gnss::time::Gpst::from_gps_ns(f.data_time_ns?);
                    *pipeline = Some(Box::new(Pipeline::new(PipelineConfig {
                        source: "rtcm2".into(),
                        truth: *station,
                        points: false,
                        reference: Some(reference),
                        rtcm2_station: Some(*station_id),
                        ..Default::default()
                    })));
                }
                let p = pipeline.as_mut()?;
                out.clear();
                p.push(&f.bytes, out);
                Some(if out.rtcm2.is_empty() {
                    Vec::new()
                } else {
                    vec![Arc::from(std::mem::take(&mut out.rtcm2))]
                })
            }
        }
    }
}
