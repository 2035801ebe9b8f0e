//! Authentication through the driver, on every runtime: our client logs in to sshd
//! with a key file, default identities, agent keys and a password; OpenSSH's `ssh`
//! logs in to our server with a key and a password.
//!
//! Keys come from `ssh-keygen`, agents are real `ssh-agent`s loaded with `ssh-add`
//! (the helpers are the auth suite's, `conformance/tests/auth/peers.rs`). Password
//! logins to sshd use the `sansh-test` account `scripts/install-peers` creates.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use sansh_conformance::openssh::Sshd;
use sansh_conformance::scratch::ScratchDir;
use sansh_core::auth::{AuthMethod, KeyboardInteractivePrompt, Zeroizing};
use sansh_core::driver::{
    AuthDecision, AuthFailed, ClientHandler, ConnectError, Login, ServerHandler,
    connect_and_authenticate,
};
use sansh_core::keys::{CertType, Certificate, KeyType, PublicKey};
use sansh_core::{ClientConfig, ServerConfig};

use crate::peers::{
    KEY_TYPES, KeyFile, PASSPHRASE, SshAgent, SshRun, TEST_PASSWORD, TEST_USER, askpass_script,
    cert_path, current_user, require_test_user,
};
use crate::runtimes::TestRuntime;
use crate::support::{TestResult, WAIT, ed25519_server};

const ED25519: (KeyType, &str, Option<u32>) = KEY_TYPES[0];
const ECDSA_P256: (KeyType, &str, Option<u32>) = KEY_TYPES[1];

/// A client handler that trusts any host key, gives one password (if any) and
/// records the banner.
#[derive(Clone, Default)]
struct User {
    password: Option<&'static str>,
    passwords_asked: Arc<Mutex<u32>>,
}

impl ClientHandler for User {
    async fn check_server_key(&self, _key: &PublicKey) -> bool {
        true
    }

    async fn password(&self, _user: &str) -> Option<Zeroizing<String>> {
        *self
            .passwords_asked
            .lock()
            .unwrap_or_else(|e| e.into_inner()) += 1;
        self.password.map(|p| Zeroizing::new(p.to_owned()))
    }

    /// Answers every prompt (PAM's `Password:`) with the password.
    async fn keyboard_interactive(
        &self,
        _user: &str,
        prompt: &KeyboardInteractivePrompt,
    ) -> Option<Vec<Zeroizing<String>>> {
        let password = self.password?;
        Some(
            prompt
                .prompts()
                .iter()
                .map(|_| Zeroizing::new(password.to_owned()))
                .collect(),
        )
    }
}

/// Our client logs in to `sshd` as `login` says: the runtime crate's `connect`,
/// then `Connection::authenticate`; returns the method that worked.
fn log_in<R: TestRuntime>(
    sshd: &Sshd,
    login: &Login,
    handler: User,
) -> Result<AuthMethod, Box<dyn std::error::Error>> {
    let rt = R::start();
    rt.block_on(async {
        let conn = R::connect(sshd.addr(), ClientConfig::default(), handler.clone()).await?;
        let method = conn.authenticate(login, &handler).await?;
        conn.disconnect("sansh driver auth test: done");
        Ok(method)
    })
}

/// The same through `connect_and_authenticate` over the runtime's TCP stream.
fn connect_and_log_in<R: TestRuntime>(
    sshd: &Sshd,
    login: &Login,
    handler: User,
) -> Result<(), ConnectError> {
    let rt = R::start();
    let runtime = rt.runtime();
    rt.block_on(async {
        let (stream, _) = R::tcp(sshd.addr()).await?;
        let conn =
            connect_and_authenticate(runtime, stream, ClientConfig::default(), login, handler)
                .await?;
        conn.disconnect("sansh driver auth test: done");
        Ok(())
    })
}

/// An sshd that accepts the given public key lines for the current user.
fn sshd_with_keys(lines: &[String], extra: &[String]) -> Result<Sshd, Box<dyn std::error::Error>> {
    let mut builder = Sshd::builder();
    for line in lines {
        builder = builder.authorized_key(line.clone());
    }
    for line in extra {
        builder = builder.config(line.clone());
    }
    Ok(builder.start()?)
}

/// An encrypted key file, its passphrase given in the login: sshd accepts it.
pub(crate) fn client_logs_in_to_sshd_with_an_encrypted_key_file<R: TestRuntime>() -> TestResult {
    let dir = ScratchDir::new("driver-auth-file")?;
    let key = KeyFile::generate(&dir, "id_enc", ED25519, Some(PASSPHRASE))?;
    let sshd = sshd_with_keys(&[key.public_line()?], &[])?;
    let user = current_user()?;
    let login = Login::new(&user).identity_file_with_passphrase(&key.path, PASSPHRASE);
    assert_eq!(
        log_in::<R>(&sshd, &login, User::default())?,
        AuthMethod::PublicKey
    );
    sshd.wait_for_log(&format!("Accepted publickey for {user}"), WAIT)?;
    Ok(())
}

