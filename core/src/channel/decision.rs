//! The peer's channel opens, channel requests and global requests, waiting for the
//! application's answer (see [`crate::channel`] for the ordering guarantees).

use super::{ChannelId, ChannelKind, ChannelRequest, GlobalRequest};
use crate::decision::TokenGuard;

/// An incoming channel open; answer with
/// [`Channels::accept_open`](super::Channels::accept_open) or
/// [`Channels::reject_open`](super::Channels::reject_open). Dropping it refuses the
/// channel as administratively prohibited.
#[derive(Debug)]
pub struct ChannelOpenDecision {
    pub(crate) guard: TokenGuard,
    kind: ChannelKind,
    peer_window: u32,
    peer_max_packet: u32,
}

impl ChannelOpenDecision {
    pub(crate) fn new(
        guard: TokenGuard,
        kind: ChannelKind,
        peer_window: u32,
        peer_max_packet: u32,
    ) -> Self {
        Self {
            guard,
            kind,
            peer_window,
            peer_max_packet,
        }
    }

    /// What the peer wants the channel for.
    pub fn kind(&self) -> &ChannelKind {
        &self.kind
    }

    /// The window the peer gives us initially.
    pub fn peer_window(&self) -> u32 {
        self.peer_window
    }

    /// The largest data packet the peer accepts.
    pub fn peer_max_packet(&self) -> u32 {
        self.peer_max_packet
    }
}

/// An incoming channel request. When it wants a reply, answer with
/// [`Channels::accept_request`](super::Channels::accept_request) or
/// [`Channels::reject_request`](super::Channels::reject_request); dropping it answers
/// failure. Requests without `want reply` need no answer.
#[derive(Debug)]
pub struct ChannelRequestDecision {
    pub(crate) guard: Option<TokenGuard>,
    channel: ChannelId,
    request: ChannelRequest,
}

impl ChannelRequestDecision {
    pub(crate) fn new(
        guard: Option<TokenGuard>,
        channel: ChannelId,
        request: ChannelRequest,
    ) -> Self {
        Self {
            guard,
            channel,
            request,
        }
    }

    /// The channel the request is for.
    pub fn channel(&self) -> ChannelId {
        self.channel
    }

    /// The request.
    pub fn request(&self) -> &ChannelRequest {
        &self.request
    }

    /// Whether the peer waits for an answer.
    pub fn want_reply(&self) -> bool {
        self.guard.is_some()
    }
}

/// An incoming global request. When it wants a reply, answer with
/// [`Channels::accept_global`](super::Channels::accept_global) or
/// [`Channels::reject_global`](super::Channels::reject_global); dropping it answers
/// failure.
#[derive(Debug)]
pub struct GlobalRequestDecision {
    pub(crate) guard: Option<TokenGuard>,
    request: GlobalRequest,
}

impl GlobalRequestDecision {
    pub(crate) fn new(guard: Option<TokenGuard>, request: GlobalRequest) -> Self {
        Self { guard, request }
    }

    /// The request.
    pub fn request(&self) -> &GlobalRequest {
        &self.request
    }

    /// Whether the peer waits for an answer.
    pub fn want_reply(&self) -> bool {
        self.guard.is_some()
    }
}
