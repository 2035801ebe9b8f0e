//! Channel data across key exchanges, both ways: a peer that rekeys every MiB
//! while 8 MiB go through `cat` and back. Every byte must come back, in order,
//! whichever side started each exchange.

use sansh_core::ClientConfig;
use sansh_core::TransportConfig;
use sansh_core::config::ConnectionConfig;

use crate::bulk::{echo_through_channel, echo_through_process};
use crate::our_server::{serve_configured, ssh_command};
use crate::runtimes::TestRuntime;
use crate::session::logged_in_with;
use crate::support::{TestResult, WAIT};

const EIGHT_MIB: u64 = 8 * 1024 * 1024;

/// sshd with `RekeyLimit 1M`: our client's 8 MiB through `cat` come back intact
/// across the exchanges sshd starts (counted by our client's handle).
pub(crate) fn data_through_cat_on_sshd_survives_its_rekeys_every_mib<R: TestRuntime>() -> TestResult
{
    let (echo, status, exchanges) = logged_in_with::<R, _>(
        ClientConfig::default(),
        &["RekeyLimit 1M"],
        async |conn, _| {
            let mut channel = conn.open_session().await?;
            channel.exec("cat").await?;
            let echo = echo_through_channel(&mut channel, EIGHT_MIB, 3).await?;
            channel.wait_closed().await?;
            Ok((echo, channel.exit_status(), conn.key_exchanges()))
        },
    )?;
    echo.check(EIGHT_MIB)?;
    assert_eq!(status, Some(0));
    // 16 MiB crossed the link (8 each way): sshd counts both directions.
    assert!(exchanges >= 8, "{exchanges} key exchanges");
    Ok(())
}

/// Our server rekeying every MiB: 8 MiB through `ssh host cat` come back intact
/// across the exchanges it starts.
pub(crate) fn data_from_openssh_ssh_survives_our_servers_rekeys_every_mib<R: TestRuntime>()
-> TestResult {
    let rt = R::start();
    let transport = TransportConfig {
        rekey_after_bytes: Some(1024 * 1024),
        ..TransportConfig::default()
    };
    let server = serve_configured(&rt, transport, ConnectionConfig::default())?;
    let out = echo_through_process(
        ssh_command(server.addr, &["-v"], "cat")?,
        EIGHT_MIB,
        4,
        WAIT,
    )?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    out.echo.check(EIGHT_MIB)?;
    let exchanges = out.stderr.matches("SSH2_MSG_KEXINIT received").count();
    assert!(exchanges >= 8, "{exchanges} key exchanges:\n{}", out.stderr);
    Ok(())
}