/// Default identities from a temporary `~/.ssh`: `id_ed25519` is not authorized but
/// has a certificate from a CA sshd trusts (read from `id_ed25519-cert.pub`), and
/// `id_ecdsa` is authorized. The certificate, offered first, logs us in.
pub(crate) fn client_logs_in_to_sshd_with_default_identities_and_their_certificate<
    R: TestRuntime,
>() -> TestResult {
    let home = ScratchDir::new("driver-auth-home")?;
    let ssh_dir = home.join(".ssh");
    std::fs::create_dir(&ssh_dir)?;
    let keys = ScratchDir::new("driver-auth-ca")?;
    let ca = KeyFile::generate(&keys, "ca", ED25519, None)?;
    let ssh = ScratchDir::new("driver-auth-ids")?;
    let ed25519 = KeyFile::generate(&ssh, "id_ed25519", ED25519, None)?;
    let ecdsa = KeyFile::generate(&ssh, "id_ecdsa", ECDSA_P256, None)?;
    let user = current_user()?;
    ed25519.certify(&ca, &user, CertType::User)?;
    for path in [
        ed25519.path.clone(),
        cert_path(&ed25519.path),
        ecdsa.path.clone(),
    ] {
        let name = path.file_name().ok_or("a key file name")?;
        std::fs::copy(&path, ssh_dir.join(name))?;
    }
    let trusted = format!(
        "TrustedUserCAKeys {}",
        ca.path.with_extension("pub").display()
    );
    let sshd = sshd_with_keys(&[ecdsa.public_line()?], &[trusted])?;
    let login = Login::new(&user).default_identities_in(&ssh_dir);
    connect_and_log_in::<R>(&sshd, &login, User::default())?;
    sshd.wait_for_log(&format!("Accepted publickey for {user}"), WAIT)?;
    let log = sshd.log();
    assert!(
        log.contains("ED25519-CERT"),
        "sshd accepted the certificate, not a plain key: {log}"
    );
    Ok(())
}

/// Keys loaded into a real `ssh-agent` with `ssh-add`: the driver lists them and
/// has the agent sign (an RSA key, so rsa-sha2 flags go through the agent).
pub(crate) fn client_logs_in_to_sshd_with_keys_in_ssh_agent<R: TestRuntime>() -> TestResult {
    let dir = ScratchDir::new("driver-auth-agent")?;
    let unauthorized = KeyFile::generate(&dir, "other", ED25519, None)?;
    let key = KeyFile::generate(&dir, "id_agent", KEY_TYPES[4], None)?;
    let agent = SshAgent::start()?;
    agent.ssh_add(&[unauthorized.path.as_os_str()])?;
    agent.ssh_add(&[key.path.as_os_str()])?;
    let sshd = sshd_with_keys(&[key.public_line()?], &[])?;
    let user = current_user()?;
    let login = Login::new(&user).agent(agent.socket());
    log_in::<R>(&sshd, &login, User::default())?;
    sshd.wait_for_log(&format!("Accepted publickey for {user}"), WAIT)?;
    assert!(sshd.log().contains("RSA SHA256:"), "{}", sshd.log());
    Ok(())
}

fn password_sshd() -> Result<Sshd, Box<dyn std::error::Error>> {
    require_test_user()?;
    sshd_with_keys(
        &[],
        &[
            "UsePAM yes".into(),
            "PasswordAuthentication yes".into(),
            "KbdInteractiveAuthentication yes".into(),
        ],
    )
}

/// A password from the handler: sshd lets the test user in.
pub(crate) fn client_logs_in_to_sshd_with_a_password_from_the_handler<R: TestRuntime>() -> TestResult
{
    let sshd = password_sshd()?;
    let handler = User {
        password: Some(TEST_PASSWORD),
        ..User::default()
    };
    let login = Login::new(TEST_USER).methods(&[AuthMethod::Password]);
    let method = log_in::<R>(&sshd, &login, handler.clone())?;
    assert_eq!(method, AuthMethod::Password);
    sshd.wait_for_log(&format!("Accepted password for {TEST_USER}"), WAIT)?;
    assert_eq!(
        *handler.passwords_asked.lock().map_err(|e| e.to_string())?,
        1
    );
    Ok(())
}

/// Keyboard-interactive through sshd's PAM, the prompts answered by the handler
/// (OpenSSH's default order, so it comes before password).
pub(crate) fn client_logs_in_to_sshd_with_keyboard_interactive_from_the_handler<R: TestRuntime>()
-> TestResult {
    let sshd = password_sshd()?;
    let handler = User {
        password: Some(TEST_PASSWORD),
        ..User::default()
    };
    let method = log_in::<R>(&sshd, &Login::new(TEST_USER), handler.clone())?;
    assert_eq!(method, AuthMethod::KeyboardInteractive);
    sshd.wait_for_log(
        &format!("Accepted keyboard-interactive/pam for {TEST_USER}"),
        WAIT,
    )?;
    assert_eq!(
        *handler.passwords_asked.lock().map_err(|e| e.to_string())?,
        0
    );
    Ok(())
}

