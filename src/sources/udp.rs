//! UDP datagrams: nothing to reconnect; the socket stays bound and a silence is a stall.

use std::net::SocketAddr;

use tokio::net::UdpSocket;

use super::SourceError;

/// Bind the listening socket.
pub async fn bind(listen: SocketAddr) -> Result<UdpSocket, SourceError> {
    UdpSocket::bind(listen)
        .await
        .map_err(|source| SourceError::UdpListen { listen, source })
}
