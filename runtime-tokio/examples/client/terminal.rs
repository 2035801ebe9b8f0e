//! The local terminal: its size and modes for a `pty-req` (RFC 4254 §6.2, §8), and
//! raw mode while a remote pty runs, restored when the guard drops.

use std::io::{self, IsTerminal};

use rustix::termios::{
    ControlModes, InputModes, LocalModes, OptionalActions, OutputModes, SpecialCodeIndex, Termios,
    tcgetattr, tcgetwinsize, tcsetattr,
};
use sansh_tokio::core::channel::{PtyRequest, TerminalMode, TerminalModes};

/// `_POSIX_VDISABLE` as RFC 4254 §8 encodes it: the character is unset.
const DISABLED_CHAR: u32 = 255;

/// Whether our stdin is a terminal.
pub(crate) fn stdin_is_terminal() -> bool {
    io::stdin().is_terminal()
}

/// The terminal size in characters and pixels: `(cols, rows, width, height)`, zeros
/// when stdin is no terminal (as ssh sends for `-tt`).
pub(crate) fn window_size() -> (u32, u32, u32, u32) {
    match tcgetwinsize(io::stdin()) {
        Ok(size) => (
            size.ws_col.into(),
            size.ws_row.into(),
            size.ws_xpixel.into(),
            size.ws_ypixel.into(),
        ),
        Err(_) => (0, 0, 0, 0),
    }
}

/// The `pty-req` for our terminal: `TERM`, its size, and its modes (none when stdin
/// is no terminal).
pub(crate) fn pty_request() -> PtyRequest {
    let (cols, rows, width_px, height_px) = window_size();
    let modes = tcgetattr(io::stdin())
        .map(|termios| encode_modes(&termios))
        .unwrap_or_default();
    PtyRequest {
        term: std::env::var("TERM").unwrap_or_default(),
        cols,
        rows,
        width_px,
        height_px,
        modes,
    }
}

/// The special characters we pass on.
const CHARACTERS: [(TerminalMode, SpecialCodeIndex); 13] = [
    (TerminalMode::Vintr, SpecialCodeIndex::VINTR),
    (TerminalMode::Vquit, SpecialCodeIndex::VQUIT),
    (TerminalMode::Verase, SpecialCodeIndex::VERASE),
    (TerminalMode::Vkill, SpecialCodeIndex::VKILL),
    (TerminalMode::Veof, SpecialCodeIndex::VEOF),
    (TerminalMode::Veol, SpecialCodeIndex::VEOL),
    (TerminalMode::Vstart, SpecialCodeIndex::VSTART),
    (TerminalMode::Vstop, SpecialCodeIndex::VSTOP),
    (TerminalMode::Vsusp, SpecialCodeIndex::VSUSP),
    (TerminalMode::Vreprint, SpecialCodeIndex::VREPRINT),
    (TerminalMode::Vwerase, SpecialCodeIndex::VWERASE),
    (TerminalMode::Vlnext, SpecialCodeIndex::VLNEXT),
    (TerminalMode::Vdiscard, SpecialCodeIndex::VDISCARD),
];

const INPUT_FLAGS: [(TerminalMode, InputModes); 13] = [
    (TerminalMode::Ignpar, InputModes::IGNPAR),
    (TerminalMode::Parmrk, InputModes::PARMRK),
    (TerminalMode::Inpck, InputModes::INPCK),
    (TerminalMode::Istrip, InputModes::ISTRIP),
    (TerminalMode::Inlcr, InputModes::INLCR),
    (TerminalMode::Igncr, InputModes::IGNCR),
    (TerminalMode::Icrnl, InputModes::ICRNL),
    (TerminalMode::Iuclc, InputModes::IUCLC),
    (TerminalMode::Ixon, InputModes::IXON),
    (TerminalMode::Ixany, InputModes::IXANY),
    (TerminalMode::Ixoff, InputModes::IXOFF),
    (TerminalMode::Imaxbel, InputModes::IMAXBEL),
    (TerminalMode::Iutf8, InputModes::IUTF8),
];

