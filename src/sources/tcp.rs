//! A TCP client: the receiver (or a str2str) serves the stream. The host name is resolved on
//! every connection.

use std::time::Duration;

use tokio::net::TcpStream;

use super::SourceError;

/// How long a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a TCP connection was not made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    #[error("no answer within {CONNECT_TIMEOUT:?}")]
    TimedOut,
    #[error(transparent)]
    Refused(#[from] std::io::Error),
}

/// Connect to `address` (host:port, resolved now), without Nagle's delay.
pub async fn dial(address: &str) -> Result<TcpStream, ConnectError> {
    let s = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address))
        .await
        .map_err(|_| ConnectError::TimedOut)??;
    let _ = s.set_nodelay(true);
    Ok(s)
}

/// The TCP source's connection.
pub async fn connect(address: &str) -> Result<TcpStream, SourceError> {
    dial(address).await.map_err(|source| SourceError::Connect {
        address: address.into(),
        source,
    })
}
