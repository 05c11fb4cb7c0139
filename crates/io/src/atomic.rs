//! Reading and crash-safe writing of whole files, the one place every file
//! format of this crate touches the file system.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// Writes `bytes` to `path` so that a reader always sees either the old file
/// or the complete new one, whatever happens: a crash, a full disk, or
/// another process saving to the same path at the same time.
///
/// The bytes go to a uniquely named temporary file in the same directory,
/// are synced to disk, and the file is renamed over `path` (an atomic
/// replacement on POSIX file systems); the directory is then synced so the
/// rename itself survives a power cut. On error `path` is untouched and the
/// temporary file is removed.
///
/// # Errors
/// The operating system's error from creating, writing, syncing or renaming.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temporary = NamedTempFile::new_in(dir)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|e| e.error)?;
    // Not every platform can open a directory to sync it; the file itself
    // is complete either way.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Reads the whole file at `path`; `error` builds the caller's error from the
/// path and the operating system's error.
pub(crate) fn read_file<E>(path: &Path, error: fn(PathBuf, io::Error) -> E) -> Result<Vec<u8>, E> {
    std::fs::read(path).map_err(|source| error(path.to_path_buf(), source))
}

/// [`write_atomically`], with `error` building the caller's error as in
/// [`read_file`].
pub(crate) fn save_file<E>(
    path: &Path,
    bytes: &[u8],
    error: fn(PathBuf, io::Error) -> E,
) -> Result<(), E> {
    write_atomically(path, bytes).map_err(|source| error(path.to_path_buf(), source))
}
