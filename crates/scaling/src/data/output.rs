//! Writing a user's output file: never over an existing file unless asked, never half a file.
//! Errors name the request field that holds the path (`out`) and the one that allows
//! overwriting (`force`), so each front end words them as its own settings.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// `path` shown inside a settings template (whose `{}` stand for setting names).
fn shown(path: &Path) -> String {
    path.display().to_string().replace("{}", "{ }")
}

fn exists(path: &Path, field: &str) -> Error {
    Error::setting(
        format!(
            "{}: the file exists; pass {{}} to overwrite it (or choose another {{}})",
            shown(path)
        ),
        &["force", field],
    )
}

/// The directory a file goes in ("." for a bare name).
fn parent_dir(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Check, before any work, that `path` (held by the request field `field`) may be written:
/// without `force` nothing may exist there (not even a dangling symlink, which a write would
/// follow), and its directory must exist.
///
/// # Examples
/// ```
/// use scaling::data::check_new;
/// let dir = std::env::temp_dir();
/// assert!(check_new(&dir.join("scaling-doc-new.svg"), false, "out").is_ok());
/// let e = check_new(&dir, false, "out").unwrap_err(); // a directory exists there
/// assert!(e.to_string().contains("pass force to overwrite it (or choose another out)"));
/// ```
pub fn check_new(path: &Path, force: bool, field: &str) -> Result<()> {
    if !force && path.symlink_metadata().is_ok() {
        return Err(exists(path, field));
    }
    if path.file_name().is_none() {
        let m = format!("{{}} {}: not a file name", shown(path));
        return Err(Error::setting(m, &[field]));
    }
    let dir = parent_dir(path);
    if !dir.is_dir() {
        let (p, d) = (shown(path), shown(dir));
        let m = format!("{{}} {p}: the directory {d} does not exist");
        return Err(Error::setting(m, &[field]));
    }
    Ok(())
}

/// Write `bytes` to `path` as [`check_new`] allows. The bytes go to a temporary file beside
/// the target first and take its place only once complete, so a failed write never leaves half
/// a file nor destroys the old one; without `force` the new file is linked into place, which
/// fails rather than replace a file that appeared meanwhile.
///
/// # Examples
/// ```
/// use scaling::data::write_new;
/// let path = std::env::temp_dir().join(format!("scaling-doc-{}.csv", std::process::id()));
/// write_new(&path, b"N,D,loss\n", false, "out").unwrap();
/// assert!(write_new(&path, b"other", false, "out").is_err()); // kept
/// write_new(&path, b"N,D,loss\n1,2,3\n", true, "out").unwrap(); // replaced with force
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "N,D,loss\n1,2,3\n");
/// std::fs::remove_file(&path).unwrap();
/// ```
pub fn write_new(path: &Path, bytes: &[u8], force: bool, field: &str) -> Result<()> {
    check_new(path, force, field)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = parent_dir(path).join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    let placed = written.and_then(|()| {
        if force {
            std::fs::rename(&tmp, path)
        } else {
            std::fs::hard_link(&tmp, path).or_else(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => Err(e),
                // A file system without hard links: the check above has to do.
                _ => std::fs::rename(&tmp, path),
            })
        }
    });
    let _ = std::fs::remove_file(&tmp);
    match placed {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(exists(path, field)),
        Err(source) => Err(Error::Write {
            path: path.display().to_string(),
            source,
        }),
    }
}
