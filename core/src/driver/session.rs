//! Running one command and collecting its output: [`Connection::run`].

use std::future::poll_fn;

use super::channel::{ChannelError, ExitSignal};
use super::engine::Engine;
use super::handle::Connection;
use crate::channel;

/// What a command run with [`Connection::run`] produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunOutput {
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
    /// Its exit status, if the server sent one.
    pub exit_status: Option<u32>,
    /// The signal that killed it, if the server sent one.
    pub exit_signal: Option<ExitSignal>,
}

impl<E: Engine> Connection<E> {
    /// Runs `command` in a new session with empty stdin, and collects its output and
    /// exit status once the server closes the channel.
    ///
    /// The output is gathered in memory: for large or endless output, use
    /// [`Connection::open_session`] and read the [`Channel`](super::Channel).
    ///
    /// # Errors
    /// As [`Connection::open_session`] and [`Channel::exec`](super::Channel::exec).
    pub async fn run(&self, command: impl AsRef<[u8]>) -> Result<RunOutput, ChannelError> {
        let mut channel = self.open_session().await?;
        channel.exec(command).await?;
        match channel.write_eof() {
            // A command that finished at once has closed the channel already.
            Ok(()) | Err(ChannelError::Channel(channel::ChannelError::Closed)) => {}
            Err(error) => return Err(error),
        }
        let mut output = RunOutput::default();
        let mut done = [false; 2];
        poll_fn(|cx| channel.poll_drain(cx, &mut output.stdout, &mut output.stderr, &mut done))
            .await?;
        channel.wait_closed().await?;
        output.exit_status = channel.exit_status();
        output.exit_signal = channel.exit_signal();
        Ok(output)
    }
}
