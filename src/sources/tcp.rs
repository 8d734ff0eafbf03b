//! A TCP client: the receiver (or a str2str) serves the stream. The host name is resolved on
//! every connection.

use std::time::Duration;

use tokio::net::TcpStream;

use super::SourceError;

/// How long a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connect to `address` (host:port).
pub async fn connect(address: &str) -> Result<TcpStream, SourceError> {
    let s = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address))
        .await
        .map_err(|_| SourceError::ConnectTimeout {
            address: address.into(),
        })?
        .map_err(|source| SourceError::Connect {
            address: address.into(),
            source,
        })?;
    let _ = s.set_nodelay(true);
    Ok(s)
}
