//! NTRIP server push to remote casters (`[[push]]`): the station's corrections on a remote
//! caster's mountpoint, for crews whose phones reach a professional caster but not the station.
//!
//! v1 sends `SOURCE <password> /MOUNT` and raw bytes after the caster's `OK`; v2 sends
//! `POST /MOUNT HTTP/1.1` with Basic auth and chunked bytes after `200`. The version is a
//! setting per target (no fallback: a v2 caster falling back to v1 loses the user name). Each
//! target has its own message set (a [`feed`]), its own jittered backoff, and its own state; a
//! refused password backs off to the slowest retry rather than hammering the caster, which some
//! casters answer by banning the address.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, watch};

use crate::backoff::Backoff;
use crate::feeds::feed::Feed;
use crate::secret::Secret;

/// One remote caster.
#[derive(Clone, Debug, PartialEq)]
pub struct PushSettings {
    pub name: String,
    /// host:port, resolved on every connection.
    pub address: String,
    pub mount: String,
    /// 1 (SOURCE) or 2 (POST, chunked).
    pub version: u8,
    /// v2 only (v1 has no user name).
    pub user: Option<String>,
    pub password: Secret,
    pub format: crate::feeds::message_set::Format,
}

/// State and counters of a push, for `/metrics` and `/status.json`.
#[derive(Debug, Default)]
pub struct PushStatus {
    /// 0 connecting, 1 streaming, 2 backoff.
    pub state: AtomicU64,
    pub bytes_out: AtomicU64,
    pub connects: AtomicU64,
    pub failures: AtomicU64,
    pub last_error: std::sync::Mutex<Option<String>>,
}

impl PushStatus {
    pub fn state_name(&self) -> &'static str {
        match self.state.load(Ordering::Relaxed) {
            1 => "streaming",
            2 => "backoff",
            _ => "connecting",
        }
    }
}

/// Why a session ended.
enum End {
    /// Refused by the caster (password, mountpoint): worth a long wait.
    Refused(String),
    /// Network or stream trouble: retry with the usual backoff.
    Failed(String),
    Shutdown,
}

pub async fn run(
    s: PushSettings,
    feed: Feed,
    status: Arc<PushStatus>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::standard();
    let mut logged: Option<String> = None;
    loop {
        status.state.store(0, Ordering::Relaxed);
        let (end, delivered) = session(&s, &feed, &status, &mut shutdown).await;
        let wait = match end {
            End::Shutdown => return,
            End::Refused(why) | End::Failed(why) if Some(&why) == logged.as_ref() => {
                tracing::debug!(push = %s.name, why, "push: still failing");
                backoff.next_delay()
            }
            End::Refused(why) => {
                tracing::error!(push = %s.name, caster = %s.address, mount = %s.mount, why, "push refused by the remote caster; check the mountpoint and password_file (retrying slowly)");
                *status.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(why.clone());
                logged = Some(why);
                backoff.next_delay().max(Duration::from_secs(60))
            }
            End::Failed(why) => {
                tracing::warn!(push = %s.name, caster = %s.address, why, "push: connection lost; retrying with backoff");
                *status.last_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(why.clone());
                logged = Some(why);
                backoff.next_delay()
            }
        };
        if delivered {
            backoff.reset();
            logged = None;
        }
        status.failures.fetch_add(1, Ordering::Relaxed);
        status.state.store(2, Ordering::Relaxed);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// The request a push opens with.
pub fn request(s: &PushSettings) -> String {
    crate::ntrip::request::push(
        s.version,
        &s.address,
        &s.mount,
        s.user.as_deref().unwrap_or_default(),
        s.password.expose(),
    )
}

/// One connection: `(how it ended, whether bytes were delivered)`.
async fn session(
    s: &PushSettings,
    feed: &Feed,
    status: &PushStatus,
    shutdown: &mut watch::Receiver<bool>,
) -> (End, bool) {
    let connect = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(&s.address));
    let mut sock = tokio::select! {
        r = connect => match r {
            Ok(Ok(sock)) => sock,
            Ok(Err(e)) => return (End::Failed(format!("cannot connect: {e}")), false),
            Err(_) => return (End::Failed("connect timed out".into()), false),
        },
        _ = shutdown.changed() => return (End::Shutdown, false),
    };
    let _ = sock.set_nodelay(true);
    status.connects.fetch_add(1, Ordering::Relaxed);
    if let Err(e) = sock.write_all(request(s).as_bytes()).await {
        return (End::Failed(format!("cannot send the request: {e}")), false);
    }
    // The answer: one status line is enough to decide (v1 casters may send no blank line).
    let mut head = Vec::new();
    let mut byte = [0u8; 256];
    let answer = loop {
        let r = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut byte)).await;
        match r {
            Ok(Ok(0)) => {
                let text = String::from_utf8_lossy(&head).trim().to_string();
                return (
                    End::Refused(if text.is_empty() {
                        "the caster closed the connection without an answer".into()
                    } else {
                        format!("caster answered {text:?}")
                    }),
                    false,
                );
            }
            Ok(Ok(n)) => head.extend_from_slice(&byte[..n]),
            Ok(Err(e)) => return (End::Failed(format!("read error: {e}")), false),
            Err(_) => {
                return (
                    End::Failed("no answer from the caster in 10 s".into()),
                    false,
                );
            }
        }
        if let Some(eol) = head.windows(2).position(|w| w == b"\r\n") {
            break String::from_utf8_lossy(&head[..eol]).into_owned();
        }
        if head.len() > 4096 {
            return (End::Failed("answer line too long".into()), false);
        }
    };
    if !crate::ntrip::response::push_accepted(s.version, &answer) {
        return (End::Refused(format!("caster answered {answer:?}")), false);
    }
    tracing::info!(push = %s.name, caster = %s.address, mount = %s.mount, version = s.version, "push: streaming");
    status.state.store(1, Ordering::Relaxed);
    let mut rx = feed.subscribe();
    let mut delivered = false;
    let (mut rd, mut wr) = sock.split();
    let mut sink = [0u8; 512];
    loop {
        tokio::select! {
            r = rx.recv() => match r {
                Ok(bytes) => {
                    let data = if s.version == 2 {
                        crate::ntrip::chunked::encode(&bytes)
                    } else {
                        bytes.to_vec()
                    };
                    match tokio::time::timeout(Duration::from_secs(20), wr.write_all(&data)).await {
                        Ok(Ok(())) => {
                            delivered = true;
                            status.bytes_out.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                        }
                        Ok(Err(e)) => return (End::Failed(format!("write failed: {e}")), delivered),
                        Err(_) => return (End::Failed("the caster took nothing for 20 s".into()), delivered),
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    return (End::Failed(format!("fell {n} chunks behind the station stream")), delivered);
                }
                Err(broadcast::error::RecvError::Closed) => return (End::Shutdown, delivered),
            },
            r = rd.read(&mut sink) => match r {
                // Casters send nothing more; a read that ends means the caster hung up.
                Ok(0) | Err(_) => return (End::Failed("the caster closed the connection".into()), delivered),
                Ok(_) => {}
            },
            _ = shutdown.changed() => {
                if s.version == 2 {
                    let _ = wr.write_all(crate::ntrip::chunked::END).await;
                }
                return (End::Shutdown, delivered);
            }
        }
    }
}
