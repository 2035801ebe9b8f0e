//! Asking the user: passwords, keyboard-interactive answers, key passphrases and
//! host key confirmations, from the terminal (echo off for secrets) or from the
//! `SSH_ASKPASS` program, following ssh's rules (ssh(1), ENVIRONMENT):
//!
//! - the terminal is `/dev/tty`; passphrases of key files also need stdin to be a
//!   terminal, else they go to askpass;
//! - askpass is allowed when `DISPLAY` or `WAYLAND_DISPLAY` is set;
//! - `SSH_ASKPASS_REQUIRE=force` uses askpass always, `prefer` whenever allowed,
//!   `never` never;
//! - the program is `SSH_ASKPASS` (default `/usr/bin/ssh-askpass`), run with the
//!   prompt as its argument; what it prints is the answer, a failing exit is none
//!   (the new-host question too is answered as text: `yes`, `no` or the
//!   fingerprint).
//!
//! `BatchMode` asks nothing. Everything here blocks: callers run it on a blocking
//! thread.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::process::{Command, Stdio};

use rustix::process::{Signal, getpid, kill_process};
use rustix::termios::{LocalModes, OptionalActions, SpecialCodeIndex, tcgetattr, tcsetattr};
use zeroize::Zeroizing;

/// The askpass program when `SSH_ASKPASS` is unset (Debian's path).
const DEFAULT_ASKPASS: &str = "/usr/bin/ssh-askpass";

/// The longest answer read from the terminal.
const MAX_ANSWER: usize = 1024;

/// What is asked, which decides where ssh may ask it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Question {
    /// A password or keyboard-interactive prompt: the terminal, else askpass.
    Secret,
    /// An answer shown as typed: a prompt the server marked as echoed, ssh's
    /// question about a new host.
    Echoed,
    /// A key file's passphrase: the terminal only when stdin is one.
    Passphrase,
}

/// Where answers come from.
#[derive(Debug, Clone)]
pub(crate) struct Prompter {
    batch_mode: bool,
    askpass_allowed: bool,
    askpass_forced: bool,
    askpass: OsString,
}

impl Prompter {
    /// Reads the environment as ssh does.
    pub(crate) fn from_env(batch_mode: bool) -> Self {
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        let mut askpass_allowed = set("DISPLAY") || set("WAYLAND_DISPLAY");
        let mut askpass_forced = false;
        match std::env::var("SSH_ASKPASS_REQUIRE")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "force" => {
                askpass_allowed = true;
                askpass_forced = true;
            }
            "prefer" => askpass_forced = askpass_allowed,
            "never" => askpass_allowed = false,
            _ => {}
        }
        Self {
            batch_mode,
            askpass_allowed,
            askpass_forced,
            askpass: std::env::var_os("SSH_ASKPASS")
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| DEFAULT_ASKPASS.into()),
        }
    }

    /// Whether the user may be asked at all (not `BatchMode`).
    pub(crate) fn interactive(&self) -> bool {
        !self.batch_mode
    }

    /// Asks `prompt`; `None` when nobody can answer or the user gave up.
    pub(crate) fn ask(&self, prompt: &str, question: Question) -> Option<Zeroizing<String>> {
        if self.batch_mode {
            return None;
        }
        // A key's passphrase may come from the terminal only when stdin is one.
        let terminal_allowed =
            !self.askpass_forced && (question != Question::Passphrase || io::stdin().is_terminal());
        let tty = terminal_allowed
            .then(|| {
                OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open("/dev/tty")
                    .ok()
            })
            .flatten();
        match tty {
            Some(tty) => read_from_terminal(tty, prompt, question).ok().flatten(),
            None if self.askpass_allowed => self.run_askpass(prompt),
            None => None,
        }
    }

    fn run_askpass(&self, prompt: &str) -> Option<Zeroizing<String>> {
        let mut command = Command::new(&self.askpass);
        command
            .arg(prompt)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .stdout(Stdio::piped());
        // ssh asks even its yes/no question about a new host as text (what the
        // program prints is the answer), so no SSH_ASKPASS_PROMPT=confirm here.
        command.env_remove("SSH_ASKPASS_PROMPT");
        let output = command.output().ok()?;
        let answer = Zeroizing::new(output.stdout);
        if !output.status.success() {
            return None;
        }
        let text = std::str::from_utf8(&answer).ok()?;
        let line = text.split(['\r', '\n']).next().unwrap_or_default();
        Some(Zeroizing::new(line.to_owned()))
    }
}

