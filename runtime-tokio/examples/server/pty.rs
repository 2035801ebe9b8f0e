//! Pseudo-terminals: open a master/slave pair, apply the client's terminal modes and
//! window size (RFC 4254 §6.2, §6.7, §8), and read and write the master on tokio.
//!
//! Everything goes through rustix's safe wrappers; the child is given the slave as
//! its controlling terminal by `setsid --ctty` (see `process`), so no `unsafe`
//! pre-exec hook is needed.

use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use rustix::io::Errno;
use rustix::pty::OpenptFlags;
use rustix::termios::{
    ControlModes, InputModes, LocalModes, OptionalActions, OutputModes, SpecialCodeIndex, Termios,
    Winsize,
};
use sansh_tokio::core::channel::{PtyRequest, TerminalMode, TerminalModes};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::unix::pipe;

/// The terminal size of a `pty-req` or `window-change`, as the client sent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Size {
    pub(crate) cols: u32,
    pub(crate) rows: u32,
    pub(crate) width_px: u32,
    pub(crate) height_px: u32,
}

impl Size {
    /// The size asked for in `request`.
    pub(crate) fn of(request: &PtyRequest) -> Self {
        Self {
            cols: request.cols,
            rows: request.rows,
            width_px: request.width_px,
            height_px: request.height_px,
        }
    }

    /// The kernel's form: values past 65535 (hostile or absurd) are clamped.
    fn winsize(self) -> Winsize {
        let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
        Winsize {
            ws_row: clamp(self.rows),
            ws_col: clamp(self.cols),
            ws_xpixel: clamp(self.width_px),
            ws_ypixel: clamp(self.height_px),
        }
    }
}

/// The slave side, until the child is started on it.
#[derive(Debug)]
pub(crate) struct PtySlave {
    fd: OwnedFd,
    /// The device path (`/dev/pts/N`), for `SSH_TTY`.
    pub(crate) path: String,
}

impl PtySlave {
    /// A new descriptor on the slave, for one of the child's standard streams.
    pub(crate) fn stdio(&self) -> io::Result<std::process::Stdio> {
        Ok(std::process::Stdio::from(self.fd.try_clone()?))
    }
}

/// Opens a pty pair with `modes` applied and the window set to `size`.
pub(crate) fn open(modes: &TerminalModes, size: Size) -> io::Result<(PtyMaster, PtySlave)> {
    let flags = OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC;
    let master = rustix::pty::openpt(flags)?;
    rustix::pty::grantpt(&master)?;
    rustix::pty::unlockpt(&master)?;
    let path = rustix::pty::ptsname(&master, Vec::new())?
        .to_string_lossy()
        .into_owned();
    // TIOCGPTPEER opens the slave of this very master, with no path lookup to race.
    let slave = rustix::pty::ioctl_tiocgptpeer(&master, flags)?;
    let mut termios = rustix::termios::tcgetattr(&slave)?;
    apply_modes(&mut termios, modes);
    rustix::termios::tcsetattr(&slave, OptionalActions::Now, &termios)?;
    rustix::termios::tcsetwinsize(&master, size.winsize())?;
    rustix::io::ioctl_fionbio(&master, true)?;
    Ok((PtyMaster::new(master)?, PtySlave { fd: slave, path }))
}

/// Where a terminal mode lands in `termios`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setting {
    Char(SpecialCodeIndex),
    Input(InputModes),
    Local(LocalModes),
    Output(OutputModes),
    /// A character size (CS7, CS8): set replaces the size field.
    CharSize(ControlModes),
    Control(ControlModes),
    InputSpeed,
    OutputSpeed,
}

