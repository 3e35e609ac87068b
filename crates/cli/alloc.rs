//! One setting of glibc's allocator, made at the start of `main`, and the
//! mapping of files the store reads whole ([`map_file`]).
//!
//! glibc gives an allocation past its mmap threshold a mapping of its own,
//! returned to the system when freed. But each such free raises the
//! threshold (up to 32 MiB), and from then on the same large buffers (a
//! Parquet reader's decompressed pages, a detector's table as it grows)
//! come from the heap, where freeing them leaves holes that stay resident.
//! A fixed threshold of 1 MiB keeps them mapped. Peak RSS, 1 GB benchmark
//! files: the nested Parquet audit 155–156 → 136–137 MB, the flat one
//! 150–155 → 134–135 MB, the JSON lines 110–114 → 101–102 MB, with no
//! change in time beyond the machine's noise (benches/README.md, "Session
//! 11").
//!
//! The long-running `cluster` scheduler and executor keep glibc's default:
//! unmeasured there, and DataFusion's many short-lived Arrow buffers past
//! 1 MiB would each be a mapping and its page faults.
//!
//! The only `unsafe` in the workspace (a test holds it to this file): one
//! call into glibc's allocator, and `mmap`/`munmap`.

/// Fixes glibc's mmap threshold at 1 MiB; nothing elsewhere.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn tune() {
    /// Allocations of this size and more get a mapping of their own.
    const MMAP_THRESHOLD: libc::c_int = 1 << 20;
    // SAFETY: `mallopt` sets a parameter of glibc's allocator (fixing the
    // mmap threshold also stops glibc from adjusting it and the trim
    // threshold dynamically) and touches no memory of ours; it takes the
    // allocator's own lock. A refusal (0) leaves glibc's defaults.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Other platforms' allocators are left as they are.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}

/// A file mapped read-only, unmapped when dropped.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
struct Mapping {
    ptr: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is read-only and owned by this value alone: any
// thread may read it, and drop it once.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
unsafe impl Send for Mapping {}
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
unsafe impl Sync for Mapping {}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
impl AsRef<[u8]> for Mapping {
    #[allow(unsafe_code)]
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `ptr` maps `len` readable bytes until `drop`.
        unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
impl Drop for Mapping {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // SAFETY: the mapping `mmap` gave, unmapped once.
        unsafe {
            libc::munmap(self.ptr, self.len);
        }
    }
}

/// The audit cache's files, read whole by mapping them
/// (`tokenaudit_store::cache::read_with`): their pages are the page
/// cache's, not fresh memory the kernel zeroes before a copy is written
/// into it (on this project's VM, 15 µs a page: a night's audit spent a
/// tenth of its time reading the month's 14 MB state). The files are
/// written aside and renamed into place, never changed where they are, so
/// a mapping sees one file throughout (truncating one by hand while an
/// audit reads it would stop the audit with SIGBUS).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn map_file(path: &std::path::Path) -> std::io::Result<bytes::Bytes> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(path)?;
    let len = usize::try_from(file.metadata()?.len())
        .map_err(|_| std::io::Error::other("larger than memory"))?;
    if len == 0 {
        return Ok(bytes::Bytes::new());
    }
    // SAFETY: a new private read-only mapping of a file we opened; the
    // kernel picks the address. MAP_POPULATE maps every page now, in one
    // call, rather than a fault each.
    let ptr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_POPULATE,
            file.as_raw_fd(),
            0,
        )
    };
    if ptr == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    Ok(bytes::Bytes::from_owner(Mapping { ptr, len }))
}

/// Read into memory elsewhere.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn map_file(path: &std::path::Path) -> std::io::Result<bytes::Bytes> {
    std::fs::read(path).map(bytes::Bytes::from)
}
