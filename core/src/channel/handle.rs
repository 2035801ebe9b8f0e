//! The application's view of the connection protocol: borrowed sub-handles of a
//! connection, as quinn-proto's streams.

use bytes::Bytes;

use super::decision::{ChannelOpenDecision, ChannelRequestDecision, GlobalRequestDecision};
use super::layer::ConnectionLayer;
use super::state::{ChannelState, Reply};
use super::wire::{self, EXTENDED_DATA_STDERR};
use super::{
    ChannelError, ChannelId, ChannelKind, ChannelRequest, GlobalRequest, OpenFailureReason,
    PtyRequest, WriteError, X11Request,
};
use crate::transport::Transport;

/// The connection's channels: open new ones, answer the peer's opens and requests,
/// and send global requests. Get it from `conn.channels()`.
pub struct Channels<'a> {
    layer: &'a mut ConnectionLayer,
    transport: &'a mut Transport,
}

impl std::fmt::Debug for Channels<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channels")
            .field("count", &self.layer.channel_count())
            .finish_non_exhaustive()
    }
}

impl<'a> Channels<'a> {
    pub(crate) fn new(layer: &'a mut ConnectionLayer, transport: &'a mut Transport) -> Self {
        layer.after_call(transport);
        Self { layer, transport }
    }

    /// Opens a `session` channel (RFC 4254 §6.1). `ChannelOpened` or
    /// `ChannelOpenFailed` follows; data and requests given before then are queued.
    pub fn open_session(&mut self) -> Result<ChannelId, ChannelError> {
        self.open(ChannelKind::Session)
    }

    /// Opens a channel of any type (forwarding, agent, or one of your own).
    pub fn open(&mut self, kind: ChannelKind) -> Result<ChannelId, ChannelError> {
        self.layer.open(self.transport, &kind)
    }

    /// Opens a channel like [`Self::open`], but with its own receive window and
    /// largest accepted data packet instead of the [`ConnectionConfig`]'s
    /// (RFC 4254 §5.1, §5.2): e.g. a bulk transfer's channel with a larger window and
    /// packets. `max_packet` plus the message header and padding must fit in
    /// [`Limits::max_packet_len`](crate::config::Limits::max_packet_len); 0 counts
    /// as 1.
    ///
    /// [`ConnectionConfig`]: crate::config::ConnectionConfig
    pub fn open_with(
        &mut self,
        kind: ChannelKind,
        window: u32,
        max_packet: u32,
    ) -> Result<ChannelId, ChannelError> {
        self.layer
            .open_with(self.transport, &kind, window, max_packet)
    }

    /// Accepts the peer's channel open: the channel is open at once.
    pub fn accept_open(
        &mut self,
        decision: ChannelOpenDecision,
    ) -> Result<ChannelId, ChannelError> {
        let token = decision.guard.answer();
        self.layer.accept_open(self.transport, token)
    }

    /// Refuses the peer's channel open with a reason code (RFC 4254 §5.1) and text.
    pub fn reject_open(
        &mut self,
        decision: ChannelOpenDecision,
        reason: OpenFailureReason,
        description: &str,
    ) {
        let token = decision.guard.answer();
        self.layer
            .reject_open(self.transport, token, reason, description);
    }

    /// Answers the peer's channel request with CHANNEL_SUCCESS (a no-op when it did
    /// not want a reply). Answers go out in the order the requests came.
    pub fn accept_request(&mut self, decision: ChannelRequestDecision) {
        self.answer_request(decision, true);
    }

    /// Answers the peer's channel request with CHANNEL_FAILURE.
    pub fn reject_request(&mut self, decision: ChannelRequestDecision) {
        self.answer_request(decision, false);
    }

    fn answer_request(&mut self, decision: ChannelRequestDecision, success: bool) {
        let channel = decision.channel().0;
        if let Some(guard) = decision.guard {
            let token = guard.answer();
            self.layer
                .answer_channel_request(self.transport, channel, token, success);
        }
    }

    /// Answers the peer's global request with REQUEST_SUCCESS; `bound_port` is the
    /// port chosen for a `tcpip-forward` of port 0 (RFC 4254 §7.1).
    pub fn accept_global(&mut self, decision: GlobalRequestDecision, bound_port: Option<u32>) {
        if let Some(guard) = decision.guard {
            let reply = Reply {
                success: true,
                bound_port,
            };
            self.layer
                .answer_global(self.transport, guard.answer(), reply);
        }
    }

    /// Answers the peer's global request with REQUEST_FAILURE.
    pub fn reject_global(&mut self, decision: GlobalRequestDecision) {
        if let Some(guard) = decision.guard {
            self.layer
                .answer_global(self.transport, guard.answer(), Reply::FAILURE);
        }
    }

    /// Sends a global request (RFC 4254 §4). With `want_reply`,
    /// `GlobalRequestResult` follows, in the order of the requests.
    pub fn global_request(
        &mut self,
        request: &GlobalRequest,
        want_reply: bool,
    ) -> Result<(), ChannelError> {
        self.layer
            .global_request(self.transport, request, want_reply)
    }

