//! A serial port (tokio-serial). On Linux a port that vanished reads `Ok(0)` forever: the
//! watchdog and end-of-data handling make that a disconnect.

use std::path::Path;

use tokio_serial::SerialPortBuilderExt;

use super::{Link, SourceError};

/// Open the port, both ways (a `[receiver]` is set up through it).
pub fn open(path: &Path, baud: u32) -> Result<Link, SourceError> {
    let port = tokio_serial::new(path.to_string_lossy(), baud)
        .open_native_async()
        .map_err(|source| SourceError::Serial {
            path: path.to_path_buf(),
            source,
        })?;
    let (r, w) = tokio::io::split(port);
    Ok(Link {
        reader: Box::new(r),
        writer: Some(Box::new(w)),
        gga: None,
    })
}
