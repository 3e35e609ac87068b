//! One setting of glibc's allocator, made before anything is allocated.
//!
//! glibc gives an allocation past its mmap threshold a mapping of its own,
//! returned to the system when freed. But each such free raises the
//! threshold (up to 32 MiB), and from then on the same large buffers (a
//! Parquet reader's decompressed pages, a detector's table as it grows)
//! come from the heap, where freeing them leaves holes that stay resident.
//! A fixed threshold of [`MMAP_THRESHOLD`] keeps them mapped. On the 1 GB
//! Parquet benchmark files peak RSS fell from about 158 MB to 138 MB, with
//! no change in time beyond the machine's noise (benches/README.md,
//! "Session 11"); a JSON audit keeps its memory as before.
//!
//! The only `unsafe` in the workspace (a test holds it to this file).

/// Allocations of this size and more get a mapping of their own.
pub const MMAP_THRESHOLD: i32 = 1 << 20;

/// Fixes glibc's mmap threshold; nothing elsewhere.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn tune() {
    // SAFETY: `mallopt` sets one parameter of glibc's allocator and has no
    // other effect; it is called first thing in `main`, before any other
    // thread exists. A refusal (0) leaves glibc's default, which is safe.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}

/// Other platforms' allocators are left as they are.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}
