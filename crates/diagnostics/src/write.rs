//! The atomic file write: a reader (or a crash) sees the old file or the new one, never a mix.

use std::io::Write;
use std::path::Path;

/// The suffix of the temporary files [`write_atomic`] makes (never `.md`, `.yaml` or
/// `.json`, so a leftover is never read as one of platformctl's files).
pub const TEMP_SUFFIX: &str = ".platformctl.tmp";

/// Replaces (or creates) `path` with `contents`, atomically.
///
/// The bytes go to a [`tempfile::NamedTempFile`] in the target's own folder (a rename is only
/// atomic within one file system), named `.NAME.PID.XXXXXX.platformctl.tmp`. When the target
/// exists its permissions (and owner, when allowed) are copied to the temporary file; a new
/// file gets `0666` less the umask, as any editor would make it. The file is flushed to disk
/// (`fsync`), renamed over the target with [`tempfile::NamedTempFile::persist`], and the folder
/// flushed so the rename itself survives a crash. On any error the temporary file is removed
/// and the target is untouched.
pub fn write_atomic(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| std::io::Error::other(format!("{}: not a file name", path.display())))?;
    let existing = match std::fs::metadata(path) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let prefix = format!(".{name}.{}.", std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    if existing.is_none() {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    if let Some(meta) = &existing {
        tmp.as_file().set_permissions(meta.permissions())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            // Keep the owner when running as root on someone else's file; ignore refusals.
            let _ = std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid()));
        }
    }
    tmp.write_all(contents)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Removes temporary files [`write_atomic`] left in `dir` when its process was killed
/// between creating and renaming them (their process is gone). Files of live processes,
/// this one included, are left alone.
pub fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(TEMP_SUFFIX) else {
            continue;
        };
        // `.NAME.PID.RANDOM`: the pid is the second field from the end.
        let Some(pid) = stem.rsplit('.').nth(1).and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn replaces_keeping_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.md");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        // Nothing left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn creates_a_new_file_readable_as_usual() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plan.json");
        write_atomic(&p, b"{}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "{}\n");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        // 0666 less a umask: at least owner read/write, never the 0600 of a bare temp file
        // unless the umask asks for it.
        assert_eq!(mode & 0o600, 0o600);
    }

    #[test]
    fn a_failed_write_leaves_the_target_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("x"), "keep").unwrap();
        // Renaming a file over a non-empty directory fails.
        assert!(write_atomic(&target, b"new").is_err());
        assert_eq!(std::fs::read_to_string(target.join("x")).unwrap(), "keep");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn stale_temp_files_of_dead_processes_go() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir
            .path()
            .join(format!(".a.md.4000000000.Ab12Cd{TEMP_SUFFIX}"));
        let ours = dir
            .path()
            .join(format!(".a.md.{}.Xy34Zw{TEMP_SUFFIX}", std::process::id()));
        std::fs::write(&stale, "x").unwrap();
        std::fs::write(&ours, "x").unwrap();
        remove_stale_temp_files(dir.path());
        assert!(!stale.exists());
        assert!(ours.exists());
    }
}
