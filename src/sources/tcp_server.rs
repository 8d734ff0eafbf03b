//! A TCP server: the receiver connects in. The listener stays bound from one connection to the
//! next.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::SourceError;

/// Wait for the receiver to connect (binding `listen` first if not yet bound); `None` when shut
/// down meanwhile.
pub async fn accept(
    listener: &mut Option<TcpListener>,
    listen: SocketAddr,
    name: &str,
    shutdown: &watch::Receiver<bool>,
) -> Result<Option<TcpStream>, SourceError> {
    if listener.is_none() {
        let l = TcpListener::bind(listen)
            .await
            .map_err(|source| SourceError::Listen { listen, source })?;
        *listener = Some(l);
    }
    let Some(l) = listener.as_ref() else {
        unreachable!("bound above");
    };
    tracing::info!(source = %name, %listen, "waiting for the receiver to connect");
    let mut shutdown = shutdown.clone();
    tokio::select! {
        r = l.accept() => {
            let (s, peer) = r.map_err(|source| SourceError::Accept { listen, source })?;
            tracing::info!(source = %name, %peer, "receiver connected");
            Ok(Some(s))
        }
        _ = shutdown.changed() => Ok(None),
    }
}
