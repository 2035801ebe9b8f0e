//! The three runtimes behind one small trait, and the macro that runs every scenario
//! on each of them: one scenario list, a test per (runtime, scenario).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sansh_core::driver::{
    ByteStream, ClientHandler, ConnectError, Connection, Listener, Runtime, ServerHandler,
};
use sansh_core::{ClientConfig, ServerConfig};

/// What a scenario needs from a runtime. A value of it owns the runtime (tokio's
/// lives as long as the scenario; smol's and async-std's are global).
pub(crate) trait TestRuntime: Sized {
    /// Starts the runtime.
    fn start() -> Self;
    /// Runs `future` to completion; spawned tasks keep running in the background.
    fn block_on<F: Future>(&self, future: F) -> F::Output;
    /// The runtime as the driver takes it (call inside `block_on`).
    fn runtime(&self) -> Arc<dyn Runtime>;
    /// The runtime crate's `connect`.
    fn connect(
        addr: SocketAddr,
        config: ClientConfig,
        handler: impl ClientHandler,
    ) -> impl Future<Output = Result<Connection, ConnectError>> + Send + 'static;
    /// The runtime crate's `listen`, on a free loopback port.
    fn listen(
        config: Arc<ServerConfig>,
        handler: impl ServerHandler,
    ) -> impl Future<Output = Result<Listener, ConnectError>>;
    /// A plain TCP stream to `addr`, as the driver takes it, and its local address.
    fn tcp(addr: SocketAddr)
    -> impl Future<Output = io::Result<(Box<dyn ByteStream>, SocketAddr)>>;
    /// The runtime crate's `ssh_tcp` applied to a connected std stream (call inside
    /// `block_on`).
    fn ssh_tcp(stream: std::net::TcpStream) -> io::Result<Box<dyn ByteStream>>;
    /// Sleeps on the runtime's timer.
    fn sleep(duration: Duration) -> impl Future<Output = ()>;
}

const LOOPBACK_ANY_PORT: &str = "127.0.0.1:0";

pub(crate) struct Tokio(tokio::runtime::Runtime);

impl TestRuntime for Tokio {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        Self(runtime)
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn runtime(&self) -> Arc<dyn Runtime> {
        sansh_tokio::TokioRuntime::new(self.0.handle().clone()).shared()
    }

    fn connect(
        addr: SocketAddr,
        config: ClientConfig,
        handler: impl ClientHandler,
    ) -> impl Future<Output = Result<Connection, ConnectError>> + Send + 'static {
        sansh_tokio::connect(addr, config, handler)
    }

    fn listen(
        config: Arc<ServerConfig>,
        handler: impl ServerHandler,
    ) -> impl Future<Output = Result<Listener, ConnectError>> {
        sansh_tokio::listen(LOOPBACK_ANY_PORT, config, handler)
    }

    async fn tcp(addr: SocketAddr) -> io::Result<(Box<dyn ByteStream>, SocketAddr)> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        let local = stream.local_addr()?;
        Ok((Box::new(sansh_tokio::Compat(stream)), local))
    }

    fn ssh_tcp(stream: std::net::TcpStream) -> io::Result<Box<dyn ByteStream>> {
        stream.set_nonblocking(true)?;
        let stream = tokio::net::TcpStream::from_std(stream)?;
        Ok(Box::new(sansh_tokio::ssh_tcp(stream)))
    }

    async fn sleep(duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

pub(crate) struct Smol;

impl TestRuntime for Smol {
    fn start() -> Self {
        Self
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        smol::block_on(future)
    }

    fn runtime(&self) -> Arc<dyn Runtime> {
        sansh_smol::SmolRuntime.shared()
    }

    fn connect(
        addr: SocketAddr,
        config: ClientConfig,
        handler: impl ClientHandler,
    ) -> impl Future<Output = Result<Connection, ConnectError>> + Send + 'static {
        sansh_smol::connect(addr, config, handler)
    }

    fn listen(
        config: Arc<ServerConfig>,
        handler: impl ServerHandler,
    ) -> impl Future<Output = Result<Listener, ConnectError>> {
        sansh_smol::listen(LOOPBACK_ANY_PORT, config, handler)
    }

    async fn tcp(addr: SocketAddr) -> io::Result<(Box<dyn ByteStream>, SocketAddr)> {
        let stream = smol::net::TcpStream::connect(addr).await?;
        let local = stream.local_addr()?;
        Ok((Box::new(stream), local))
    }

    fn ssh_tcp(stream: std::net::TcpStream) -> io::Result<Box<dyn ByteStream>> {
        let stream = smol::net::TcpStream::try_from(stream)?;
        Ok(Box::new(sansh_smol::ssh_tcp(stream)))
    }

    async fn sleep(duration: Duration) {
        smol::Timer::after(duration).await;
    }
}

pub(crate) struct AsyncStd;

impl TestRuntime for AsyncStd {
    fn start() -> Self {
        Self
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        async_std::task::block_on(future)
    }

    fn runtime(&self) -> Arc<dyn Runtime> {
        sansh_async_std::AsyncStdRuntime.shared()
    }

    fn connect(
        addr: SocketAddr,
        config: ClientConfig,
        handler: impl ClientHandler,
    ) -> impl Future<Output = Result<Connection, ConnectError>> + Send + 'static {
        sansh_async_std::connect(addr, config, handler)
    }

    fn listen(
        config: Arc<ServerConfig>,
        handler: impl ServerHandler,
    ) -> impl Future<Output = Result<Listener, ConnectError>> {
        sansh_async_std::listen(LOOPBACK_ANY_PORT, config, handler)
    }

    async fn tcp(addr: SocketAddr) -> io::Result<(Box<dyn ByteStream>, SocketAddr)> {
        let stream = async_std::net::TcpStream::connect(addr).await?;
        let local = stream.local_addr()?;
        Ok((Box::new(stream), local))
    }

    fn ssh_tcp(stream: std::net::TcpStream) -> io::Result<Box<dyn ByteStream>> {
        stream.set_nonblocking(true)?;
        let stream = async_std::net::TcpStream::from(stream);
        Ok(Box::new(sansh_async_std::ssh_tcp(stream)))
    }

    async fn sleep(duration: Duration) {
        async_std::task::sleep(duration).await;
    }
}

/// Runs each scenario (a generic `fn name<R: TestRuntime>() -> TestResult`) on every
/// runtime: `tokio::name`, `smol::name`, `async_std::name`.
macro_rules! on_every_runtime {
    ($($scenario:ident),* $(,)?) => {
        $crate::runtimes::on_every_runtime!(@runtime tokio, Tokio, $($scenario),*);
        $crate::runtimes::on_every_runtime!(@runtime smol, Smol, $($scenario),*);
        $crate::runtimes::on_every_runtime!(@runtime async_std, AsyncStd, $($scenario),*);
    };
    (@runtime $module:ident, $runtime:ident, $($scenario:ident),*) => {
        mod $module {
            $(
                #[test]
                fn $scenario() -> $crate::support::TestResult {
                    super::scenarios::$scenario::<$crate::runtimes::$runtime>()
                }
            )*
        }
    };
}

pub(crate) use on_every_runtime;
