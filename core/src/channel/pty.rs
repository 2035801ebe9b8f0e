//! Pseudo-terminal requests and the encoded terminal modes (RFC 4254 §6.2, §8;
//! RFC 4250 §4.5.2; IUTF8 from RFC 8160).

use super::wire::lossy;
use crate::wire::{Reader, WireError, Writer};

/// The first opcode RFC 4254 §8 leaves undefined; parsing stops there.
const FIRST_UNDEFINED_OPCODE: u8 = 160;
/// TTY_OP_END.
const TTY_OP_END: u8 = 0;

/// Generates [`TerminalMode`] from the opcode table, so names and numbers live in one
/// place.
macro_rules! terminal_modes {
    ($($(#[$doc:meta])* $name:ident = $code:literal,)*) => {
        /// One terminal mode opcode of RFC 4254 §8 (each takes a uint32 argument).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum TerminalMode {
            $($(#[$doc])* $name,)*
            /// An opcode in 1..=159 this table does not name; kept and passed on.
            Unknown(u8),
        }

        impl TerminalMode {
            /// Every named mode, in opcode order.
            pub const ALL: &'static [TerminalMode] = &[$(Self::$name,)*];

            /// The opcode on the wire.
            pub fn opcode(self) -> u8 {
                match self {
                    $(Self::$name => $code,)*
                    Self::Unknown(code) => code,
                }
            }

            /// The mode an opcode names.
            pub fn from_opcode(code: u8) -> Self {
                match code {
                    $($code => Self::$name,)*
                    code => Self::Unknown(code),
                }
            }
        }
    };
}

terminal_modes! {
    /// VINTR: interrupt character; 255 if none.
    Vintr = 1,
    /// VQUIT: the quit character (SIGQUIT).
    Vquit = 2,
    /// VERASE: erase the character left of the cursor.
    Verase = 3,
    /// VKILL: kill the current input line.
    Vkill = 4,
    /// VEOF: end-of-file character.
    Veof = 5,
    /// VEOL: end-of-line character besides CR and LF.
    Veol = 6,
    /// VEOL2: another end-of-line character.
    Veol2 = 7,
    /// VSTART: continue paused output (normally ^Q).
    Vstart = 8,
    /// VSTOP: pause output (normally ^S).
    Vstop = 9,
    /// VSUSP: suspend the current program.
    Vsusp = 10,
    /// VDSUSP: another suspend character.
    Vdsusp = 11,
    /// VREPRINT: reprint the current input line.
    Vreprint = 12,
    /// VWERASE: erase a word left of the cursor.
    Vwerase = 13,
    /// VLNEXT: take the next character literally.
    Vlnext = 14,
    /// VFLUSH: flush output.
    Vflush = 15,
    /// VSWTCH: switch to a different shell layer.
    Vswtch = 16,
    /// VSTATUS: print a status line.
    Vstatus = 17,
    /// VDISCARD: toggle flushing of terminal output.
    Vdiscard = 18,
    /// IGNPAR: ignore parity errors (0 or 1, as for all flags).
    Ignpar = 30,
    /// PARMRK: mark parity and framing errors.
    Parmrk = 31,
    /// INPCK: check parity.
    Inpck = 32,
    /// ISTRIP: strip the 8th bit.
    Istrip = 33,
    /// INLCR: map NL to CR on input.
    Inlcr = 34,
    /// IGNCR: ignore CR on input.
    Igncr = 35,
    /// ICRNL: map CR to NL on input.
    Icrnl = 36,
    /// IUCLC: map uppercase to lowercase on input.
    Iuclc = 37,
    /// IXON: output flow control.
    Ixon = 38,
    /// IXANY: any character restarts output.
    Ixany = 39,
    /// IXOFF: input flow control.
    Ixoff = 40,
    /// IMAXBEL: ring the bell when the input queue is full.
    Imaxbel = 41,
    /// IUTF8: the terminal input is UTF-8 (RFC 8160).
    Iutf8 = 42,
    /// ISIG: enable INTR, QUIT and SUSP signals.
    Isig = 50,
    /// ICANON: canonical input (line editing).
    Icanon = 51,
    /// XCASE: uppercase-only terminal.
    Xcase = 52,
    /// ECHO: echo input.
    Echo = 53,
    /// ECHOE: visually erase characters.
    Echoe = 54,
    /// ECHOK: erase the line on KILL.
    Echok = 55,
    /// ECHONL: echo NL even without ECHO.
    Echonl = 56,
    /// NOFLSH: no flush after interrupt.
    Noflsh = 57,
    /// TOSTOP: stop background jobs that write.
    Tostop = 58,
    /// IEXTEN: extended input processing.
    Iexten = 59,
    /// ECHOCTL: echo control characters as ^X.
    Echoctl = 60,
    /// ECHOKE: visually erase a killed line.
    Echoke = 61,
    /// PENDIN: retype pending input.
    Pendin = 62,
    /// OPOST: output processing.
    Opost = 70,
    /// OLCUC: map lowercase to uppercase on output.
    Olcuc = 71,
    /// ONLCR: map NL to CR-NL on output.
    Onlcr = 72,
    /// OCRNL: map CR to NL on output.
    Ocrnl = 73,
    /// ONOCR: no CR output at column 0.
    Onocr = 74,
    /// ONLRET: NL performs CR.
    Onlret = 75,
    /// CS7: 7-bit characters.
    Cs7 = 90,
    /// CS8: 8-bit characters.
    Cs8 = 91,
    /// PARENB: parity enable.
    Parenb = 92,
    /// PARODD: odd parity.
    Parodd = 93,
    /// TTY_OP_ISPEED: input baud rate in bits per second.
    InputSpeed = 128,
    /// TTY_OP_OSPEED: output baud rate in bits per second.
    OutputSpeed = 129,
}

/// The terminal modes of a `pty-req`, in order; at most one value per mode.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TerminalModes {
    modes: Vec<(TerminalMode, u32)>,
}

impl TerminalModes {
    /// No modes: the server keeps its defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `mode` to `value`, replacing an earlier value. Opcodes outside 1..=159
    /// cannot be encoded and are ignored.
    pub fn set(&mut self, mode: TerminalMode, value: u32) {
        if !(1..FIRST_UNDEFINED_OPCODE).contains(&mode.opcode()) {
            return;
        }
        match self.modes.iter_mut().find(|(m, _)| *m == mode) {
            Some(slot) => slot.1 = value,
            None => self.modes.push((mode, value)),
        }
    }

    /// The value of `mode`, if set.
    pub fn get(&self, mode: TerminalMode) -> Option<u32> {
        self.modes.iter().find(|(m, _)| *m == mode).map(|(_, v)| *v)
    }

    /// The modes in the order they were set (or received).
    pub fn iter(&self) -> impl Iterator<Item = (TerminalMode, u32)> + '_ {
        self.modes.iter().copied()
    }

    /// Encodes the modes as RFC 4254 §8 "encoded terminal modes": opcode, uint32
    /// argument, ..., TTY_OP_END.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.modes.len() * 5 + 1);
        for (mode, value) in &self.modes {
            out.put_u8(mode.opcode());
            out.put_u32(*value);
        }
        out.put_u8(TTY_OP_END);
        out
    }

    /// Decodes encoded terminal modes. Parsing ends at TTY_OP_END, at the end of the
    /// data, or at an opcode of 160 or more, whose argument format is undefined
    /// (RFC 4254 §8: they "cause parsing to stop"). A repeated mode keeps its last
    /// value.
    pub fn decode(data: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(data);
        let mut modes = Self::new();
        while r.remaining() > 0 {
            let opcode = r.u8()?;
            if opcode == TTY_OP_END || opcode >= FIRST_UNDEFINED_OPCODE {
                break;
            }
            let value = r.u32()?;
            modes.set(TerminalMode::from_opcode(opcode), value);
        }
        Ok(modes)
    }
}

