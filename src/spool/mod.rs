//! The durable spool: time series are accepted once they are on local disk, and leave the disk
//! only after the database acknowledged them.
//!
//! # On-disk format
//!
//! A directory of segment files `NNNNNNNNNNNNNNNN.seg` (sequence number, 16 hex digits, so that
//! name order is write order) and one cursor file `ack`. A segment is a run of records:
//!
//! ```text
//! u32 LE  payload length n (1 ..= MAX_RECORD)
//! u32 LE  CRC-32 (IEEE) of the payload
//! n bytes payload: one batch of line protocol, lines ending in '\n'
//! ```
//!
//! `ack` holds `SEQ OFFSET\n`: every record before byte OFFSET of segment SEQ (and every
//! earlier segment) has been acknowledged.
//!
//! # Invariants
//!
//! * Records are only appended; a segment is never rewritten. The active (last) segment is
//!   synced to disk when it is closed, at shutdown and at most [`SYNC_EVERY`] after a write.
//! * Segments are deleted whole: when fully acknowledged (never the active one), or — losing
//!   data, logged at ERROR with the number of points — when the spool is over its byte cap or a
//!   segment is older than the age cap.
//! * Recovery after a crash or power loss: each segment is read up to its first record whose
//!   length or checksum is wrong (a write torn by the power cut); the active segment is truncated
//!   there, the lost tail is logged. Shipping resumes at the `ack` cursor, in write order.
//! * A batch may be sent twice (acknowledged by the server, then power lost before `ack` was
//!   written). Points carry their data timestamps and tags, so the database stores it once
//!   (InfluxDB overwrites; VictoriaMetrics with `-dedup.minScrapeInterval`).
//!
//! The file system is reached through [`SpoolFs`], so recovery can be tested with torn writes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Largest record payload (a batch is split before this).
pub const MAX_RECORD: usize = 64 << 20;
/// A segment is closed once it holds this many bytes.
pub const SEGMENT_BYTES: u64 = 8 << 20;
/// Longest time written data stays in the page cache only.
pub const SYNC_EVERY: Duration = Duration::from_secs(2);

/// Errors of the spool.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpoolError {
    /// The directory or a file could not be used.
    #[error("spool {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A record larger than [`MAX_RECORD`].
    #[error("record of {len} bytes exceeds the {max}-byte limit")]
    TooLarge { len: usize, max: usize },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where the spool keeps its files (a trait, so that tests can tear writes).
pub trait SpoolFs: Send {
    fn sync(&mut self, f: &File) -> io::Result<()> {
        f.sync_data()
    }
}

/// The real file system.
#[derive(Debug, Default)]
pub struct RealFs;
impl SpoolFs for RealFs {}

/// A record read back: where it is and what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub seq: u64,
    pub offset: u64,
    /// Offset just after the record.
    pub end: u64,
    pub payload: Vec<u8>,
}

/// What happened while opening or trimming.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpoolReport {
    /// Bytes cut from torn segment tails on recovery.
    pub torn_bytes: u64,
    /// Points dropped by the byte or age cap.
    pub evicted_points: u64,
    pub evicted_segments: u64,
}

/// Writer and reader of one spool directory.
pub struct Spool {
    dir: PathBuf,
    fs: Box<dyn SpoolFs>,
    active: Option<(u64, File, u64)>,
    next_seq: u64,
    last_sync: Instant,
    dirty: bool,
    ack: (u64, u64),
    max_bytes: u64,
    max_age: Duration,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("dir", &self.dir)
            .field("ack", &self.ack)
            .finish()
    }
}

fn seg_name(seq: u64) -> String {
    format!("{seq:016x}.seg")
}

