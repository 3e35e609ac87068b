//! One setting of glibc's allocator, made at the start of `main`.
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
//! The only `unsafe` in the workspace (a test holds it to this file).

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