/// A `pty-req` channel request: allocate a pseudo-terminal (RFC 4254 §6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtyRequest {
    /// The TERM environment variable value (e.g. `xterm-256color`).
    pub term: String,
    /// Width in characters.
    pub cols: u32,
    /// Height in rows.
    pub rows: u32,
    /// Width in pixels (0 when unknown).
    pub width_px: u32,
    /// Height in pixels (0 when unknown).
    pub height_px: u32,
    /// Terminal modes.
    pub modes: TerminalModes,
}

impl PtyRequest {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.put_string(self.term.as_bytes());
        out.put_u32(self.cols);
        out.put_u32(self.rows);
        out.put_u32(self.width_px);
        out.put_u32(self.height_px);
        out.put_string(&self.modes.encode());
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(Self {
            term: lossy(r.string()?),
            cols: r.u32()?,
            rows: r.u32()?,
            width_px: r.u32()?,
            height_px: r.u32()?,
            modes: TerminalModes::decode(r.string()?)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4254 §8 and RFC 8160: every named opcode and its number.
    const RFC_TABLE: &[(u8, &str)] = &[
        (1, "VINTR"),
        (2, "VQUIT"),
        (3, "VERASE"),
        (4, "VKILL"),
        (5, "VEOF"),
        (6, "VEOL"),
        (7, "VEOL2"),
        (8, "VSTART"),
        (9, "VSTOP"),
        (10, "VSUSP"),
        (11, "VDSUSP"),
        (12, "VREPRINT"),
        (13, "VWERASE"),
        (14, "VLNEXT"),
        (15, "VFLUSH"),
        (16, "VSWTCH"),
        (17, "VSTATUS"),
        (18, "VDISCARD"),
        (30, "IGNPAR"),
        (31, "PARMRK"),
        (32, "INPCK"),
        (33, "ISTRIP"),
        (34, "INLCR"),
        (35, "IGNCR"),
        (36, "ICRNL"),
        (37, "IUCLC"),
        (38, "IXON"),
        (39, "IXANY"),
        (40, "IXOFF"),
        (41, "IMAXBEL"),
        (42, "IUTF8"),
        (50, "ISIG"),
        (51, "ICANON"),
        (52, "XCASE"),
        (53, "ECHO"),
        (54, "ECHOE"),
        (55, "ECHOK"),
        (56, "ECHONL"),
        (57, "NOFLSH"),
        (58, "TOSTOP"),
        (59, "IEXTEN"),
        (60, "ECHOCTL"),
        (61, "ECHOKE"),
        (62, "PENDIN"),
        (70, "OPOST"),
        (71, "OLCUC"),
        (72, "ONLCR"),
        (73, "OCRNL"),
        (74, "ONOCR"),
        (75, "ONLRET"),
        (90, "CS7"),
        (91, "CS8"),
        (92, "PARENB"),
        (93, "PARODD"),
        (128, "TTY_OP_ISPEED"),
        (129, "TTY_OP_OSPEED"),
    ];

    #[test]
    fn every_rfc_opcode_has_its_mode_and_number() {
        assert_eq!(TerminalMode::ALL.len(), RFC_TABLE.len());
        for (mode, (code, rfc_name)) in TerminalMode::ALL.iter().zip(RFC_TABLE) {
            assert_eq!(mode.opcode(), *code, "{rfc_name}");
            assert_eq!(TerminalMode::from_opcode(*code), *mode, "{rfc_name}");
            let ours = format!("{mode:?}").to_ascii_uppercase();
            let rfc = rfc_name.trim_start_matches("TTY_OP_");
            let expected = match rfc {
                "ISPEED" => "INPUTSPEED",
                "OSPEED" => "OUTPUTSPEED",
                other => other,
            };
            assert_eq!(ours, expected);
        }
    }

    #[test]
    fn every_mode_round_trips_through_the_encoding() {
        let mut modes = TerminalModes::new();
        for (i, mode) in TerminalMode::ALL.iter().enumerate() {
            modes.set(*mode, 1000 + i as u32);
        }
        modes.set(TerminalMode::Unknown(100), 7);
        let encoded = modes.encode();
        assert_eq!(encoded.len(), (TerminalMode::ALL.len() + 1) * 5 + 1);
        assert_eq!(encoded.last(), Some(&TTY_OP_END));
        assert_eq!(TerminalModes::decode(&encoded).unwrap(), modes);
    }

    #[test]
    fn encoding_matches_the_rfc_layout() {
        let mut modes = TerminalModes::new();
        modes.set(TerminalMode::Vintr, 3);
        modes.set(TerminalMode::Echo, 1);
        modes.set(TerminalMode::OutputSpeed, 38400);
        assert_eq!(
            modes.encode(),
            [1, 0, 0, 0, 3, 53, 0, 0, 0, 1, 129, 0, 0, 0x96, 0, 0]
        );
    }

    #[test]
    fn parsing_stops_at_an_undefined_opcode() {
        let data = [53, 0, 0, 0, 1, 160, 0xff, 0xff, 72, 0, 0, 0, 1];
        let modes = TerminalModes::decode(&data).unwrap();
        assert_eq!(modes.iter().collect::<Vec<_>>(), [(TerminalMode::Echo, 1)]);
    }

    #[test]
    fn missing_end_opcode_is_tolerated_but_a_cut_argument_is_not() {
        assert_eq!(
            TerminalModes::decode(&[53, 0, 0, 0, 1])
                .unwrap()
                .get(TerminalMode::Echo),
            Some(1)
        );
        assert!(TerminalModes::decode(&[53, 0, 0]).is_err());
    }

    #[test]
    fn a_repeated_mode_keeps_its_last_value() {
        let data = [53, 0, 0, 0, 1, 53, 0, 0, 0, 0, 0];
        let modes = TerminalModes::decode(&data).unwrap();
        assert_eq!(modes.get(TerminalMode::Echo), Some(0));
        assert_eq!(modes.iter().count(), 1);
    }

    #[test]
    fn unencodable_opcodes_are_not_set() {
        let mut modes = TerminalModes::new();
        modes.set(TerminalMode::Unknown(0), 1);
        modes.set(TerminalMode::Unknown(200), 1);
        assert_eq!(modes.encode(), [TTY_OP_END]);
    }
}
