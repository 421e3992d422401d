//! A small disk of a test's own (a tmpfs), to fill up: full-disk faults
//! are tested on it, never on the machine's disks.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{in_ci, unique};

/// A tmpfs of a given size mounted on a fresh directory; unmounted and
/// deleted when dropped. Mounting needs root (CI runs as root): elsewhere
/// [`SmallDisk::mount`] says the test was skipped.
pub struct SmallDisk {
    dir: PathBuf,
}

impl SmallDisk {
    /// Mounts a tmpfs of `mebibytes`; `None` when this process may not
    /// mount (the caller skips, saying so), a failure under `CI=true`.
    pub fn mount(mebibytes: u32) -> Option<Self> {
        let dir = std::env::temp_dir().join(format!("bisslog-disk-{}", unique()));
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mebibytes}m"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            let _ = std::fs::remove_dir(&dir);
            assert!(
                !in_ci(),
                "CI runs as root and must be able to mount a tmpfs"
            );
            super::skip("mounting a tmpfs needs root");
            return None;
        }
        Some(Self { dir })
    }

    /// Where the disk is mounted.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes a file until the disk is full; returns its path (delete it to
    /// free the space).
    pub fn fill(&self) -> PathBuf {
        let path = self.dir.join("filler");
        let mut file = std::fs::File::create(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        let block = vec![0xa5_u8; 64 * 1024];
        // Bounded: a tmpfs of N MiB takes at most 16 N blocks of 64 KiB.
        for _ in 0..1_000_000 {
            if file.write_all(&block).and_then(|()| file.flush()).is_err() {
                return path;
            }
        }
        panic!("{} never filled up", self.dir.display())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
