//! The command line.

/// What `--help` and a bad argument print.
pub(crate) const USAGE: &str = "usage: bench [--workload NAME]... [--size SIZE] [--rounds N] [--connections N] [--idle N] [--list]";

/// The parsed command line.
#[derive(Debug)]
pub(crate) struct Args {
    /// Workloads to run (all when empty).
    pub(crate) workloads: Vec<String>,
    /// Bytes per transfer.
    pub(crate) size: u64,
    /// How many times each workload runs (ours then OpenSSH's, each time).
    pub(crate) rounds: u32,
    /// Connections per connection-rate workload.
    pub(crate) connections: u32,
    /// Idle connections the server-memory workload holds open.
    pub(crate) idle: u32,
    /// Print the workload names and stop.
    pub(crate) list: bool,
}

impl Args {
    pub(crate) fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut parsed = Args {
            workloads: Vec::new(),
            size: 1 << 30,
            rounds: 3,
            connections: 100,
            idle: 1000,
            list: false,
        };
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
            match arg.as_str() {
                "--workload" => parsed.workloads.push(value("--workload")?),
                "--size" => parsed.size = parse_size(&value("--size")?)?,
                "--rounds" => parsed.rounds = positive("--rounds", value)?,
                "--connections" => parsed.connections = positive("--connections", value)?,
                "--idle" => parsed.idle = positive("--idle", value)?,
                "--list" => parsed.list = true,
                "-h" | "--help" => return Err("help".into()),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        Ok(parsed)
    }
}

/// The positive number after `name`.
fn positive(
    name: &str,
    mut value: impl FnMut(&str) -> Result<String, String>,
) -> Result<u32, String> {
    let text = value(name)?;
    text.parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or(format!("{name} {text:?}: not a positive number"))
}

/// `1024`, `64K`, `512M`, `1G` (powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, shift) = match text.char_indices().last() {
        Some((i, 'K' | 'k')) => (&text[..i], 10),
        Some((i, 'M' | 'm')) => (&text[..i], 20),
        Some((i, 'G' | 'g')) => (&text[..i], 30),
        _ => (text, 0),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .filter(|n| *n > 0)
        .ok_or(format!(
            "--size {text:?}: expected a positive size like 1G or 64M"
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("64m"), Ok(64 << 20));
        assert_eq!(parse_size("3K"), Ok(3 << 10));
        assert_eq!(parse_size("100"), Ok(100));
    }

    #[test]
    fn bad_sizes_are_refused() {
        for bad in ["", "G", "0", "-1M", "1T", "99999999999G"] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn workloads_repeat_and_default_to_all() {
        let args = parse(&["--workload", "a", "--workload", "b", "--size", "8M"]).expect("valid");
        assert_eq!(args.workloads, ["a", "b"]);
        assert_eq!(args.size, 8 << 20);
        assert!(parse(&[]).expect("valid").workloads.is_empty());
    }

    #[test]
    fn missing_values_and_unknown_flags_are_errors() {
        assert!(parse(&["--size"]).is_err());
        assert!(parse(&["--connections", "0"]).is_err());
        assert!(parse(&["--idle", "x"]).is_err());
        assert!(parse(&["--rounds", "0"]).is_err());
        assert!(parse(&["--fast"]).is_err());
    }
}
