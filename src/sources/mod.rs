//! Sources (DESIGN §1 step 1) make bytes and say what happens to their link; nothing more (the
//! station's [runner](crate::station::runner) frames and decodes what they deliver). Each kind
//! opens its link in its own file; this module is what they share: the visible state machine
//! `connecting → streaming → stalled → backoff → connecting …`, a no-data watchdog, and
//! jittered exponential backoff (1 s → 5 min) that is reset only once a connection has
//! delivered valid frames (the runner says so with [`Source::delivered`]) — a caster that
//! accepts and then sends nothing is retried ever more slowly, never in a fast loop. Host names
//! are resolved again on every connection. A serial port that vanished reads `Ok(0)` forever on
//! Linux: end of data is a disconnect like any other.

pub mod file;
pub mod ntrip_client;
pub mod receiver;
pub mod serial;
pub mod simulator;
pub mod stdin;
pub mod tcp;
pub mod tcp_server;
pub mod udp;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use nalgebra::Vector3;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::watch;
use tokio::time::Interval;

use crate::backoff::Backoff;
use ntrip_client::{NtripError, NtripSettings};

/// Where a source's bytes come from.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceKind {
    Serial {
        path: PathBuf,
        baud: u32,
    },
    Tcp {
        address: String,
    },
    TcpServer {
        listen: SocketAddr,
    },
    Ntrip(NtripSettings),
    Udp {
        listen: SocketAddr,
    },
    File {
        path: PathBuf,
        speed: f64,
        looped: bool,
        /// Date of the recording (for streams without 1013).
        date: Option<chrono::NaiveDate>,
    },
    Stdin,
    /// The built-in simulator at the live clock (the demo station).
    Simulate {
        seed: u64,
        msm: u8,
    },
}

/// Which of a source's protocols its observation epochs come from (`format` of a
/// `[[source]]`). Frames of every protocol are framed and counted either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputFormat {
    /// Whichever gives the first epoch: RTCM3 MSM or u-blox RXM-RAWX.
    #[default]
    Auto,
    Rtcm3,
    /// A u-blox receiver's raw measurements; the station sends MSM made from them.
    Ubx,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SourceSettings {
    pub name: String,
    pub kind: SourceKind,
    pub format: InputFormat,
    /// The receiver behind the link, set up on every connection.
    pub receiver: Option<receiver::ReceiverSettings>,
    /// No byte for this long: the link is stalled and is reopened.
    pub watchdog: Duration,
}

impl SourceKind {
    /// The `kind` of the configuration.
    pub fn name(&self) -> &'static str {
        match self {
            SourceKind::Serial { .. } => "serial",
            SourceKind::Tcp { .. } => "tcp",
            SourceKind::TcpServer { .. } => "tcp-server",
            SourceKind::Ntrip(_) => "ntrip",
            SourceKind::Udp { .. } => "udp",
            SourceKind::File { .. } => "file",
            SourceKind::Stdin => "stdin",
            SourceKind::Simulate { .. } => "simulate",
        }
    }
}

/// Where a source is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Connecting,
    Streaming,
    Stalled,
    Backoff,
    Finished,
    Stopped,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Connecting => "connecting",
            State::Streaming => "streaming",
            State::Stalled => "stalled",
            State::Backoff => "backoff",
            State::Finished => "finished",
            State::Stopped => "stopped",
        }
    }
}

