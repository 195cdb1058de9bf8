//! The raw calls into the C++ shim (`cpp/c10d_shim.cpp`) and the one place of this crate that
//! needs `unsafe`: each wrapper owns the pointers it passes and turns the shim's error strings
//! into Rust strings.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use tch::Tensor;

extern "C" {
    fn pl_group_new(
        host: *const c_char,
        port: u16,
        rank: c_int,
        world_size: c_int,
        host_store: c_int,
        timeout_ms: i64,
        error: *mut *mut c_char,
    ) -> *mut c_void;
    fn pl_all_reduce_sum(group: *mut c_void, tensor: *const c_void, error: *mut *mut c_char) -> c_int;
    fn pl_broadcast(group: *mut c_void, tensor: *const c_void, root: c_int, error: *mut *mut c_char) -> c_int;
    fn pl_barrier(group: *mut c_void, error: *mut *mut c_char) -> c_int;
    fn pl_group_free(group: *mut c_void);
    fn pl_free_error(error: *mut c_char);
}

/// A joined c10d process group (Gloo backend), freed on drop.
#[derive(Debug)]
pub(crate) struct RawGroup(*mut c_void);

// SAFETY: the handle is a heap object of c10d's; c10d process groups may be used from any
// thread (PyTorch calls them from whichever thread runs Python), and the pointer is freed once,
// by `Drop`. Collectives must still be issued in the same order on every rank, which callers do
// by using a group from one thread at a time.
unsafe impl Send for RawGroup {}
// SAFETY: as above; `&RawGroup` only issues collectives, which c10d serialises on its own queue.
unsafe impl Sync for RawGroup {}

/// The message the shim set, freed after copying (a placeholder when it set none).
fn take_error(error: *mut c_char) -> String {
    if error.is_null() {
        return "the process group reported a failure without a message".to_owned();
    }
    // SAFETY: a non-null `error` is a NUL-terminated string the shim allocated with malloc and
    // handed over; it is read once here and freed by the shim's matching free.
    unsafe {
        let message = CStr::from_ptr(error).to_string_lossy().into_owned();
        pl_free_error(error);
        message
    }
}

/// Maps the shim's status (nonzero: success) to a result.
fn status(ok: c_int, error: *mut c_char) -> Result<(), String> {
    if ok != 0 {
        Ok(())
    } else {
        Err(take_error(error))
    }
}

impl RawGroup {
    /// Joins the group through the TCPStore at `host:port` (see `pl_group_new`).
    pub(crate) fn join(host: &str, port: u16, rank: i32, world_size: i32, host_store: bool, timeout_ms: i64) -> Result<RawGroup, String> {
        let host = CString::new(host).map_err(|_| "the host name contains a NUL byte".to_owned())?;
        let mut error = std::ptr::null_mut();
        // SAFETY: `host` outlives the call; `error` is a valid out-pointer. The shim catches every
        // C++ exception and returns null with a message instead.
        let group = unsafe { pl_group_new(host.as_ptr(), port, rank, world_size, c_int::from(host_store), timeout_ms, &mut error) };
        if group.is_null() {
            Err(take_error(error))
        } else {
            Ok(RawGroup(group))
        }
    }

    /// In-place sum of a contiguous tensor over the group.
    pub(crate) fn all_reduce_sum(&self, tensor: &Tensor) -> Result<(), String> {
        let mut error = std::ptr::null_mut();
        // SAFETY: `self.0` is a live group; `tensor.as_ptr()` is the `at::Tensor*` tch owns,
        // alive for the call (the shim copies the handle, not the storage, and waits).
        let ok = unsafe { pl_all_reduce_sum(self.0, tensor.as_ptr().cast(), &mut error) };
        status(ok, error)
    }

    /// In-place broadcast from `root`.
    pub(crate) fn broadcast(&self, tensor: &Tensor, root: i32) -> Result<(), String> {
        let mut error = std::ptr::null_mut();
        // SAFETY: as in `all_reduce_sum`.
        let ok = unsafe { pl_broadcast(self.0, tensor.as_ptr().cast(), root, &mut error) };
        status(ok, error)
    }

    /// Waits for every rank.
    pub(crate) fn barrier(&self) -> Result<(), String> {
        let mut error = std::ptr::null_mut();
        // SAFETY: `self.0` is a live group.
        let ok = unsafe { pl_barrier(self.0, &mut error) };
        status(ok, error)
    }
}

impl Drop for RawGroup {
    fn drop(&mut self) {
        // SAFETY: `self.0` came from `pl_group_new` and is freed once, here.
        unsafe { pl_group_free(self.0) }
    }
}
