//! A recording read in two passes, for a session that needs only the current epoch of each
//! receiver: a first pass decodes everything but the observations (ephemerides, antenna,
//! position, the epochs' times) so that the whole file's ephemerides serve the first epoch, then
//! the epochs are decoded one at a time as they are asked for. Holding two recordings' epochs
//! whole took tens of megabytes, and the time to touch and free them.
//!
//! The epochs come out exactly as [`super::recording::read_of`] gives them (sorted by time,
//! one per time): a stream whose epochs are out of order is read whole instead.

use std::collections::VecDeque;
use std::io::Read;
use std::path::Path;

use super::recording::{CHUNK, Recording, is_rinex_obs, read_of, read_rtcm};
use crate::framing::{FrameKind, Framer};
use crate::gnss::Gnss;
use crate::gnss::obs::Epoch;
use crate::gnss::time::Gpst;
use crate::messages::rtcm3;
use crate::station::state::StationState;

type Result<T> = std::result::Result<T, String>;

/// A recording's facts (its `epochs` left empty) and its epochs, in time order.
pub struct Opened {
    pub recording: Recording,
    pub epochs: Epochs,
}

/// The epochs of a recording, one at a time.
pub struct Epochs {
    /// How many there are.
    pub len: usize,
    /// Times of the first and the last.
    pub first: Gpst,
    pub last: Gpst,
    source: Source,
}

enum Source {
    Held(std::vec::IntoIter<Epoch>),
    Stream(Box<Reader>),
}

/// Opens a recording: an RTCM3 stream in time order streams; RINEX and anything else are
/// read whole. Only the satellites of `systems` are kept (all when `None`).
pub fn open(path: &Path, reference: Option<Gpst>, systems: Option<&[Gnss]>) -> Result<Opened> {
    if !is_rinex_obs(path) {
        let mut times = Times::default();
        let recording = read_rtcm(
            path,
            reference,
            rtcm3::decode_without_observations,
            &mut |e| times.add(e.time),
        )?;
        if times.ordered
            && let (Some(first), Some(last)) = (times.first, times.last)
        {
            let reader = Reader::new(path, reference, systems)?;
            return Ok(Opened {
                recording,
                epochs: Epochs {
                    len: times.distinct,
                    first,
                    last,
                    source: Source::Stream(Box::new(reader)),
                },
            });
        }
    }
    let mut recording = read_of(path, reference, systems)?;
    let epochs = std::mem::take(&mut recording.epochs);
    let first = epochs.first().map(|e| e.time).unwrap_or_default();
    let last = epochs.last().map(|e| e.time).unwrap_or(first);
    Ok(Opened {
        recording,
        epochs: Epochs {
            len: epochs.len(),
            first,
            last,
            source: Source::Held(epochs.into_iter()),
        },
    })
}

impl Epochs {
    /// The next epoch; `Err` when the file can no longer be read.
    pub fn next_epoch(&mut self) -> Result<Option<Epoch>> {
        match &mut self.source {
            Source::Held(it) => Ok(it.next()),
            Source::Stream(r) => r.next_epoch(),
        }
    }
}

/// The epoch times of a first pass: whether they never go back, and how many differ.
#[derive(Default)]
struct Times {
    first: Option<Gpst>,
    last: Option<Gpst>,
    distinct: usize,
    ordered: bool,
}

impl Times {
    fn add(&mut self, t: Gpst) {
        match self.last {
            None => {
                self.first = Some(t);
                self.ordered = true;
                self.distinct = 1;
            }
            Some(l) if l == t => {}
            Some(l) => {
                self.ordered &= t.diff(l) > 0.0;
                self.distinct += 1;
            }
        }
        self.last = Some(t);
    }
}

/// The second pass: frames decoded as the epochs are asked for.
struct Reader {
    file: std::fs::File,
    path: std::path::PathBuf,
    framer: Framer,
    state: StationState,
    chunk: Vec<u8>,
    ready: VecDeque<Epoch>,
    systems: Option<Vec<Gnss>>,
    last: Option<Gpst>,
    eof: bool,
}

impl Reader {
    fn new(path: &Path, reference: Option<Gpst>, systems: Option<&[Gnss]>) -> Result<Reader> {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(Reader {
            file,
            path: path.to_path_buf(),
            framer: Framer::new(),
            state: StationState::new(reference),
            chunk: vec![0u8; CHUNK],
            ready: VecDeque::new(),
            systems: systems.map(<[Gnss]>::to_vec),
            last: None,
            eof: false,
        })
    }

    fn next_epoch(&mut self) -> Result<Option<Epoch>> {
        loop {
            while let Some(mut e) = self.ready.pop_front() {
                // One epoch per time, the first, as the whole read keeps it.
                if self.last == Some(e.time) {
                    continue;
                }
                self.last = Some(e.time);
                if let Some(keep) = &self.systems {
                    e.sats.retain(|s| keep.contains(&s.sys));
                }
                return Ok(Some(e));
            }
            if self.eof {
                return Ok(None);
            }
            self.fill()?;
        }
    }

    /// Reads a chunk and decodes its frames; at the end of the file, what the state still holds.
    fn fill(&mut self) -> Result<()> {
        let n = loop {
            match self.file.read(&mut self.chunk) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("cannot read {}: {e}", self.path.display())),
            }
        };
        if n == 0 {
            self.eof = true;
            self.framer.finish();
        } else {
            self.framer.push(&self.chunk[..n]);
        }
        while let Some(f) = self.framer.next_frame() {
            if f.kind != FrameKind::Rtcm3 {
                continue;
            }
            if let Ok(m) = rtcm3::decode(f.payload())
                && let Some(e) = self.state.push(&m)
            {
                self.ready.push_back(e);
                while let Some(e) = self.state.take_ready() {
                    self.ready.push_back(e);
                }
            }
        }
        if self.eof {
            while let Some(e) = self.state.finish() {
                self.ready.push_back(e);
            }
        }
        Ok(())
    }
}
