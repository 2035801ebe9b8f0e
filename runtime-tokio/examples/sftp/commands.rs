//! The commands: parsing a line and running it against the SFTP client.

use std::path::{Path, PathBuf};

use sansh_tokio::sftp::{
    DEFAULT_TRANSFER_REQUESTS, SftpClient, SftpClientError, TransferOptions, glob_match,
};

use crate::progress;

/// What the loop does after a command.
pub(crate) enum Flow {
    Continue,
    Quit,
}

/// The session's state: the client and whether to draw progress bars.
#[derive(Clone)]
pub(crate) struct Shell {
    sftp: SftpClient,
    progress: bool,
    /// `-B` and `-R`: bytes per request and requests in flight.
    block_size: Option<u32>,
    requests: Option<usize>,
}

const HELP: &str = "\
cd path                 change remote directory to 'path'
df [-h] [path]          display statistics for the current directory or path
get [-pr] remote [local] download a file (globs allowed)
lcd path                change local directory to 'path'
ln [-s] oldpath newpath link remote file (-s for a symlink)
ls [-la] [path]         list a remote directory
lpwd                    print the local working directory
mkdir path              create a remote directory
put [-pr] local [remote] upload a file (globs allowed)
pwd                     print the remote working directory
rename old new          rename a remote file
rm path                 delete a remote file
rmdir path              remove a remote directory
chmod mode path         change permissions of a remote file
exit, quit, bye         end the session";