/// Why a source could not open or read its link.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("cannot open serial port {}: {source}", path.display())]
    Serial {
        path: PathBuf,
        #[source]
        source: tokio_serial::Error,
    },
    #[error("cannot connect to {address}: {source}")]
    Connect {
        address: String,
        #[source]
        source: tcp::ConnectError,
    },
    #[error("cannot listen on {listen}: {source}")]
    Listen {
        listen: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on udp {listen}: {source}")]
    UdpListen {
        listen: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("accept on {listen}: {source}")]
    Accept {
        listen: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open {}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("read: {0}")]
    Read(#[source] std::io::Error),
    #[error("udp: {0}")]
    Udp(#[source] std::io::Error),
    #[error("sending GGA: {0}")]
    Gga(#[source] std::io::Error),
    #[error(transparent)]
    Ntrip(#[from] NtripError),
}

/// Why a connection ended.
#[derive(Debug)]
pub enum End {
    /// The peer closed, or the device went away.
    Eof,
    /// No byte within the watchdog time.
    Stalled,
    Error(SourceError),
}

/// What happened to a source, in order.
#[derive(Debug)]
pub enum Event {
    /// A connection attempt starts; `reconnect` when it is not the first (the partial frame of
    /// the previous connection must not join the new bytes).
    Connecting { reconnect: bool },
    /// The link is open and bytes may come.
    Streaming,
    /// Bytes arrived: the buffer given to [`Source::next`] holds them.
    Data,
    /// No datagram within the watchdog time; a datagram source stays bound.
    Stalled,
    /// The connection ended; the next attempt comes after `delay`.
    Down { end: End, delay: Duration },
    /// A recording reached its end; when `looped` it starts again.
    FileEnd { looped: bool },
    /// Shut down (or a recording that is not looped is done).
    Stopped,
}

/// A connected byte stream.
pub type Reader = Box<dyn AsyncRead + Unpin + Send>;
pub type Writer = Box<dyn AsyncWrite + Unpin + Send>;

/// Bytes asked of a stream per read (a paced file then releases what it read epoch by epoch).
pub const STREAM_READ: usize = 16 * 1024;
/// The largest datagram.
pub const DATAGRAM: usize = 65_536;

/// An open byte stream, with what it may send back.
pub struct Link {
    pub reader: Reader,
    /// Kept open for the life of the link (an NTRIP client's GGA uploads).
    pub writer: Option<Writer>,
    /// Send the station's GGA this often.
    pub gga: Option<Interval>,
}

impl Link {
    pub fn reader(reader: Reader) -> Self {
        Link {
            reader,
            writer: None,
            gga: None,
        }
    }
}

/// An open session of any kind.
enum Session {
    Bytes(Link),
    Datagrams(UdpSocket),
    Simulated(Box<simulator::Live>),
}

enum Phase {
    Start,
    Open,
    Stream(Session),
    Wait(Duration),
    Done,
}

/// What one read gave.
enum Read {
    Data,
    Stalled,
    End(End),
    Shutdown,
}

/// One source: its link, watchdog and backoff. [`Source::next`] drives it.
pub struct Source {
    settings: SourceSettings,
    /// Station name and surveyed position: the simulator's, and the GGA an NTRIP client sends.
    station: String,
    position: Option<Vector3<f64>>,
    shutdown: watch::Receiver<bool>,
    backoff: Backoff,
    phase: Phase,
    /// A TCP server's listener, kept from one connection to the next.
    listener: Option<TcpListener>,
    attempts: u64,
    delivered: bool,
    /// A looped recording reached its end and is opened again.
    rewound: bool,
    /// Bytes the receiver sent while it was being set up, delivered first.
    pending: Vec<u8>,
}

impl Source {
    pub fn new(
        settings: SourceSettings,
        station: &str,
        position: Option<Vector3<f64>>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Source {
            settings,
            station: station.into(),
            position,
            shutdown,
            backoff: Backoff::standard(),
            phase: Phase::Start,
            listener: None,
            attempts: 0,
            delivered: false,
            rewound: false,
            pending: Vec::new(),
        }
    }

    pub fn settings(&self) -> &SourceSettings {
        &self.settings
    }

    /// The current connection delivered valid frames: its end will not lengthen the backoff.
    pub fn delivered(&mut self) {
        self.delivered = true;
    }

    /// The next thing that happens; for [`Event::Data`], `buf` holds the bytes.
    pub async fn next(&mut self, buf: &mut Vec<u8>) -> Event {
        loop {
            match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Done => return Event::Stopped,
                Phase::Start => {
                    if *self.shutdown.borrow() {
                        return Event::Stopped;
                    }
                    // A looped recording opened again is its next pass, not a reconnection.
                    let reconnect = self.attempts > 0 && !std::mem::take(&mut self.rewound);
                    self.attempts += 1;
                    self.delivered = false;
                    self.phase = Phase::Open;
                    return Event::Connecting { reconnect };
                }
                Phase::Open => match self.open().await {
                    Ok(Some(s)) => {
                        self.phase = Phase::Stream(s);
                        return Event::Streaming;
                    }
                    Ok(None) => return Event::Stopped,
                    Err(e) => return self.down(End::Error(e)),
                },
                Phase::Stream(mut s) => match self.read(&mut s, buf).await {
                    Read::Data => {
                        self.phase = Phase::Stream(s);
                        return Event::Data;
                    }
                    Read::Stalled => {
                        self.phase = Phase::Stream(s);
                        return Event::Stalled;
                    }
                    Read::Shutdown => return Event::Stopped,
                    Read::End(End::Eof)
                        if let SourceKind::File { looped, .. } = self.settings.kind =>
                    {
                        self.phase = if looped { Phase::Start } else { Phase::Done };
                        self.rewound = looped;
                        return Event::FileEnd { looped };
                    }
                    Read::End(end) => return self.down(end),
                },
                Phase::Wait(delay) => {
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = self.shutdown.changed() => {}
                    }
                    self.phase = Phase::Start;
                }
            }
        }
    }

    fn down(&mut self, end: End) -> Event {
        if self.delivered {
            self.backoff.reset();
        }
        let delay = self.backoff.next_delay();
        self.phase = Phase::Wait(delay);
        Event::Down { end, delay }
    }

    /// Open the link; `None` when shut down meanwhile.
    async fn open(&mut self) -> Result<Option<Session>, SourceError> {
        let bytes = |r: Reader| Ok(Some(Session::Bytes(Link::reader(r))));
        let mut link = match &self.settings.kind {
            SourceKind::Serial { path, baud } => serial::open(path, *baud)?,
            SourceKind::Tcp { address } => {
                let (r, w) = tokio::io::split(tcp::connect(address).await?);
                Link {
                    reader: Box::new(r),
                    writer: Some(Box::new(w)),
                    gga: None,
                }
            }
            _ => return self.open_other(bytes).await,
        };
        if let Some(r) = &self.settings.receiver {
            let (seen, _) = receiver::set_up(&mut link, r, &self.settings.name).await;
            self.pending = seen;
        }
        Ok(Some(Session::Bytes(link)))
    }

    /// Open a link that is not set up as a receiver.
    async fn open_other(
        &mut self,
        bytes: impl Fn(Reader) -> Result<Option<Session>, SourceError>,
    ) -> Result<Option<Session>, SourceError> {
        match &self.settings.kind {
            SourceKind::Serial { .. } | SourceKind::Tcp { .. } => Ok(None),
            SourceKind::TcpServer { listen } => {
                let name = &self.settings.name;
                let s = tcp_server::accept(&mut self.listener, *listen, name, &self.shutdown);
                match s.await? {
                    Some(s) => bytes(Box::new(s)),
                    None => Ok(None),
                }
            }
            SourceKind::Ntrip(n) => {
                let gga = n
                    .gga
                    .and_then(|_| ntrip_client::gga_sentence(self.position));
                let link = ntrip_client::connect(n, gga, &self.settings.name).await?;
                Ok(Some(Session::Bytes(link)))
            }
            SourceKind::Udp { listen } => Ok(Some(Session::Datagrams(udp::bind(*listen).await?))),
            SourceKind::File { path, .. } => bytes(file::open(path).await?),
            SourceKind::Stdin => bytes(stdin::open()),
            SourceKind::Simulate { seed, msm } => Ok(Some(Session::Simulated(Box::new(
                simulator::Live::new(&self.station, self.position, *seed, *msm),
            )))),
        }
    }

    /// The next bytes of an open session, within the watchdog time.
    async fn read(&mut self, s: &mut Session, buf: &mut Vec<u8>) -> Read {
        let watchdog = self.settings.watchdog;
        let mut shutdown = self.shutdown.clone();
        match s {
            Session::Bytes(_) if !self.pending.is_empty() => {
                buf.clear();
                buf.append(&mut self.pending);
                Read::Data
            }
            Session::Bytes(link) => {
                buf.resize(STREAM_READ, 0);
                loop {
                    tokio::select! {
                        r = tokio::time::timeout(watchdog, link.reader.read(buf)) => return match r {
                            Err(_) => Read::End(End::Stalled),
                            Ok(Ok(0)) => Read::End(End::Eof),
                            Ok(Ok(n)) => {
                                buf.truncate(n);
                                Read::Data
                            }
                            Ok(Err(e)) => Read::End(End::Error(SourceError::Read(e))),
                        },
                        _ = tick(&mut link.gga) => {
                            let (Some(g), Some(w)) = (ntrip_client::gga_sentence(self.position), link.writer.as_mut()) else {
                                continue;
                            };
                            if let Err(e) = w.write_all(g.as_bytes()).await {
                                return Read::End(End::Error(SourceError::Gga(e)));
                            }
                        }
                        _ = shutdown.changed() => return Read::Shutdown,
                    }
                }
            }
            Session::Datagrams(sock) => {
                buf.resize(DATAGRAM, 0);
                tokio::select! {
                    r = tokio::time::timeout(watchdog, sock.recv(buf)) => match r {
                        // A datagram source has nothing to reconnect: stay bound, report the stall.
                        Err(_) => Read::Stalled,
                        Ok(Ok(n)) => {
                            buf.truncate(n);
                            Read::Data
                        }
                        Ok(Err(e)) => Read::End(End::Error(SourceError::Udp(e))),
                    },
                    _ = shutdown.changed() => Read::Shutdown,
                }
            }
            Session::Simulated(sim) => match sim.next(buf, &mut shutdown).await {
                Some(true) => Read::Data,
                Some(false) => Read::End(End::Eof),
                None => Read::Shutdown,
            },
        }
    }
}

/// The next tick of an optional interval (never, without one).
async fn tick(i: &mut Option<Interval>) {
    match i {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}