    /// Tells the server no more sessions will be opened
    /// (`no-more-sessions@openssh.com`), so a hijacked connection cannot start one.
    pub fn no_more_sessions(&mut self) -> Result<(), ChannelError> {
        self.global_request(&GlobalRequest::NoMoreSessions, false)
    }

    /// How many channels are open or being opened.
    pub fn len(&self) -> usize {
        self.layer.channel_count()
    }

    /// True when no channel is open or being opened.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One channel: write, read, requests, EOF and close. Get it from
/// `conn.channel(id)`; on a channel that is gone every operation reports `Closed`.
pub struct Channel<'a> {
    id: ChannelId,
    layer: &'a mut ConnectionLayer,
    transport: &'a mut Transport,
}

impl std::fmt::Debug for Channel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<'a> Channel<'a> {
    pub(crate) fn new(
        id: ChannelId,
        layer: &'a mut ConnectionLayer,
        transport: &'a mut Transport,
    ) -> Self {
        layer.after_call(transport);
        Self {
            id,
            layer,
            transport,
        }
    }

    /// The channel's id.
    pub fn id(&self) -> ChannelId {
        self.id
    }

    fn state(&self) -> Option<&ChannelState> {
        self.layer.channels.get(&self.id.0)
    }

    // ---- data ----