/// Splits a command line into words; double quotes group, backslash escapes.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let (mut quoted, mut in_word) = (false, false);
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            '\\' => {
                if let Some(next) = chars.next() {
                    word.push(next);
                    in_word = true;
                }
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// Separates `-x` flags (from `allowed`) from the operands.
fn flags(args: &[String], allowed: &str) -> Result<(String, Vec<String>), String> {
    let mut set = String::new();
    let mut rest = Vec::new();
    for arg in args {
        match arg.strip_prefix('-') {
            Some(letters) if rest.is_empty() && !letters.is_empty() => {
                for letter in letters.chars() {
                    if !allowed.contains(letter) {
                        return Err(format!("unknown option -{letter}"));
                    }
                    set.push(letter);
                }
            }
            _ => rest.push(arg.clone()),
        }
    }
    Ok((set, rest))
}

fn has_magic(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

fn error(what: &str, e: SftpClientError) -> String {
    format!("{what}: {e}")
}

impl Shell {
    pub(crate) fn new(
        sftp: SftpClient,
        progress: bool,
        block_size: Option<u32>,
        requests: Option<usize>,
    ) -> Self {
        Self {
            sftp,
            progress,
            block_size,
            requests,
        }
    }

    fn options(&self, flags: &str) -> TransferOptions {
        TransferOptions {
            recurse: flags.contains('r'),
            preserve: flags.contains('p'),
            progress: self.progress.then(progress::bar),
            block_size: self.block_size,
            max_requests: self.requests.unwrap_or(DEFAULT_TRANSFER_REQUESTS),
        }
    }

    /// Runs one command line.
    pub(crate) async fn run(&self, line: &str) -> Result<Flow, String> {
        let words = words(line);
        let Some((command, args)) = words.split_first() else {
            return Ok(Flow::Continue);
        };
        let sftp = &self.sftp;
        let one = |n: usize| -> Result<&String, String> {
            args.get(n)
                .ok_or_else(|| format!("{command}: missing argument"))
        };
        match command.as_str() {
            "exit" | "quit" | "bye" => return Ok(Flow::Quit),
            "help" | "?" => println!("{HELP}"),
            "pwd" => println!(
                "Remote working directory: {}",
                sftp.getcwd().await.map_err(|e| error("pwd", e))?
            ),
            "lpwd" => println!(
                "Local working directory: {}",
                std::env::current_dir()
                    .map_err(|e| format!("lpwd: {e}"))?
                    .display()
            ),
            "cd" => {
                let path = args.first().map_or(".", String::as_str);
                sftp.chdir(path).await.map_err(|e| error(path, e))?;
            }
            "lcd" => {
                let path = one(0)?;
                std::env::set_current_dir(path).map_err(|e| format!("lcd {path}: {e}"))?;
            }
            "mkdir" => {
                let path = one(0)?;
                sftp.mkdir(path).await.map_err(|e| error(path, e))?;
            }
            "rm" => {
                for path in self.expand(one(0)?).await? {
                    println!("Removing {path}");
                    sftp.remove(&path).await.map_err(|e| error(&path, e))?;
                }
            }
            "rmdir" => {
                let path = one(0)?;
                sftp.rmdir(path).await.map_err(|e| error(path, e))?;
            }
            "rename" => {
                let (from, to) = (one(0)?, one(1)?);
                let renamed = if sftp.supports(sansh_tokio::core::sftp::Extension::PosixRename) {
                    sftp.posix_rename(from, to).await
                } else {
                    sftp.rename(from, to).await
                };
                renamed.map_err(|e| error(from, e))?;
            }
            "chmod" => {
                let mode = u32::from_str_radix(one(0)?, 8).map_err(|_| {
                    format!("chmod: invalid mode {}", one(0).unwrap_or(&String::new()))
                })?;
                for path in self.expand(one(1)?).await? {
                    println!("Changing mode on {path}");
                    sftp.chmod(&path, mode).await.map_err(|e| error(&path, e))?;
                }
            }
            "ln" => {
                let (set, rest) = flags(args, "s")?;
                let (Some(target), Some(link)) = (rest.first(), rest.get(1)) else {
                    return Err("ln: need oldpath and newpath".into());
                };
                let made = if set.contains('s') {
                    sftp.symlink(target, link).await
                } else {
                    sftp.link(target, link).await
                };
                made.map_err(|e| error(link, e))?;
            }
            "ls" | "dir" => self.ls(args).await?,
            "df" => self.df(args).await?,
            "get" => self.get(args).await?,
            "put" => self.put(args).await?,
            other => return Err(format!("Invalid command: {other}")),
        }
        Ok(Flow::Continue)
    }

    /// A remote operand: its glob matches, or itself.
    async fn expand(&self, path: &str) -> Result<Vec<String>, String> {
        if !has_magic(path) {
            return Ok(vec![path.to_owned()]);
        }
        let found = self.sftp.glob(path).await.map_err(|e| error(path, e))?;
        if found.is_empty() {
            return Err(format!("{path}: no such file or directory"));
        }
        Ok(found)
    }

    async fn ls(&self, args: &[String]) -> Result<(), String> {
        let (set, rest) = flags(args, "la1")?;
        let (long, all) = (set.contains('l'), set.contains('a'));
        let target = rest.first().map_or(".", String::as_str);
        let sftp = &self.sftp;
        let (dir, pattern) = if has_magic(target) {
            match target.rsplit_once('/') {
                Some((dir, pattern)) => (if dir.is_empty() { "/" } else { dir }, Some(pattern)),
                None => (".", Some(target)),
            }
        } else if sftp.isdir(target).await.map_err(|e| error(target, e))? {
            (target, None)
        } else {
            let attrs = sftp.lstat(target).await.map_err(|e| error(target, e))?;
            if long {
                let mode = attrs.permissions.unwrap_or(0);
                let size = attrs.size.unwrap_or(0);
                println!("{} {size:>10} {target}", mode_string(mode));
            } else {
                println!("{target}");
            }
            return Ok(());
        };
        let mut names = sftp.readdir(dir).await.map_err(|e| error(dir, e))?;
        names.sort_by(|a, b| a.filename.cmp(&b.filename));
        for name in names {
            let shown = name.filename_lossy();
            if !all && shown.starts_with('.') {
                continue;
            }
            if let Some(pattern) = pattern {
                if !glob_match(pattern.as_bytes(), &name.filename) {
                    continue;
                }
            }
            if long {
                println!("{}", String::from_utf8_lossy(&name.longname));
            } else {
                println!("{shown}");
            }
        }
        Ok(())
    }

    async fn df(&self, args: &[String]) -> Result<(), String> {
        let (set, rest) = flags(args, "hi")?;
        let path = rest.first().map_or(".", String::as_str);
        let st = self.sftp.statvfs(path).await.map_err(|e| error(path, e))?;
        let unit = st.frsize.max(1);
        let (size, free, avail) = (st.blocks * unit, st.bfree * unit, st.bavail * unit);
        let used = size.saturating_sub(free);
        let capacity = (used * 100).checked_div(used + avail).unwrap_or(0);
        if set.contains('h') {
            println!("    Size     Used    Avail   (root)    %Capacity");
            println!(
                "{:>8} {:>8} {:>8} {:>8} {:>11}%",
                progress::size(size),
                progress::size(used),
                progress::size(avail),
                progress::size(free),
                capacity
            );
        } else {
            println!("        Size         Used        Avail       (root)    %Capacity");
            println!(
                "{:>12} {:>12} {:>12} {:>12} {:>11}%",
                size / 1024,
                used / 1024,
                avail / 1024,
                free / 1024,
                capacity
            );
        }
        Ok(())
    }

    async fn get(&self, args: &[String]) -> Result<(), String> {
        let (set, rest) = flags(args, "prPRa")?;
        let set = set.to_lowercase();
        let remote = rest.first().ok_or("get: missing remote path")?;
        let options = self.options(&set);
        let sftp = &self.sftp;
        if has_magic(remote) {
            let dir = rest
                .get(1)
                .map_or_else(|| PathBuf::from("."), PathBuf::from);
            for path in self.expand(remote).await? {
                println!("Fetching {path} to {}", dir.display());
            }
            return sftp
                .mget(&[remote], &dir, &options)
                .await
                .map_err(|e| error(remote, e));
        }
        let local = match rest.get(1) {
            Some(local) => PathBuf::from(local),
            None => PathBuf::from(Path::new(remote).file_name().unwrap_or_default()),
        };
        println!("Fetching {remote} to {}", local.display());
        sftp.get(remote, &local, &options)
            .await
            .map_err(|e| error(remote, e))
    }

    async fn put(&self, args: &[String]) -> Result<(), String> {
        let (set, rest) = flags(args, "prPRa")?;
        let set = set.to_lowercase();
        let local = rest.first().ok_or("put: missing local path")?;
        let options = self.options(&set);
        let sftp = &self.sftp;
        if has_magic(local) {
            let dir = rest.get(1).map_or(".", String::as_str);
            println!("Uploading {local} to {dir}");
            return sftp
                .mput(&[local], dir, &options)
                .await
                .map_err(|e| error(local, e));
        }
        let remote = match rest.get(1) {
            Some(remote) => remote.clone(),
            None => Path::new(local)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        println!("Uploading {local} to {remote}");
        sftp.put(local, &remote, &options)
            .await
            .map_err(|e| error(local, e))
    }
}

/// `drwxr-xr-x` for a mode.
fn mode_string(mode: u32) -> String {
    sansh_tokio::core::sftp::mode_string(mode)
}

#[cfg(test)]
mod tests {
    use super::{flags, words};

    #[test]
    fn words_split_on_spaces_and_keep_quoted_runs() {
        assert_eq!(words(r#"put "a b" c\ d"#), ["put", "a b", "c d"]);
    }

    #[test]
    fn flags_come_before_operands() {
        let args: Vec<String> = ["-rp", "x", "-y"].map(String::from).to_vec();
        let (set, rest) = flags(&args, "rp").expect("known flags");
        assert_eq!(set, "rp");
        assert_eq!(rest, ["x", "-y"]);
        assert!(flags(&args[..1], "r").is_err());
    }
}
