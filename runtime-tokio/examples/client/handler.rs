//! The driver's questions answered as ssh answers them: the host key by the
//! known_hosts check, passwords, prompts and passphrases by the user.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use sansh_tokio::ClientHandler;
use sansh_tokio::core::auth::{KeyboardInteractivePrompt, Zeroizing};
use sansh_tokio::core::keys::{Certificate, PublicKey};

use crate::args::LogLevel;
use crate::known_hosts::{HostKeyCheck, Verdict};
use crate::prompt::{Prompter, Question};

/// The client's handler; shared between the connection and the login.
pub(crate) struct Handler {
    check: HostKeyCheck,
    prompter: Prompter,
    /// `user@host`, as ssh's password prompt names the account.
    account: String,
    verdict: Mutex<Option<Verdict>>,
    /// Passwords asked so far: each after the first follows a refusal.
    passwords_asked: AtomicU32,
    log_level: LogLevel,
}

impl Handler {
    pub(crate) fn new(
        check: HostKeyCheck,
        prompter: Prompter,
        account: String,
        log_level: LogLevel,
    ) -> Arc<Self> {
        Arc::new(Self {
            check,
            prompter,
            account,
            verdict: Mutex::new(None),
            passwords_asked: AtomicU32::new(0),
            log_level,
        })
    }

    /// The host key verdict, once the key exchange asked for it.
    pub(crate) fn verdict(&self) -> Option<Verdict> {
        *self.verdict.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs the known_hosts check `verify` off the executor threads and keeps its
    /// verdict; true unless it refused the host.
    async fn judge_host(
        &self,
        verify: impl FnOnce(&HostKeyCheck, &Prompter) -> Verdict + Send + 'static,
    ) -> bool {
        let check = self.check.clone();
        let verdict = self
            .blocking(move |prompter| Some(verify(&check, &prompter)))
            .await
            .unwrap_or(Verdict::Refused);
        *self.verdict.lock().unwrap_or_else(PoisonError::into_inner) = Some(verdict);
        verdict != Verdict::Refused
    }

    /// Runs a blocking question off the executor threads; `None` if it could not run.
    async fn blocking<T: Send + 'static>(
        &self,
        question: impl FnOnce(Prompter) -> Option<T> + Send + 'static,
    ) -> Option<T> {
        let prompter = self.prompter.clone();
        tokio::task::spawn_blocking(move || question(prompter))
            .await
            .ok()
            .flatten()
    }
}

impl ClientHandler for Handler {
    async fn check_server_key(&self, key: &PublicKey) -> bool {
        let key = key.clone();
        self.judge_host(move |check, prompter| check.verify(&key, prompter))
            .await
    }

    async fn check_server_certificate(&self, certificate: &Certificate) -> bool {
        let certificate = certificate.clone();
        self.judge_host(move |check, prompter| check.verify_certificate(&certificate, prompter))
            .await
    }

    async fn password(&self, _user: &str) -> Option<Zeroizing<String>> {
        if self.passwords_asked.fetch_add(1, Ordering::Relaxed) > 0 && self.prompter.interactive() {
            eprintln!("Permission denied, please try again.");
        }
        let prompt = format!("{}'s password: ", self.account);
        self.blocking(move |p| p.ask(&prompt, Question::Secret))
            .await
    }

    async fn keyboard_interactive(
        &self,
        _user: &str,
        prompt: &KeyboardInteractivePrompt,
    ) -> Option<Vec<Zeroizing<String>>> {
        // ssh shows the name and instruction before the prompts, each on its line.
        let mut header = String::new();
        for text in [prompt.name(), prompt.instruction()] {
            if !text.is_empty() {
                header.push_str(text.trim_end_matches('\n'));
                header.push('\n');
            }
        }
        let prompts: Vec<(String, bool)> = prompt
            .prompts()
            .iter()
            .map(|p| (p.text.clone(), p.echo))
            .collect();
        self.blocking(move |prompter| {
            if !prompter.interactive() {
                return None;
            }
            if !header.is_empty() {
                eprint!("{header}");
            }
            prompts
                .iter()
                .map(|(text, echo)| {
                    let question = if *echo {
                        Question::Echoed
                    } else {
                        Question::Secret
                    };
                    prompter.ask(text, question)
                })
                .collect()
        })
        .await
    }

    async fn key_passphrase(&self, path: &Path) -> Option<Zeroizing<String>> {
        let prompt = format!("Enter passphrase for key '{}': ", path.display());
        self.blocking(move |p| p.ask(&prompt, Question::Passphrase))
            .await
    }

    fn banner(&self, text: &str) {
        if self.log_level >= LogLevel::Info {
            eprint!("{text}");
        }
    }
}