/// The `termios` setting of a mode; `None` for modes this system has no such thing
/// for (VDSUSP, VSTATUS, XCASE, ...), which are ignored as sshd ignores them.
fn setting(mode: TerminalMode) -> Option<Setting> {
    use Setting::{Char, Control, Input, Local, Output};
    use TerminalMode as M;
    Some(match mode {
        M::Vintr => Char(SpecialCodeIndex::VINTR),
        M::Vquit => Char(SpecialCodeIndex::VQUIT),
        M::Verase => Char(SpecialCodeIndex::VERASE),
        M::Vkill => Char(SpecialCodeIndex::VKILL),
        M::Veof => Char(SpecialCodeIndex::VEOF),
        M::Veol => Char(SpecialCodeIndex::VEOL),
        M::Veol2 => Char(SpecialCodeIndex::VEOL2),
        M::Vstart => Char(SpecialCodeIndex::VSTART),
        M::Vstop => Char(SpecialCodeIndex::VSTOP),
        M::Vsusp => Char(SpecialCodeIndex::VSUSP),
        M::Vreprint => Char(SpecialCodeIndex::VREPRINT),
        M::Vwerase => Char(SpecialCodeIndex::VWERASE),
        M::Vlnext => Char(SpecialCodeIndex::VLNEXT),
        M::Vdiscard => Char(SpecialCodeIndex::VDISCARD),
        M::Ignpar => Input(InputModes::IGNPAR),
        M::Parmrk => Input(InputModes::PARMRK),
        M::Inpck => Input(InputModes::INPCK),
        M::Istrip => Input(InputModes::ISTRIP),
        M::Inlcr => Input(InputModes::INLCR),
        M::Igncr => Input(InputModes::IGNCR),
        M::Icrnl => Input(InputModes::ICRNL),
        M::Iuclc => Input(InputModes::IUCLC),
        M::Ixon => Input(InputModes::IXON),
        M::Ixany => Input(InputModes::IXANY),
        M::Ixoff => Input(InputModes::IXOFF),
        M::Imaxbel => Input(InputModes::IMAXBEL),
        M::Iutf8 => Input(InputModes::IUTF8),
        M::Isig => Local(LocalModes::ISIG),
        M::Icanon => Local(LocalModes::ICANON),
        M::Echo => Local(LocalModes::ECHO),
        M::Echoe => Local(LocalModes::ECHOE),
        M::Echok => Local(LocalModes::ECHOK),
        M::Echonl => Local(LocalModes::ECHONL),
        M::Noflsh => Local(LocalModes::NOFLSH),
        M::Tostop => Local(LocalModes::TOSTOP),
        M::Iexten => Local(LocalModes::IEXTEN),
        M::Echoctl => Local(LocalModes::ECHOCTL),
        M::Echoke => Local(LocalModes::ECHOKE),
        M::Pendin => Local(LocalModes::PENDIN),
        M::Opost => Output(OutputModes::OPOST),
        M::Olcuc => Output(OutputModes::OLCUC),
        M::Onlcr => Output(OutputModes::ONLCR),
        M::Ocrnl => Output(OutputModes::OCRNL),
        M::Onocr => Output(OutputModes::ONOCR),
        M::Onlret => Output(OutputModes::ONLRET),
        M::Cs7 => Setting::CharSize(ControlModes::CS7),
        M::Cs8 => Setting::CharSize(ControlModes::CS8),
        M::Parenb => Control(ControlModes::PARENB),
        M::Parodd => Control(ControlModes::PARODD),
        M::InputSpeed => Setting::InputSpeed,
        M::OutputSpeed => Setting::OutputSpeed,
        _ => return None,
    })
}

/// Applies the client's modes over the system's defaults. A flag is set by a
/// non-zero value and cleared by zero; a special character of 255 disables it
/// (RFC 4254 §8 leaves the encoding to POSIX; OpenSSH sends 255 for "none").
fn apply_modes(termios: &mut Termios, modes: &TerminalModes) {
    for (mode, value) in modes.iter() {
        let on = value != 0;
        match setting(mode) {
            Some(Setting::Char(index)) => {
                // Linux's _POSIX_VDISABLE is 0.
                termios.special_codes[index] = match u8::try_from(value) {
                    Ok(255) | Err(_) => 0,
                    Ok(c) => c,
                };
            }
            Some(Setting::Input(bit)) => termios.input_modes.set(bit, on),
            Some(Setting::Local(bit)) => termios.local_modes.set(bit, on),
            Some(Setting::Output(bit)) => termios.output_modes.set(bit, on),
            Some(Setting::Control(bit)) => termios.control_modes.set(bit, on),
            // Zero for a size clears nothing: some other size is then in force.
            Some(Setting::CharSize(size)) if on => {
                termios.control_modes.remove(ControlModes::CSIZE);
                termios.control_modes.insert(size);
            }
            // A speed the system cannot set leaves the default.
            Some(Setting::InputSpeed) => drop(termios.set_input_speed(value)),
            Some(Setting::OutputSpeed) => drop(termios.set_output_speed(value)),
            Some(Setting::CharSize(_)) | None => {}
        }
    }
}

/// The master side: the child's terminal seen from the server. Reading and writing
/// go through separate descriptors of the master, so that each direction can live
/// on its own task.
#[derive(Debug)]
pub(crate) struct PtyMaster {
    pub(crate) reader: PtyReader,
    pub(crate) writer: PtyWriter,
    pub(crate) control: PtyControl,
}

/// Resizes the terminal.
#[derive(Debug, Clone)]
pub(crate) struct PtyControl(Arc<OwnedFd>);

impl PtyControl {
    /// Sets the window size; the kernel sends SIGWINCH to the foreground job.
    pub(crate) fn resize(&self, size: Size) -> io::Result<()> {
        rustix::termios::tcsetwinsize(&*self.0, size.winsize())?;
        Ok(())
    }
}

/// What the child writes to its terminal.
#[derive(Debug)]
pub(crate) struct PtyReader(pipe::Receiver);

/// What the child reads from its terminal.
#[derive(Debug)]
pub(crate) struct PtyWriter(pipe::Sender);

