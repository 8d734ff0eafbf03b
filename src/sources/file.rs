//! A recording, read to its end (then again when looped). Pacing by data time needs the data's
//! time, which only the station knows: its runner paces a file it reads at a `speed`.

use std::path::Path;

use super::{Reader, SourceError};

/// Open the recording.
pub async fn open(path: &Path) -> Result<Reader, SourceError> {
    let f = tokio::fs::File::open(path)
        .await
        .map_err(|source| SourceError::Open {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(Box::new(f))
}
