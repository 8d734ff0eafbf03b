//! A rover's connection: the sourcetable for an unknown mountpoint, 401 for wrong credentials,
//! else the stream of its mountpoint through the fan-out, while the connection's own task reads
//! what the rover sends (in-band GGA) and notices it leave.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::rover::{drain_gga, rover_point};
use super::{CasterSettings, Shared, fanout, sourcetable};
use crate::ntrip::auth::constant_time_eq;
use crate::ntrip::request::Request;
use crate::ntrip::response;

pub(super) fn password_ok(settings: &CasterSettings, user: &str, password: &str) -> bool {
    settings
        .credentials
        .get(user)
        .is_some_and(|s| constant_time_eq(s.expose().as_bytes(), password.as_bytes()))
}

pub(super) async fn client(
    mut sock: TcpStream,
    peer: SocketAddr,
    req: Request,
    early: Vec<u8>,
    shared: &Shared,
    mut shutdown: watch::Receiver<bool>,
) {
    let (settings, status) = (&shared.settings, &shared.status);
    let Some((mi, mount)) = settings
        .mounts
        .iter()
        .enumerate()
        .find(|(_, m)| m.name == req.mount)
    else {
        let table = sourcetable(
            settings,
            &shared.seen.lock().unwrap_or_else(|p| p.into_inner()),
        );
        if !req.mount.is_empty() {
            status.unknown_mounts.fetch_add(1, Ordering::Relaxed);
        }
        let answer = response::sourcetable(req.v2, &table);
        let _ = sock.write_all(answer.as_bytes()).await;
        return;
    };
    if !mount.users.is_empty() {
        let ok = req.auth.as_ref().is_some_and(|(u, p)| {
            mount.users.iter().any(|x| x == u) && password_ok(settings, u, p)
        });
        if !ok {
            status.refused.fetch_add(1, Ordering::Relaxed);
            let user = req.auth.as_ref().map(|a| a.0.as_str()).unwrap_or("-");
            tracing::info!(%peer, mount = %mount.name, user, "caster: credentials refused");
            let _ = sock
                .write_all(response::unauthorized(req.v2, &mount.name).as_bytes())
                .await;
            return;
        }
    }
    let answer = response::stream(req.v2);
    if sock.write_all(answer.as_bytes()).await.is_err() {
        return;
    }
    status.clients.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(%peer, mount = %mount.name, v2 = req.v2, "caster: client connected");
    let v2 = req.v2;
    // The rover is named by its user, or by its address when the mount is open.
    let client_name = req
        .auth
        .as_ref()
        .filter(|_| !mount.users.is_empty())
        .map(|a| a.0.clone())
        .unwrap_or_else(|| peer.ip().to_string());
    let now_ns = || chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0);
    let rover = |bytes: &[u8]| {
        rover_point(
            bytes,
            &mount.name,
            &client_name,
            settings.station_xyz.as_ref(),
            now_ns(),
        )
    };
    if let Some(p) = req.gga.as_ref().and_then(|g| rover(g.as_bytes())) {
        let _ = shared.points.try_send(vec![p]);
    }
    // Bytes that came with the request (a v1 rover's first GGA) are the start of the in-band data.
    let mut inband: Vec<u8> = early;
    for p in drain_gga(&mut inband, &rover) {
        let _ = shared.points.try_send(vec![p]);
    }
    let (mut rd, wr) = sock.into_split();
    let (gone_tx, mut gone) = tokio::sync::oneshot::channel();
    if !shared.streams[mi].fanout.add(fanout::Client {
        wr,
        chunked: v2,
        gone: gone_tx,
    }) {
        status.clients.fetch_sub(1, Ordering::Relaxed);
        return;
    }
    let mut scratch = [0u8; 512];
    let why = loop {
        tokio::select! {
            w = &mut gone => break w.unwrap_or("shutdown"),
            r = rd.read(&mut scratch) => match r {
                Ok(0) | Err(_) => break "client closed",
                Ok(n) => {
                    // In-band GGA (v1 and v2): one line at a time, bounded.
                    inband.extend_from_slice(&scratch[..n]);
                    for p in drain_gga(&mut inband, &rover) {
                        let _ = shared.points.try_send(vec![p]);
                    }
                }
            },
            _ = shutdown.changed() => break "shutdown",
        }
    };
    status.clients.fetch_sub(1, Ordering::Relaxed);
    tracing::debug!(%peer, mount = %mount.name, why, "caster: client gone");
}
