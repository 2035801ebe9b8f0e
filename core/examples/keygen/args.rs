//! ssh-keygen's command line: getopt-style flags, bundled (`-lv`) or not, with values
//! attached (`-fkey`) or following (`-f key`), and the operation they select.

/// What the command line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// No mode flag: make a new key pair (`-t -b -f -N -C`).
    Generate,
    /// `-p`: change a private key's passphrase (and maybe its format).
    ChangePassphrase,
    /// `-y`: print the public key of a private key file.
    PublicFromPrivate,
    /// `-l`: print fingerprints (and randomart with `-v`).
    Fingerprint,
    /// `-e`: export a public key (RFC 4716, PKCS#8 or PEM).
    Export,
    /// `-i`: import a public key into OpenSSH's one-line form.
    Import,
    /// `-s CA`: sign public keys into certificates.
    Sign,
    /// `-L`: list the contents of certificates.
    ShowCertificate,
}

/// The parsed flags; `None`/empty when not given.
#[derive(Debug, Default)]
pub(crate) struct Args {
    /// Mode flags in the order given; exactly one (or none, to generate) is allowed.
    modes: Vec<(char, Mode)>,
    /// `-t`: key type to generate, or the CA signature algorithm with `-s`.
    pub(crate) key_type: Option<String>,
    /// `-b`: key size in bits.
    pub(crate) bits: Option<u32>,
    /// `-f`: the file operated on.
    pub(crate) file: Option<String>,
    /// `-N`: the new passphrase.
    pub(crate) new_passphrase: Option<String>,
    /// `-P`: the current passphrase (of the key, or of the CA key with `-s`).
    pub(crate) passphrase: Option<String>,
    /// `-C`: the comment of a new key.
    pub(crate) comment: Option<String>,
    /// `-E`: the fingerprint hash, `sha256` or `md5`.
    pub(crate) hash: Option<String>,
    /// `-m`: key format, `PEM`, `PKCS8` or `RFC4716`.
    pub(crate) format: Option<String>,
    /// `-Z`: the cipher of an encrypted OpenSSH key file.
    pub(crate) cipher: Option<String>,
    /// `-a`: bcrypt-pbkdf rounds of an encrypted OpenSSH key file.
    pub(crate) rounds: Option<u32>,
    /// `-s`: the CA private key file.
    pub(crate) ca: Option<String>,
    /// `-I`: the certificate key id.
    pub(crate) key_id: Option<String>,
    /// `-n`: comma-separated principals.
    pub(crate) principals: Option<String>,
    /// `-V`: the validity interval.
    pub(crate) validity: Option<String>,
    /// `-h`: sign a host certificate instead of a user one.
    pub(crate) host: bool,
    /// `-O`: certificate options, in order.
    pub(crate) options: Vec<String>,
    /// `-z`: the certificate serial number.
    pub(crate) serial: Option<u64>,
    /// `-v`: verbose (randomart with `-l`).
    pub(crate) verbose: bool,
    /// `-q`: quiet.
    pub(crate) quiet: bool,
    /// Operands: the public keys to sign with `-s`.
    pub(crate) operands: Vec<String>,
}

impl Args {
    /// Parses `argv` without the program name.
    pub(crate) fn parse(argv: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut args = Args::default();
        let mut argv = argv.into_iter();
        let mut only_operands = false;
        while let Some(arg) = argv.next() {
            if only_operands || !arg.starts_with('-') || arg == "-" {
                args.operands.push(arg);
                continue;
            }
            if arg == "--" {
                only_operands = true;
                continue;
            }
            for (i, flag) in arg[1..].char_indices() {
                if takes_value(flag) {
                    let attached = &arg[1 + i + flag.len_utf8()..];
                    let value = if attached.is_empty() {
                        argv.next()
                            .ok_or_else(|| format!("option -{flag} requires an argument"))?
                    } else {
                        attached.to_owned()
                    };
                    args.set_value(flag, value)?;
                    break;
                }
                args.set_flag(flag)?;
            }
        }
        Ok(args)
    }

    /// The operation selected: at most one mode flag may be given.
    pub(crate) fn mode(&self) -> Result<Mode, String> {
        match self.modes.as_slice() {
            [] => Ok(Mode::Generate),
            [(_, mode)] => Ok(*mode),
            [(a, _), (b, _), ..] => Err(format!("-{a} and -{b} cannot be combined")),
        }
    }

