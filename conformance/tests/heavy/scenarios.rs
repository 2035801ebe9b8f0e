//! The heavy scenarios, each generic over the runtime it runs on.

use std::time::Duration;

use sansh_core::ClientConfig;

use crate::bulk::{echo_through_channel, echo_through_process};
use crate::many;
use crate::our_server::{serve, ssh_command};
use crate::runtimes::TestRuntime;
use crate::session::logged_in_with;
use crate::support::TestResult;

const GIB: u64 = 1024 * 1024 * 1024;
const TEN_MIB: u64 = 10 * 1024 * 1024;

/// How long one heavy transfer may take before the test fails: generous, for a
/// loaded CI machine; a release build moves a GiB in seconds.
pub(crate) const HEAVY_WAIT: Duration = Duration::from_secs(600);

/// 1 GiB written by our client to `cat` on sshd comes back with equal checksums.
pub(crate) fn one_gib_through_cat_on_sshd_comes_back_intact<R: TestRuntime>() -> TestResult {
    let (echo, status) = logged_in_with::<R, _>(ClientConfig::default(), &[], async |conn, _| {
        let mut channel = conn.open_session().await?;
        channel.exec("cat").await?;
        let echo = echo_through_channel(&mut channel, GIB, 1).await?;
        channel.wait_closed().await?;
        Ok((echo, channel.exit_status()))
    })?;
    echo.check(GIB)?;
    assert_eq!(status, Some(0));
    Ok(())
}

/// 1 GiB piped into `ssh host cat` against our server comes back out of ssh with
/// equal checksums.
pub(crate) fn one_gib_from_openssh_ssh_through_cat_on_our_server_comes_back_intact<
    R: TestRuntime,
>() -> TestResult {
    let rt = R::start();
    let (addr, _) = serve(&rt)?;
    let out = echo_through_process(ssh_command(addr, &[], "cat")?, GIB, 2, HEAVY_WAIT)?;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    out.echo.check(GIB)?;
    Ok(())
}

/// 100 sessions at once on one connection to sshd, 10 MiB each through `cat`.
pub(crate) fn hundred_channels_of_ten_mib_through_cat_on_sshd<R: TestRuntime>() -> TestResult {
    many::channels_at_once_through_cat_on_sshd::<R>(100, TEN_MIB)
}

/// 100 sessions at once on one connection from our client to our server, 10 MiB
/// each through `cat`.
pub(crate) fn hundred_channels_of_ten_mib_through_cat_on_our_server<R: TestRuntime>() -> TestResult
{
    many::channels_at_once_through_cat_on_our_server::<R>(100, TEN_MIB)
}

/// 100 `ssh` sessions multiplexed on one connection to our server, 10 MiB each
/// through `cat`.
pub(crate) fn hundred_ssh_mux_sessions_of_ten_mib_through_cat_on_our_server<R: TestRuntime>()
-> TestResult {
    many::ssh_mux_sessions_through_cat_on_our_server::<R>(100, TEN_MIB, HEAVY_WAIT)
}

/// 100 TCP connections at once through one local forward (`-L`) on sshd, each
/// echoing 10 MiB with every byte checked.
pub(crate) fn a_hundred_forwarded_connections_at_once_each_carry_ten_mebibytes<R: TestRuntime>()
-> TestResult {
    crate::forwarding::hundred_forwarded_connections::<R>(10 * 1024 * 1024)
}
