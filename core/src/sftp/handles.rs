//! The server's table of open handles: which handles the backend handed out, whether
//! each is a file or a directory, and a cap on how many may be open.
//!
//! The engine answers a request naming an unknown handle itself, so a backend only
//! ever sees handles it created and has not closed.

use std::collections::BTreeMap;

use crate::sftp::Handle;
use crate::sftp::error::RespondError;
use crate::sftp::request::HandleUse;

/// What an open handle refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandleKind {
    /// A file opened with SSH_FXP_OPEN.
    File,
    /// A directory opened with SSH_FXP_OPENDIR.
    Dir,
}

#[derive(Debug)]
pub(crate) struct HandleTable {
    /// Ordered, so that listing the open handles is deterministic.
    open: BTreeMap<Handle, HandleKind>,
    /// OPEN and OPENDIR requests in flight: each may add a handle.
    reserved: usize,
    max_count: usize,
    max_len: usize,
}

impl HandleTable {
    pub(crate) fn new(max_count: usize, max_len: usize) -> Self {
        Self {
            open: BTreeMap::new(),
            reserved: 0,
            max_count,
            max_len: max_len.min(Handle::MAX_LEN),
        }
    }

    /// True when `handle` is open and of the kind `usage` needs.
    pub(crate) fn permits(&self, handle: &Handle, usage: HandleUse) -> bool {
        match (self.open.get(handle), usage) {
            (None, _) => false,
            (Some(_), HandleUse::Any) => true,
            (Some(kind), HandleUse::File) => *kind == HandleKind::File,
            (Some(kind), HandleUse::Dir) => *kind == HandleKind::Dir,
        }
    }

    /// Reserves room for a handle an open in flight may create; false at the cap.
    pub(crate) fn reserve(&mut self) -> bool {
        if self.open.len() + self.reserved >= self.max_count {
            return false;
        }
        self.reserved += 1;
        true
    }

    /// Releases a reservation whose open failed.
    pub(crate) fn release(&mut self) {
        self.reserved = self.reserved.saturating_sub(1);
    }

    /// Checks a handle the backend returned before it is sent.
    pub(crate) fn check_new(&self, handle: &Handle) -> Result<(), RespondError> {
        if handle.len() > self.max_len {
            return Err(RespondError::HandleTooLong {
                len: handle.len(),
                max: self.max_len,
            });
        }
        if self.open.contains_key(handle) {
            return Err(RespondError::DuplicateHandle);
        }
        Ok(())
    }

    /// Turns a reservation into an open handle (after [`check_new`](Self::check_new)).
    pub(crate) fn insert(&mut self, handle: Handle, kind: HandleKind) {
        self.release();
        self.open.insert(handle, kind);
    }

    /// Forgets a handle being closed.
    pub(crate) fn remove(&mut self, handle: &Handle) {
        self.open.remove(handle);
    }

    pub(crate) fn len(&self) -> usize {
        self.open.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&Handle, HandleKind)> {
        self.open.iter().map(|(h, k)| (h, *k))
    }
}