/// A wrong password: the error says permission denied and names what sshd offers.
pub(crate) fn wrong_password_fails_naming_the_methods_sshd_offers<R: TestRuntime>() -> TestResult {
    let sshd = password_sshd()?;
    let handler = User {
        password: Some("not the password"),
        ..User::default()
    };
    let login = Login::new(TEST_USER)
        .methods(&[AuthMethod::Password])
        .password_prompts(1);
    match connect_and_log_in::<R>(&sshd, &login, handler) {
        Err(ConnectError::Authentication(AuthFailed::Denied { offered, tried })) => {
            assert!(offered.iter().any(|m| m == "password"), "{offered:?}");
            assert_eq!(tried, [AuthMethod::None, AuthMethod::Password]);
            Ok(())
        }
        other => Err(format!("expected permission denied, got {other:?}").into()),
    }
}

/// Our server's handler: one user, one key, one password.
struct Accounts {
    user: String,
    key: Option<PublicKey>,
    password: Option<&'static str>,
}

impl ServerHandler for Accounts {
    async fn auth_publickey(
        &self,
        user: &str,
        key: &PublicKey,
        _certificate: Option<&Certificate>,
    ) -> AuthDecision {
        if user == self.user && self.key.as_ref() == Some(key) {
            AuthDecision::Accept
        } else {
            AuthDecision::Reject
        }
    }

    async fn auth_password(&self, user: &str, password: &str) -> AuthDecision {
        if user == self.user && self.password == Some(password) {
            AuthDecision::Accept
        } else {
            AuthDecision::Reject
        }
    }
}

/// Runs `ssh` (on a thread) against our server and waits, through the driver, for
/// the client to authenticate; returns ssh's log and the method our server saw.
fn ssh_to_our_server<R: TestRuntime>(
    accounts: Accounts,
    run: impl FnOnce(SshRun) -> SshRun + Send + 'static,
) -> Result<(String, Vec<AuthMethod>), Box<dyn std::error::Error>> {
    let rt = R::start();
    let user = accounts.user.clone();
    let config: Arc<ServerConfig> = ed25519_server();
    let listener = rt.block_on(R::listen(config, accounts))?;
    let addr = listener.local_addr();
    let ssh = thread::spawn(move || {
        let mut run = run(SshRun::new(addr, &user));
        run.timeout = Duration::from_secs(30);
        run.run()
    });
    let (conn, _) = rt.block_on(listener.accept()).ok_or("the listener ended")?;
    let authenticated = rt.block_on(conn.authenticated());
    conn.disconnect("sansh driver auth test: authenticated");
    let output = ssh.join().map_err(|_| "the ssh thread panicked")??;
    let user = authenticated.map_err(|e| format!("{e}; ssh said:\n{}", output.log))?;
    Ok((output.log, user.methods))
}

/// `ssh -i key` logs in to our server, whose handler accepts that key.
pub(crate) fn openssh_ssh_logs_in_to_our_server_with_a_key<R: TestRuntime>() -> TestResult {
    let dir = ScratchDir::new("driver-auth-ssh-key")?;
    let key = KeyFile::generate(&dir, "id_ssh", ED25519, None)?;
    let accounts = Accounts {
        user: "alice".into(),
        key: Some(key.public_key()?),
        password: None,
    };
    let path = key.path.display().to_string();
    let (log, methods) = ssh_to_our_server::<R>(accounts, move |run| {
        run.option("PreferredAuthentications=publickey")
            .arg("-i")
            .arg(path)
    })?;
    assert!(log.contains("using \"publickey\""), "{log}");
    assert_eq!(methods, [AuthMethod::PublicKey]);
    Ok(())
}

/// `ssh` logs in to our server with a password given through `SSH_ASKPASS`; a
/// first wrong one is refused and ssh asks again.
pub(crate) fn openssh_ssh_logs_in_to_our_server_with_a_password<R: TestRuntime>() -> TestResult {
    let dir = ScratchDir::new("driver-auth-ssh-password")?;
    let counter = dir.join("asked");
    let body = format!(
        "if [ -e {c} ]; then echo right-password; else touch {c}; echo wrong; fi",
        c = counter.display()
    );
    let askpass = askpass_script(&dir, "askpass", &body)?;
    let accounts = Accounts {
        user: "bob".into(),
        key: None,
        password: Some("right-password"),
    };
    let (log, methods) = ssh_to_our_server::<R>(accounts, move |run| {
        run.askpass(&askpass)
            .option("PreferredAuthentications=password")
            .option("NumberOfPasswordPrompts=2")
    })?;
    assert!(log.contains("using \"password\""), "{log}");
    assert_eq!(methods, [AuthMethod::Password]);
    Ok(())
}
