//! Plain outputs (`[[output]]`): a TCP server that every connecting client reads the corrections
//! from (no request, like str2str's `tcpsvr://`), and a serial port to a radio modem. Each has its
//! own message set or RTCM 2.3 ([`feed`]). A radio that goes away (USB unplugged) is reopened
//! with backoff; a TCP client that stops reading is dropped without touching the others.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};

use crate::backoff::Backoff;
use crate::feeds::feed::Feed;

/// Where an output goes.
#[derive(Clone, Debug, PartialEq)]
pub enum OutputKind {
    TcpServer { listen: SocketAddr },
    Serial { path: PathBuf, baud: u32 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct OutputSettings {
    pub name: String,
    pub kind: OutputKind,
    pub format: crate::feeds::message_set::Format,
}

/// Counters of an output, for `/metrics`.
#[derive(Debug, Default)]
pub struct OutputStatus {
    pub clients: AtomicU64,
    pub bytes_out: AtomicU64,
    /// Serial: reopened after the port went away; TCP: clients dropped for not reading.
    pub faults: AtomicU64,
    /// Serial: 1 while the port is open.
    pub open: AtomicU64,
    /// Serial: why the port was lost or cannot be opened, kept after it opened again.
    pub last_error: std::sync::Mutex<Option<String>>,
}

impl OutputStatus {
    fn set_error(&self, e: String) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
    }

    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// A TCP server output on an already bound listener.
pub async fn tcp_server(
    name: String,
    listener: TcpListener,
    feed: Feed,
    status: Arc<OutputStatus>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            r = listener.accept() => {
                let Ok((sock, peer)) = r else { continue };
                let _ = sock.set_nodelay(true);
                tracing::debug!(output = %name, %peer, "output: client connected");
                let (rd, wr) = sock.into_split();
                tokio::spawn(pump(feed.subscribe(), Some(Box::new(rd)), wr, status.clone(), shutdown.clone()));
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// A serial output (radio modem): open, write the feed, reopen with backoff when it fails.
pub async fn serial(
    name: String,
    path: PathBuf,
    baud: u32,
    feed: Feed,
    status: Arc<OutputStatus>,
    mut shutdown: watch::Receiver<bool>,
) {
    use tokio_serial::SerialPortBuilderExt;
    let mut backoff = Backoff::standard();
    let mut logged = false;
    loop {
        match tokio_serial::new(path.to_string_lossy(), baud).open_native_async() {
            Ok(port) => {
                tracing::info!(output = %name, port = %path.display(), baud, "output: serial port open");
                status.open.store(1, Ordering::Relaxed);
                logged = false;
                backoff.reset();
                let why = pump(
                    feed.subscribe(),
                    None,
                    port,
                    status.clone(),
                    shutdown.clone(),
                )
                .await;
                status.open.store(0, Ordering::Relaxed);
                if why == "shutdown" {
                    return;
                }
                status.faults.fetch_add(1, Ordering::Relaxed);
                status.set_error(format!("{}: {why}", path.display()));
                tracing::warn!(output = %name, port = %path.display(), why, "output: serial port lost; reopening with backoff");
            }
            Err(e) => {
                status.set_error(format!("{}: cannot open: {e}", path.display()));
                if !logged {
                    tracing::error!(output = %name, port = %path.display(), error = %e, "output: cannot open the serial port (check the device path and that the corsd user is in the dialout group); retrying");
                    logged = true;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff.next_delay()) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Copy the feed into one writer until it fails, falls behind, or stops reading.
async fn pump<W: AsyncWrite + Unpin>(
    mut rx: broadcast::Receiver<Arc<[u8]>>,
    mut rd: Option<Box<dyn AsyncRead + Unpin + Send>>,
    mut wr: W,
    status: Arc<OutputStatus>,
    mut shutdown: watch::Receiver<bool>,
) -> &'static str {
    status.clients.fetch_add(1, Ordering::Relaxed);
    let mut sink = [0u8; 256];
    let why = loop {
        let read = async {
            match rd.as_mut() {
                Some(r) => r.read(&mut sink).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = rx.recv() => match r {
                Ok(bytes) => match tokio::time::timeout(Duration::from_secs(20), wr.write_all(&bytes)).await {
                    Ok(Ok(())) => {
                        status.bytes_out.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                    }
                    Ok(Err(_)) => break "write failed",
                    Err(_) => {
                        status.faults.fetch_add(1, Ordering::Relaxed);
                        break "stalled (took nothing for 20 s)";
                    }
                },
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    status.faults.fetch_add(1, Ordering::Relaxed);
                    break "fell behind the stream";
                }
                Err(broadcast::error::RecvError::Closed) => break "shutdown",
            },
            r = read => match r {
                Ok(0) | Err(_) => break "closed",
                Ok(_) => {}
            },
            _ = shutdown.changed() => break "shutdown",
        }
    };
    status.clients.fetch_sub(1, Ordering::Relaxed);
    why
}
