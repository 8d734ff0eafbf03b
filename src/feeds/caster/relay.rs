//! A relay mountpoint's source: an NTRIP server pushing into the caster.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::client::password_ok;
use super::{SOURCE_IDLE, Shared};
use crate::ntrip::chunked::Dechunker;
use crate::ntrip::request::Request;
use crate::ntrip::response;

/// An NTRIP server pushing into a relay mountpoint: v1 `SOURCE password /MOUNT` (raw data after
/// `ICY 200 OK`) or v2 `POST /MOUNT` (Basic auth, chunked data). Its bytes go to the mount's
/// clients unchanged.
pub(super) async fn source(
    mut sock: TcpStream,
    peer: SocketAddr,
    req: Request,
    early: Vec<u8>,
    shared: &Shared,
    mut shutdown: watch::Receiver<bool>,
) {
    let (settings, status) = (&shared.settings, &shared.status);
    let v2 = req.method == "POST";
    let found = settings
        .mounts
        .iter()
        .enumerate()
        .find(|(_, m)| m.name == req.mount && m.relay_user.is_some());
    let Some((mi, mount)) = found else {
        status.unknown_mounts.fetch_add(1, Ordering::Relaxed);
        let _ = sock.write_all(response::source_no_mount(v2)).await;
        return;
    };
    let user = mount.relay_user.as_deref().unwrap_or_default();
    let ok = if v2 {
        req.auth
            .as_ref()
            .is_some_and(|(u, p)| u == user && password_ok(settings, u, p))
    } else {
        req.source_password
            .as_deref()
            .is_some_and(|p| password_ok(settings, user, p))
    };
    if !ok {
        status.refused.fetch_add(1, Ordering::Relaxed);
        tracing::info!(%peer, mount = %mount.name, "caster: source credentials refused");
        let _ = sock
            .write_all(response::source_refused(v2, &mount.name).as_bytes())
            .await;
        return;
    }
    let stream = &shared.streams[mi];
    if stream
        .source_taken
        .swap(true, std::sync::atomic::Ordering::AcqRel)
    {
        let _ = sock.write_all(response::source_taken(v2)).await;
        return;
    }
    let answer = response::source_accepted(v2);
    tracing::info!(%peer, mount = %mount.name, v2, "caster: source connected");
    let why = if sock.write_all(answer.as_bytes()).await.is_err() {
        "closed"
    } else {
        let mut dechunk = v2.then(Dechunker::default);
        let publish = |bytes: &[u8], dechunk: &mut Option<Dechunker>| -> bool {
            let data = match dechunk.as_mut() {
                Some(d) => {
                    let mut v = Vec::with_capacity(bytes.len());
                    if d.feed(bytes, &mut v).is_err() {
                        return false;
                    }
                    v
                }
                None => bytes.to_vec(),
            };
            if !data.is_empty() {
                let _ = stream.tx.send(Arc::from(data));
            }
            true
        };
        let mut buf = vec![0u8; 16 * 1024];
        if !publish(&early, &mut dechunk) {
            "bad chunked encoding"
        } else {
            loop {
                tokio::select! {
                    r = tokio::time::timeout(SOURCE_IDLE, sock.read(&mut buf)) => match r {
                        Ok(Ok(0)) | Ok(Err(_)) => break "closed",
                        Ok(Ok(n)) => {
                            if !publish(&buf[..n], &mut dechunk) {
                                break "bad chunked encoding";
                            }
                        }
                        Err(_) => break "no data for 60 s",
                    },
                    _ = shutdown.changed() => break "shutdown",
                }
            }
        }
    };
    stream
        .source_taken
        .store(false, std::sync::atomic::Ordering::Release);
    tracing::info!(%peer, mount = %mount.name, why, "caster: source gone");
}