impl PtyMaster {
    /// Wraps a non-blocking master descriptor; needs the tokio runtime.
    fn new(master: OwnedFd) -> io::Result<Self> {
        // tokio's pipe types poll any non-blocking descriptor, a pty master too,
        // with no unsafe code on this side.
        let reader = PtyReader(pipe::Receiver::from_owned_fd_unchecked(
            master.try_clone()?,
        )?);
        let writer = PtyWriter(pipe::Sender::from_owned_fd_unchecked(master.try_clone()?)?);
        Ok(Self {
            reader,
            writer,
            control: PtyControl(Arc::new(master)),
        })
    }
}

impl AsyncRead for PtyReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match ready!(Pin::new(&mut self.0).poll_read(cx, buf)) {
            // Linux reports EIO once no descriptor of the slave is open: the child
            // and everything it started have let go of the terminal.
            Err(e) if e.raw_os_error() == Some(Errno::IO.raw_os_error()) => Poll::Ready(Ok(())),
            other => Poll::Ready(other),
        }
    }
}

impl AsyncWrite for PtyWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// A terminal has no half-close: the child sees the end of input only when the
    /// terminal goes away, so shutting down writes nothing.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn modes(list: &[(TerminalMode, u32)]) -> TerminalModes {
        let mut modes = TerminalModes::new();
        for (mode, value) in list {
            modes.set(*mode, *value);
        }
        modes
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    }

    fn size(cols: u32, rows: u32) -> Size {
        Size {
            cols,
            rows,
            width_px: 0,
            height_px: 0,
        }
    }

    #[test]
    fn every_mode_linux_has_maps_to_a_setting() {
        let unmapped: Vec<TerminalMode> = TerminalMode::ALL
            .iter()
            .copied()
            .filter(|m| setting(*m).is_none())
            .collect();
        use TerminalMode as M;
        assert_eq!(
            unmapped,
            [M::Vdsusp, M::Vflush, M::Vswtch, M::Vstatus, M::Xcase]
        );
    }

    #[test]
    fn modes_reach_the_slave_termios() {
        runtime().block_on(async {
            let requested = modes(&[
                (TerminalMode::Echo, 0),
                (TerminalMode::Icanon, 0),
                (TerminalMode::Vintr, 7),
                (TerminalMode::Vquit, 255),
                (TerminalMode::Onlcr, 0),
                (TerminalMode::Iutf8, 1),
                (TerminalMode::OutputSpeed, 9600),
            ]);
            let (_master, slave) = open(&requested, size(80, 24)).expect("pty");
            let termios = rustix::termios::tcgetattr(&slave.fd).expect("tcgetattr");
            assert!(!termios.local_modes.contains(LocalModes::ECHO));
            assert!(!termios.local_modes.contains(LocalModes::ICANON));
            assert!(!termios.output_modes.contains(OutputModes::ONLCR));
            assert!(termios.input_modes.contains(InputModes::IUTF8));
            assert_eq!(termios.special_codes[SpecialCodeIndex::VINTR], 7);
            assert_eq!(termios.special_codes[SpecialCodeIndex::VQUIT], 0);
            assert_eq!(termios.output_speed(), 9600);
        });
    }

    #[test]
    fn the_window_size_is_set_and_changed_on_the_master() {
        runtime().block_on(async {
            let (master, slave) = open(&TerminalModes::new(), size(132, 43)).expect("pty");
            let winsize = rustix::termios::tcgetwinsize(&slave.fd).expect("winsize");
            assert_eq!((winsize.ws_col, winsize.ws_row), (132, 43));
            master.control.resize(size(70_000, 5)).expect("resize");
            let winsize = rustix::termios::tcgetwinsize(&slave.fd).expect("winsize");
            assert_eq!((winsize.ws_col, winsize.ws_row), (u16::MAX, 5));
        });
    }

    #[test]
    fn master_reads_what_the_slave_wrote_then_ends_when_the_slave_closes() {
        runtime().block_on(async {
            let raw = modes(&[(TerminalMode::Onlcr, 0), (TerminalMode::Echo, 0)]);
            let (mut master, slave) = open(&raw, size(80, 24)).expect("pty");
            rustix::io::write(&slave.fd, b"hello\n").expect("write slave");
            drop(slave);
            let mut out = Vec::new();
            master
                .reader
                .read_to_end(&mut out)
                .await
                .expect("read master");
            assert_eq!(out, b"hello\n");
        });
    }

    #[test]
    fn what_the_master_writes_the_slave_reads() {
        runtime().block_on(async {
            let (mut master, slave) = open(&TerminalModes::new(), size(80, 24)).expect("pty");
            master
                .writer
                .write_all(b"typed\n")
                .await
                .expect("write master");
            let mut line = [0u8; 16];
            let n = rustix::io::read(&slave.fd, &mut line).expect("read slave");
            assert_eq!(&line[..n], b"typed\n");
        });
    }
}