/// CRC-32 (IEEE, reflected) lookup table, built at compile time.
const CRC32_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc = CRC32_TABLE[((crc ^ b as u32) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

/// Read up to `max` valid records of a segment from `from`; returns them, the end of the last
/// valid one (where a torn tail starts, when reading to the end) and the file's length.
fn read_records(
    path: &Path,
    seq: u64,
    from: u64,
    max: usize,
) -> io::Result<(Vec<Record>, u64, u64)> {
    let f = File::open(path)?;
    let len = f.metadata()?.len();
    let mut r = io::BufReader::with_capacity(256 * 1024, f);
    r.seek(SeekFrom::Start(from))?;
    let mut out = Vec::new();
    let mut at = from;
    while out.len() < max && len - at >= 8 {
        let mut head = [0u8; 8];
        if r.read_exact(&mut head).is_err() {
            break;
        }
        let n = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if n == 0 || n > MAX_RECORD || len - at - 8 < n as u64 {
            break;
        }
        let mut payload = vec![0u8; n];
        if r.read_exact(&mut payload).is_err() || crc32(&payload) != crc {
            break;
        }
        let end = at + 8 + n as u64;
        out.push(Record {
            seq,
            offset: at,
            end,
            payload,
        });
        at = end;
    }
    Ok((out, at, len))
}

fn count_lines(payload: &[u8]) -> u64 {
    payload.iter().filter(|&&b| b == b'\n').count() as u64
}

impl Spool {
    /// Open (or create) the spool in `dir`, recovering from a crash.
    pub fn open(
        dir: &Path,
        max_bytes: u64,
        max_age: Duration,
        fs: Box<dyn SpoolFs>,
    ) -> Result<(Spool, SpoolReport), SpoolError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let mut report = SpoolReport::default();
        let ack = match fs::read_to_string(dir.join("ack")) {
            Ok(s) => {
                let mut it = s.split_whitespace().map(|x| x.parse::<u64>());
                match (it.next(), it.next()) {
                    (Some(Ok(a)), Some(Ok(b))) => (a, b),
                    _ => (0, 0),
                }
            }
            Err(_) => (0, 0),
        };
        let mut spool = Spool {
            dir: dir.to_path_buf(),
            fs,
            active: None,
            next_seq: 0,
            last_sync: Instant::now(),
            dirty: false,
            ack,
            max_bytes,
            max_age,
        };
        let segs = spool.segments()?;
        if let Some(&(last, _)) = segs.last() {
            let path = spool.dir.join(seg_name(last));
            let (_, valid_end, len) =
                read_records(&path, last, 0, usize::MAX).map_err(io_err(&path))?;
            if valid_end < len {
                report.torn_bytes += len - valid_end;
                let f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(io_err(&path))?;
                f.set_len(valid_end).map_err(io_err(&path))?;
                f.sync_all().map_err(io_err(&path))?;
            }
            spool.next_seq = last + 1;
        }
        if let Some(&(first, _)) = segs.first()
            && spool.ack.0 < first
        {
            spool.ack = (first, 0);
        }
        let r = spool.enforce_caps()?;
        report.evicted_points += r.evicted_points;
        report.evicted_segments += r.evicted_segments;
        Ok((spool, report))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The segments on disk, oldest first, with their sizes.
    pub fn segments(&self) -> Result<Vec<(u64, u64)>, SpoolError> {
        let mut v = Vec::new();
        for e in fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let e = e.map_err(io_err(&self.dir))?;
            let name = e.file_name();
            let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".seg")) else {
                continue;
            };
            if let Ok(seq) = u64::from_str_radix(stem, 16) {
                let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                v.push((seq, len));
            }
        }
        v.sort_unstable();
        Ok(v)
    }

    /// Bytes on disk.
    pub fn bytes(&self) -> u64 {
        self.segments()
            .map(|s| s.iter().map(|x| x.1).sum())
            .unwrap_or(0)
    }

    /// Append one batch (line protocol). Accepted once this returns.
    pub fn append(&mut self, payload: &[u8]) -> Result<SpoolReport, SpoolError> {
        if payload.is_empty() {
            return Ok(SpoolReport::default());
        }
        if payload.len() > MAX_RECORD {
            return Err(SpoolError::TooLarge {
                len: payload.len(),
                max: MAX_RECORD,
            });
        }
        if self
            .active
            .as_ref()
            .is_some_and(|(_, _, len)| *len >= self.segment_bytes())
        {
            self.close_active()?;
        }
        if self.active.is_none() {
            let seq = self.next_seq;
            self.next_seq += 1;
            let path = self.dir.join(seg_name(seq));
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .map_err(io_err(&path))?;
            let len = f.metadata().map_err(io_err(&path))?.len();
            self.active = Some((seq, f, len));
        }
        let Some((seq, f, len)) = self.active.as_mut() else {
            unreachable!("opened above");
        };
        let mut rec = Vec::with_capacity(payload.len() + 8);
        rec.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        rec.extend_from_slice(&crc32(payload).to_le_bytes());
        rec.extend_from_slice(payload);
        let path = self.dir.join(seg_name(*seq));
        if let Err(e) = f.write_all(&rec) {
            // A full disk may have taken part of the record: cut it off, so that the records
            // appended once there is room again are not hidden behind a torn one.
            let _ = f.set_len(*len);
            return Err(io_err(&path)(e));
        }
        *len += rec.len() as u64;
        self.dirty = true;
        if self.last_sync.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        self.enforce_caps()
    }

    /// Segment size: [`SEGMENT_BYTES`], or a quarter of a small cap, so that eviction frees space
    /// in steps smaller than the cap.
    fn segment_bytes(&self) -> u64 {
        SEGMENT_BYTES.min((self.max_bytes / 4).max(4096))
    }

    /// Force written records to disk.
    pub fn sync(&mut self) -> Result<(), SpoolError> {
        if let Some((seq, f, _)) = &self.active
            && self.dirty
        {
            let path = self.dir.join(seg_name(*seq));
            self.fs.sync(f).map_err(io_err(&path))?;
        }
        self.dirty = false;
        self.last_sync = Instant::now();
        Ok(())
    }

    fn close_active(&mut self) -> Result<(), SpoolError> {
        self.sync()?;
        self.active = None;
        Ok(())
    }

    /// The active segment's sequence number, if one is open.
    pub fn active_seq(&self) -> Option<u64> {
        self.active.as_ref().map(|a| a.0)
    }

    /// Up to `max` records after the acknowledgement cursor, in order.
    pub fn pending(&self, max: usize) -> Result<Vec<Record>, SpoolError> {
        let mut out = Vec::new();
        for (seq, _) in self.segments()? {
            if seq < self.ack.0 {
                continue;
            }
            let from = if seq == self.ack.0 { self.ack.1 } else { 0 };
            let path = self.dir.join(seg_name(seq));
            let (recs, _, _) = match read_records(&path, seq, from, max - out.len()) {
                Ok(r) => r,
                // Evicted between listing and reading: the next segment follows.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err(&path)(e)),
            };
            for r in recs {
                out.push(r);
                if out.len() >= max {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    /// Mark everything up to and including `rec` as delivered; delete whole segments before it.
    pub fn ack(&mut self, rec: &Record) -> Result<(), SpoolError> {
        self.ack = (rec.seq, rec.end);
        let tmp = self.dir.join("ack.tmp");
        let path = self.dir.join("ack");
        fs::write(&tmp, format!("{} {}\n", rec.seq, rec.end)).map_err(io_err(&tmp))?;
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        let active = self.active_seq();
        for (seq, len) in self.segments()? {
            let done = seq < rec.seq || (seq == rec.seq && rec.end >= len);
            if done && Some(seq) != active {
                let p = self.dir.join(seg_name(seq));
                fs::remove_file(&p).map_err(io_err(&p))?;
            }
        }
        Ok(())
    }

    /// Records not yet acknowledged (approximate: whole segments after the cursor).
    pub fn backlog_bytes(&self) -> u64 {
        self.segments()
            .map(|s| {
                s.iter()
                    .filter(|(seq, _)| *seq >= self.ack.0)
                    .map(|(seq, len)| {
                        if *seq == self.ack.0 {
                            len.saturating_sub(self.ack.1)
                        } else {
                            *len
                        }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }

    /// Apply the byte and age caps: drop the oldest segments, counting the points lost.
    fn enforce_caps(&mut self) -> Result<SpoolReport, SpoolError> {
        let mut report = SpoolReport::default();
        let segs = self.segments()?;
        let mut total: u64 = segs.iter().map(|s| s.1).sum();
        let now = SystemTime::now();
        for (seq, len) in segs {
            let path = self.dir.join(seg_name(seq));
            let old = fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|age| age > self.max_age);
            let over = total > self.max_bytes;
            if !(over || old) {
                break;
            }
            if self.active_seq() == Some(seq) {
                // Never delete the file being written: close it, the next write opens a new one.
                self.close_active()?;
            }
            let from = if seq == self.ack.0 { self.ack.1 } else { 0 };
            let lost = if seq >= self.ack.0 {
                read_records(&path, seq, from, usize::MAX)
                    .map(|(r, _, _)| r.iter().map(|x| count_lines(&x.payload)).sum())
                    .unwrap_or(0)
            } else {
                0
            };
            fs::remove_file(&path).map_err(io_err(&path))?;
            total = total.saturating_sub(len);
            report.evicted_points += lost;
            report.evicted_segments += 1;
            if self.ack.0 <= seq {
                self.ack = (seq + 1, 0);
            }
        }
        if report.evicted_segments > 0 {
            tracing::error!(
                dir = %self.dir.display(),
                segments = report.evicted_segments,
                points = report.evicted_points,
                max_bytes = self.max_bytes,
                max_age_s = self.max_age.as_secs(),
                "spool full or too old: oldest data dropped unsent; the database has been unreachable too long, raise spool_max_bytes or fix the connection"
            );
        }
        Ok(report)
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = self.sync();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("corsd-spool-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn open(d: &Path, max: u64) -> Spool {
        Spool::open(d, max, Duration::from_secs(3600), Box::new(RealFs))
            .unwrap()
            .0
    }

    #[test]
    fn crc_reference_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn append_ack_reopen() {
        let d = tmp("basic");
        let mut s = open(&d, 1 << 30);
        s.append(b"m v=1 1\n").unwrap();
        s.append(b"m v=2 2\nm v=3 3\n").unwrap();
        let p = s.pending(10).unwrap();
        assert_eq!(p.len(), 2);
        s.ack(&p[0]).unwrap();
        drop(s);
        let s = open(&d, 1 << 30);
        let p = s.pending(10).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].payload, b"m v=2 2\nm v=3 3\n");
    }

    #[test]
    fn torn_tail_is_cut_and_the_rest_kept() {
        let d = tmp("torn");
        let mut s = open(&d, 1 << 30);
        s.append(b"a v=1 1\n").unwrap();
        s.append(b"b v=2 2\n").unwrap();
        drop(s);
        // A power cut in the middle of a third record.
        let seg = d.join(seg_name(0));
        let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all(&[20, 0, 0, 0, 1, 2, 3, 4, b'c', b' ']).unwrap();
        drop(f);
        let (mut s, rep) =
            Spool::open(&d, 1 << 30, Duration::from_secs(3600), Box::new(RealFs)).unwrap();
        assert_eq!(rep.torn_bytes, 10);
        assert_eq!(s.pending(10).unwrap().len(), 2);
        // Writing goes on after the cut, in a new segment.
        s.append(b"d v=4 4\n").unwrap();
        let all: Vec<Vec<u8>> = s
            .pending(10)
            .unwrap()
            .into_iter()
            .map(|r| r.payload)
            .collect();
        assert_eq!(
            all,
            vec![
                b"a v=1 1\n".to_vec(),
                b"b v=2 2\n".to_vec(),
                b"d v=4 4\n".to_vec()
            ]
        );
    }

    #[test]
    fn cap_drops_oldest_and_counts() {
        let d = tmp("cap");
        let mut s = open(&d, 1 << 30);
        let line = vec![b'x'; 1000];
        let mut batch = Vec::new();
        for _ in 0..1000 {
            batch.extend_from_slice(&line);
            batch.push(b'\n');
        }
        // 1 MB per record; a segment closes past 8 MiB, after 9 records: 20 make 9 + 9 + 2.
        for _ in 0..20 {
            s.append(&batch).unwrap();
        }
        assert_eq!(s.segments().unwrap().len(), 3);
        s.max_bytes = 12 << 20;
        let rep = s.append(&batch).unwrap();
        assert_eq!(rep.evicted_segments, 1);
        assert_eq!(rep.evicted_points, 9 * 1000);
        assert_eq!(s.pending(100).unwrap().len(), 21 - 9);
    }

    #[test]
    fn acknowledged_segments_are_deleted() {
        let d = tmp("delete");
        let mut s = open(&d, 1 << 30);
        let big = vec![b'y'; (SEGMENT_BYTES as usize) + 10];
        let mut big = big;
        big.push(b'\n');
        s.append(&big).unwrap();
        s.append(b"z v=1 1\n").unwrap();
        assert_eq!(s.segments().unwrap().len(), 2);
        let p = s.pending(10).unwrap();
        s.ack(&p[0]).unwrap();
        assert_eq!(s.segments().unwrap().len(), 1);
        s.ack(&p[1]).unwrap();
        // The active segment stays until it is closed.
        assert_eq!(s.segments().unwrap().len(), 1);
        assert!(s.pending(10).unwrap().is_empty());
    }
}