    /// Writes data; returns how many bytes were taken (possibly fewer than given).
    /// Data goes out in packets no larger than the peer's maximum, as its window
    /// allows; the rest waits in a bounded queue. `Blocked` means nothing was taken:
    /// wait for `ChannelWritable`.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, WriteError> {
        self.layer.write(self.transport, self.id.0, None, data)
    }

    /// Writes extended data of type `SSH_EXTENDED_DATA_STDERR` (RFC 4254 §5.2).
    pub fn write_stderr(&mut self, data: &[u8]) -> Result<usize, WriteError> {
        self.layer
            .write(self.transport, self.id.0, Some(EXTENDED_DATA_STDERR), data)
    }

    /// The next chunk of data received (a slice of the decrypted packet, not a copy),
    /// or `None` when nothing is buffered. Reading gives the peer window credit back.
    pub fn read(&mut self) -> Option<Bytes> {
        self.read_max(usize::MAX)
    }

    /// Like [`Self::read`], but at most `max` bytes.
    pub fn read_max(&mut self, max: usize) -> Option<Bytes> {
        self.layer.read(self.transport, self.id.0, false, max)
    }

    /// The next chunk of stderr data (extended data type 1).
    pub fn read_stderr(&mut self) -> Option<Bytes> {
        self.read_stderr_max(usize::MAX)
    }

    /// Like [`Self::read_stderr`], but at most `max` bytes.
    pub fn read_stderr_max(&mut self, max: usize) -> Option<Bytes> {
        self.layer.read(self.transport, self.id.0, true, max)
    }

    /// Sends EOF once the data written before it has gone out; the channel stays
    /// open for reading (RFC 4254 §5.3).
    pub fn eof(&mut self) -> Result<(), ChannelError> {
        self.layer.eof(self.transport, self.id.0)
    }

    /// Closes the channel: CLOSE goes out after every byte written before it (and
    /// after EOF). From now on data from the peer is dropped. `ChannelClosed`
    /// follows once the peer's CLOSE arrives; then the id is free.
    pub fn close(&mut self) -> Result<(), ChannelError> {
        self.layer.close(self.transport, self.id.0)
    }

    // ---- getters ----

    /// True once the channel is confirmed and until it starts closing.
    pub fn is_open(&self) -> bool {
        self.state()
            .is_some_and(|ch| ch.remote.is_some() && ch.writable())
    }

    /// True once the peer sent EOF.
    pub fn peer_eof(&self) -> bool {
        self.state().is_some_and(|ch| ch.peer_eof)
    }

    /// Bytes the peer's window lets us send now.
    pub fn send_window(&self) -> u32 {
        self.state().map_or(0, |ch| ch.send.available())
    }

    /// Bytes the peer may still send before we give it more window.
    pub fn receive_window(&self) -> u32 {
        self.state().map_or(0, |ch| ch.recv.available())
    }

    /// Bytes written but not sent yet.
    pub fn queued(&self) -> usize {
        self.state().map_or(0, |ch| ch.queued)
    }

    /// The largest data packet the peer accepts (0 until the channel is open).
    pub fn peer_max_packet(&self) -> u32 {
        self.state().map_or(0, |ch| ch.peer_max_packet)
    }

    // ---- requests ----

    /// Sends any channel request. With `want_reply`, `ChannelRequestResult` follows,
    /// in the order of the requests.
    pub fn request(
        &mut self,
        request: &ChannelRequest,
        want_reply: bool,
    ) -> Result<(), ChannelError> {
        self.layer
            .request(self.transport, self.id.0, request, want_reply)
    }

    /// Asks for a pseudo-terminal (`pty-req`, RFC 4254 §6.2).
    pub fn request_pty(&mut self, pty: &PtyRequest, want_reply: bool) -> Result<(), ChannelError> {
        self.request(&ChannelRequest::Pty(pty.clone()), want_reply)
    }

    /// Asks for X11 forwarding (`x11-req`, RFC 4254 §6.3.1).
    pub fn request_x11(&mut self, x11: &X11Request, want_reply: bool) -> Result<(), ChannelError> {
        self.request(&ChannelRequest::X11(x11.clone()), want_reply)
    }

    /// Asks for agent forwarding (`auth-agent-req@openssh.com`).
    pub fn request_agent_forwarding(&mut self, want_reply: bool) -> Result<(), ChannelError> {
        self.request(&ChannelRequest::AuthAgent, want_reply)
    }

    /// Sets an environment variable (`env`, RFC 4254 §6.4).
    pub fn request_env(
        &mut self,
        name: &str,
        value: &str,
        want_reply: bool,
    ) -> Result<(), ChannelError> {
        let request = ChannelRequest::Env {
            name: name.to_owned(),
            value: value.to_owned(),
        };
        self.request(&request, want_reply)
    }

    /// Starts the user's shell (`shell`, RFC 4254 §6.5).
    pub fn request_shell(&mut self, want_reply: bool) -> Result<(), ChannelError> {
        self.request(&ChannelRequest::Shell, want_reply)
    }

    /// Runs a command (`exec`, RFC 4254 §6.5).
    pub fn request_exec(
        &mut self,
        command: impl AsRef<[u8]>,
        want_reply: bool,
    ) -> Result<(), ChannelError> {
        let command = command.as_ref().to_vec();
        self.request(&ChannelRequest::Exec { command }, want_reply)
    }

    /// Starts a subsystem such as `sftp` (`subsystem`, RFC 4254 §6.5).
    pub fn request_subsystem(&mut self, name: &str, want_reply: bool) -> Result<(), ChannelError> {
        let name = name.to_owned();
        self.request(&ChannelRequest::Subsystem { name }, want_reply)
    }

    /// Reports a new terminal size (`window-change`, RFC 4254 §6.7; never wants a
    /// reply).
    pub fn window_change(
        &mut self,
        cols: u32,
        rows: u32,
        width_px: u32,
        height_px: u32,
    ) -> Result<(), ChannelError> {
        let request = ChannelRequest::WindowChange {
            cols,
            rows,
            width_px,
            height_px,
        };
        self.request(&request, false)
    }

    /// Delivers a signal, named without `SIG` (`signal`, RFC 4254 §6.9).
    pub fn signal(&mut self, name: &str) -> Result<(), ChannelError> {
        let name = name.to_owned();
        self.request(&ChannelRequest::Signal { name }, false)
    }

    /// Sends a BREAK of `ms` milliseconds (`break`, RFC 4335).
    pub fn send_break(&mut self, ms: u32, want_reply: bool) -> Result<(), ChannelError> {
        self.request(&ChannelRequest::Break { ms }, want_reply)
    }

    /// (Server) Tells the client whether it may handle ^S/^Q itself (`xon-xoff`,
    /// RFC 4254 §6.8).
    pub fn xon_xoff(&mut self, client_can_do: bool) -> Result<(), ChannelError> {
        self.request(&ChannelRequest::XonXoff { client_can_do }, false)
    }

    /// (Server) Reports the command's exit status (`exit-status`, RFC 4254 §6.10).
    pub fn exit_status(&mut self, status: u32) -> Result<(), ChannelError> {
        self.request(&ChannelRequest::ExitStatus(status), false)
    }

    /// (Server) Reports that the command was killed by a signal (`exit-signal`,
    /// RFC 4254 §6.10).
    pub fn exit_signal(
        &mut self,
        name: &str,
        core_dumped: bool,
        message: &str,
    ) -> Result<(), ChannelError> {
        let request = ChannelRequest::ExitSignal {
            name: name.to_owned(),
            core_dumped,
            message: message.to_owned(),
        };
        self.request(&request, false)
    }
}

impl ConnectionLayer {
    pub(super) fn accept_open(
        &mut self,
        t: &mut Transport,
        token: u64,
    ) -> Result<ChannelId, ChannelError> {
        let open = self
            .pending_opens
            .remove(&token)
            .ok_or(ChannelError::Closed)?;
        if t.is_closed() {
            return Err(ChannelError::ConnectionClosed);
        }
        let id = self.allocate_id();
        let (window, max_packet) = (self.config.window_size, self.config.max_packet_size);
        let state = ChannelState::accepted(
            open.remote,
            open.window,
            open.max_packet,
            window,
            max_packet,
        );
        self.channels.insert(id, state);
        let confirmation = wire::encode_open_confirmation(open.remote, id, window, max_packet);
        self.send_global(t, confirmation);
        Ok(ChannelId(id))
    }

    pub(super) fn reject_open(
        &mut self,
        t: &mut Transport,
        token: u64,
        reason: OpenFailureReason,
        description: &str,
    ) {
        if let Some(open) = self.pending_opens.remove(&token) {
            let failure = wire::encode_open_failure(open.remote, reason.code(), description);
            self.send_global(t, failure);
        }
    }
}