/// Reads one line from the terminal; the terminal's modes are restored before
/// returning. Echoed questions use the terminal's own line editing; secrets are read
/// a key at a time with echo and key signals off, so that ^C can restore the
/// terminal before it stops us.
fn read_from_terminal(
    mut tty: File,
    prompt: &str,
    question: Question,
) -> io::Result<Option<Zeroizing<String>>> {
    if question == Question::Echoed {
        tty.write_all(prompt.as_bytes())?;
        tty.flush()?;
        return read_line(&mut tty);
    }
    let saved = tcgetattr(&tty)?;
    let mut quiet = saved.clone();
    quiet
        .local_modes
        .remove(LocalModes::ECHO | LocalModes::ICANON | LocalModes::ISIG);
    quiet.special_codes[SpecialCodeIndex::VMIN] = 1;
    quiet.special_codes[SpecialCodeIndex::VTIME] = 0;
    tcsetattr(&tty, OptionalActions::Drain, &quiet)?;
    let keys = Keys {
        interrupt: saved.special_codes[SpecialCodeIndex::VINTR],
        erase: saved.special_codes[SpecialCodeIndex::VERASE],
        kill: saved.special_codes[SpecialCodeIndex::VKILL],
        eof: saved.special_codes[SpecialCodeIndex::VEOF],
    };
    // The prompt only once echo is off: nothing typed after it is ever shown.
    let answer = tty
        .write_all(prompt.as_bytes())
        .and_then(|()| tty.flush())
        .and_then(|()| read_secret(&mut tty, keys));
    tcsetattr(&tty, OptionalActions::Drain, &saved)?;
    // The newline the user typed was not echoed.
    let _ = tty.write_all(b"\n");
    match answer {
        Ok(Secret::Line(line)) => Ok(Some(line)),
        Ok(Secret::End) => Ok(None),
        Ok(Secret::Interrupted) => {
            // As ssh's readpassphrase: the terminal is back, now the signal does
            // what it would have done.
            let _ = kill_process(getpid(), Signal::INT);
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// The terminal's editing keys while reading a secret.
#[derive(Clone, Copy)]
struct Keys {
    interrupt: u8,
    erase: u8,
    kill: u8,
    eof: u8,
}

/// How reading a secret ended.
enum Secret {
    Line(Zeroizing<String>),
    /// End of input (or the EOF key on an empty line).
    End,
    /// The interrupt key.
    Interrupted,
}

/// Keys up to Enter, with erase and kill applied.
fn read_secret(tty: &mut File, keys: Keys) -> io::Result<Secret> {
    let mut line = Zeroizing::new(Vec::new());
    let mut byte = [0u8; 1];
    loop {
        if tty.read(&mut byte)? == 0 {
            return Ok(Secret::End);
        }
        match byte[0] {
            b'\n' | b'\r' => break,
            b if b == keys.interrupt && b != 0 => return Ok(Secret::Interrupted),
            b if b == keys.eof && b != 0 && line.is_empty() => return Ok(Secret::End),
            b if (b == keys.erase && b != 0) || b == 0x08 => {
                line.pop();
            }
            b if b == keys.kill && b != 0 => line.clear(),
            b if line.len() < MAX_ANSWER => line.push(b),
            _ => {}
        }
    }
    Ok(Secret::Line(Zeroizing::new(
        String::from_utf8_lossy(&line).into_owned(),
    )))
}

/// Bytes up to a newline (the terminal edits and echoes them); `None` at end of
/// input before any newline.
fn read_line(tty: &mut File) -> io::Result<Option<Zeroizing<String>>> {
    let mut line = Zeroizing::new(Vec::new());
    let mut byte = [0u8; 1];
    loop {
        if tty.read(&mut byte)? == 0 {
            return Ok(None);
        }
        match byte[0] {
            b'\n' | b'\r' => break,
            b if line.len() < MAX_ANSWER => line.push(b),
            _ => {}
        }
    }
    Ok(Some(Zeroizing::new(
        String::from_utf8_lossy(&line).into_owned(),
    )))
}
