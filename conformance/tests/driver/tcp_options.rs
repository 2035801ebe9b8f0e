//! The socket options the runtime crates set on an SSH connection's TCP stream
//! (`TCP_QUICKACK` exists on Linux only).

mod scenarios {
    use std::future::poll_fn;
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::pin::Pin;

    use futures_io::AsyncRead;
    use rustix::net::sockopt::{set_tcp_quickack, tcp_nodelay, tcp_quickack};

    use crate::runtimes::TestRuntime;
    use crate::support::TestResult;

    /// `ssh_tcp` turns Nagle's algorithm off and, after each read, turns quick
    /// acknowledgements back on (the kernel drops back to delayed ones by itself, which
    /// made sshd's small answers wait 40 ms). Socket options belong to the socket, so a
    /// duplicate of the descriptor shows them.
    pub(crate) fn ssh_streams_acknowledge_each_read_at_once<R: TestRuntime>() -> TestResult {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let ours = TcpStream::connect(listener.local_addr()?)?;
        let (mut peer, _) = listener.accept()?;
        let probe = ours.try_clone()?;
        let rt = R::start();
        rt.block_on(async {
            let mut stream = R::ssh_tcp(ours)?;
            assert!(tcp_nodelay(&probe)?, "TCP_NODELAY is set");
            let mut buf = [0; 16];
            for message in [&b"first"[..], b"second"] {
                set_tcp_quickack(&probe, false)?;
                assert!(
                    !tcp_quickack(&probe)?,
                    "delayed acknowledgements to start from"
                );
                peer.write_all(message)?;
                let n = poll_fn(|cx| Pin::new(&mut stream).poll_read(cx, &mut buf)).await?;
                assert_eq!(&buf[..n], message);
                assert!(tcp_quickack(&probe)?, "quick acknowledgements after a read");
            }
            TestResult::Ok(())
        })
    }
}

crate::runtimes::on_every_runtime!(ssh_streams_acknowledge_each_read_at_once);