    /// The `-f` file, which the operation needs.
    pub(crate) fn file(&self) -> Result<&str, String> {
        self.file
            .as_deref()
            .ok_or_else(|| "no key file given: use -f FILE (this tool does not prompt)".into())
    }

    fn set_flag(&mut self, flag: char) -> Result<(), String> {
        let mode = match flag {
            'p' => Mode::ChangePassphrase,
            'y' => Mode::PublicFromPrivate,
            'l' => Mode::Fingerprint,
            'e' => Mode::Export,
            'i' => Mode::Import,
            'L' => Mode::ShowCertificate,
            'h' => {
                self.host = true;
                return Ok(());
            }
            'v' => {
                self.verbose = true;
                return Ok(());
            }
            'q' => {
                self.quiet = true;
                return Ok(());
            }
            other => return Err(format!("unknown option -{other}\n{USAGE}")),
        };
        self.modes.push((flag, mode));
        Ok(())
    }

    fn set_value(&mut self, flag: char, value: String) -> Result<(), String> {
        match flag {
            't' => self.key_type = Some(value),
            'b' => self.bits = Some(number(flag, &value)?),
            'f' => self.file = Some(value),
            'N' => self.new_passphrase = Some(value),
            'P' => self.passphrase = Some(value),
            'C' => self.comment = Some(value),
            'E' => self.hash = Some(value),
            'm' => self.format = Some(value),
            'Z' => self.cipher = Some(value),
            'a' => self.rounds = Some(number(flag, &value)?),
            's' => {
                self.ca = Some(value);
                self.modes.push((flag, Mode::Sign));
            }
            'I' => self.key_id = Some(value),
            'n' => self.principals = Some(value),
            'V' => self.validity = Some(value),
            'O' => self.options.push(value),
            'z' => self.serial = Some(number(flag, &value)?),
            other => return Err(format!("option -{other} is not handled")),
        }
        Ok(())
    }
}

/// The flags that take a value.
fn takes_value(flag: char) -> bool {
    "tbfNPCEmZasInVOz".contains(flag)
}

fn number<T: std::str::FromStr>(flag: char, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("option -{flag} needs a number, not {value:?}"))
}

/// The usage text printed on a bad command line.
pub(crate) const USAGE: &str = "\
usage: keygen [-q] [-t ed25519|ecdsa|rsa] [-b bits] [-C comment] [-f file] [-N passphrase]
              [-m PEM|PKCS8|RFC4716] [-Z cipher] [-a rounds]
       keygen -p [-f file] [-P old_passphrase] [-N new_passphrase] [-m format] [-Z cipher]
       keygen -y [-f file] [-P passphrase]
       keygen -l [-v] [-E sha256|md5] [-f file]
       keygen -e [-m PEM|PKCS8|RFC4716] [-f file]
       keygen -i [-m PEM|PKCS8|RFC4716] [-f file]
       keygen -s ca_key -I key_id [-h] [-n principals] [-O option] [-V validity]
              [-z serial] [-P ca_passphrase] [-t rsa-sha2-256|rsa-sha2-512] file ...
       keygen -L [-f file]";

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Args {
        Args::parse(line.split_whitespace().map(String::from)).expect("parses")
    }

    #[test]
    fn bundled_flags_and_attached_values_parse_like_getopt() {
        let a = parse("-lvE md5 -fkey.pub");
        assert_eq!(a.mode(), Ok(Mode::Fingerprint));
        assert!(a.verbose);
        assert_eq!(a.hash.as_deref(), Some("md5"));
        assert_eq!(a.file.as_deref(), Some("key.pub"));
    }

    #[test]
    fn sign_collects_options_and_operands() {
        let a = parse("-s ca -I id -O no-pty a.pub -O clear b.pub");
        assert_eq!(a.mode(), Ok(Mode::Sign));
        assert_eq!(a.options, ["no-pty", "clear"]);
        assert_eq!(a.operands, ["a.pub", "b.pub"]);
    }

    #[test]
    fn two_modes_are_refused() {
        assert!(parse("-l -y").mode().is_err());
    }

    #[test]
    fn a_missing_value_is_an_error() {
        assert!(Args::parse(["-f".to_owned()]).is_err());
    }
}
