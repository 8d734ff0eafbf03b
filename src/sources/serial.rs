//! A serial port (tokio-serial). On Linux a port that vanished reads `Ok(0)` forever: the
//! watchdog and end-of-data handling make that a disconnect.

use std::path::Path;

use tokio_serial::SerialPortBuilderExt;

use super::{Reader, SourceError};

/// Open the port.
pub fn open(path: &Path, baud: u32) -> Result<Reader, SourceError> {
    let port = tokio_serial::new(path.to_string_lossy(), baud)
        .open_native_async()
        .map_err(|source| SourceError::Serial {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(Box::new(port))
}