const LOCAL_FLAGS: [(TerminalMode, LocalModes); 13] = [
    (TerminalMode::Isig, LocalModes::ISIG),
    (TerminalMode::Icanon, LocalModes::ICANON),
    (TerminalMode::Xcase, LocalModes::XCASE),
    (TerminalMode::Echo, LocalModes::ECHO),
    (TerminalMode::Echoe, LocalModes::ECHOE),
    (TerminalMode::Echok, LocalModes::ECHOK),
    (TerminalMode::Echonl, LocalModes::ECHONL),
    (TerminalMode::Noflsh, LocalModes::NOFLSH),
    (TerminalMode::Tostop, LocalModes::TOSTOP),
    (TerminalMode::Iexten, LocalModes::IEXTEN),
    (TerminalMode::Echoctl, LocalModes::ECHOCTL),
    (TerminalMode::Echoke, LocalModes::ECHOKE),
    (TerminalMode::Pendin, LocalModes::PENDIN),
];

const OUTPUT_FLAGS: [(TerminalMode, OutputModes); 6] = [
    (TerminalMode::Opost, OutputModes::OPOST),
    (TerminalMode::Olcuc, OutputModes::OLCUC),
    (TerminalMode::Onlcr, OutputModes::ONLCR),
    (TerminalMode::Ocrnl, OutputModes::OCRNL),
    (TerminalMode::Onocr, OutputModes::ONOCR),
    (TerminalMode::Onlret, OutputModes::ONLRET),
];

const CONTROL_FLAGS: [(TerminalMode, ControlModes); 2] = [
    (TerminalMode::Parenb, ControlModes::PARENB),
    (TerminalMode::Parodd, ControlModes::PARODD),
];

/// Encodes the terminal's settings as ssh's `tty_make_modes` does: speeds, special
/// characters, then each flag as 0 or 1.
fn encode_modes(termios: &Termios) -> TerminalModes {
    let mut modes = TerminalModes::new();
    modes.set(TerminalMode::InputSpeed, termios.input_speed());
    modes.set(TerminalMode::OutputSpeed, termios.output_speed());
    for (mode, index) in CHARACTERS {
        let value = termios.special_codes[index];
        // NUL is how Linux spells "no character" (_POSIX_VDISABLE).
        let value = if value == 0 {
            DISABLED_CHAR
        } else {
            value.into()
        };
        modes.set(mode, value);
    }
    for (mode, flag) in INPUT_FLAGS {
        modes.set(mode, termios.input_modes.contains(flag).into());
    }
    for (mode, flag) in LOCAL_FLAGS {
        modes.set(mode, termios.local_modes.contains(flag).into());
    }
    for (mode, flag) in OUTPUT_FLAGS {
        modes.set(mode, termios.output_modes.contains(flag).into());
    }
    let size = termios.control_modes & ControlModes::CSIZE;
    modes.set(TerminalMode::Cs7, u32::from(size == ControlModes::CS7));
    modes.set(TerminalMode::Cs8, u32::from(size == ControlModes::CS8));
    for (mode, flag) in CONTROL_FLAGS {
        modes.set(mode, termios.control_modes.contains(flag).into());
    }
    modes
}

/// The terminal in raw mode; its settings come back when this drops (the end of
/// the session, an error, a panic that unwinds).
pub(crate) struct RawMode {
    saved: Termios,
}

impl RawMode {
    /// Puts stdin's terminal in raw mode as ssh's `enter_raw_mode` does: no echo, no
    /// line editing, no signals from keys, no output processing; every key goes to
    /// the remote pty. `None` when stdin is no terminal.
    pub(crate) fn enter() -> io::Result<Option<Self>> {
        if !stdin_is_terminal() {
            return Ok(None);
        }
        let saved = tcgetattr(io::stdin())?;
        let mut raw = saved.clone();
        raw.input_modes.insert(InputModes::IGNPAR);
        raw.input_modes.remove(
            InputModes::ISTRIP
                | InputModes::INLCR
                | InputModes::IGNCR
                | InputModes::ICRNL
                | InputModes::IXON
                | InputModes::IXANY
                | InputModes::IXOFF
                | InputModes::IUCLC,
        );
        raw.local_modes.remove(
            LocalModes::ISIG
                | LocalModes::ICANON
                | LocalModes::ECHO
                | LocalModes::ECHOE
                | LocalModes::ECHOK
                | LocalModes::ECHONL
                | LocalModes::IEXTEN,
        );
        raw.output_modes.remove(OutputModes::OPOST);
        raw.special_codes[SpecialCodeIndex::VMIN] = 1;
        raw.special_codes[SpecialCodeIndex::VTIME] = 0;
        tcsetattr(io::stdin(), OptionalActions::Drain, &raw)?;
        Ok(Some(Self { saved }))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // Nothing better to do if the terminal is gone.
        let _ = tcsetattr(io::stdin(), OptionalActions::Drain, &self.saved);
    }
}
