//! Our server engine over a blocking reader and writer (stdin and stdout in
//! `sansh-sftp-server-stdio`), answering requests synchronously from a [`Backend`].

use std::io::{self, Read, Write};

use sansh_core::sftp::{
    Backend, Handle, ServerConfig, ServerEvent, SessionError, SftpError, SftpServer, dispatch,
};

/// Serves SFTP on `input`/`output` until the stream ends or the client breaks the
/// protocol; returns how the session ended. Handles still open are closed in the
/// backend.
///
/// The loop follows the engine's contract: answer every event, write everything
/// `poll_transmit` gives, and read only while the engine wants input.
///
/// # Errors
/// When reading or writing fails.
pub fn serve(
    backend: &mut dyn Backend,
    config: ServerConfig,
    mut input: impl Read,
    mut output: impl Write,
) -> io::Result<SessionError> {
    let mut server = SftpServer::new(config);
    let mut buf = vec![0u8; 256 * 1024];
    let mut out = Vec::new();
    loop {
        while let Some(event) = server.poll_event() {
            match event {
                ServerEvent::Request { id, request } => {
                    let result = dispatch(backend, request);
                    if let Err(misuse) = server.respond(id, result) {
                        // A backend answer the engine refuses (too long a handle,
                        // too many names) still owes the client a status.
                        let _ = server.respond(id, Err(SftpError::failure(misuse.to_string())));
                    }
                }
                ServerEvent::Closed(end) => {
                    out.clear();
                    let _ = server.poll_transmit(&mut out);
                    output.write_all(&out)?;
                    output.flush()?;
                    let open: Vec<Handle> = server.open_handles().map(|(h, _)| h.clone()).collect();
                    for handle in open {
                        let _ = backend.close(&handle);
                    }
                    return Ok(end);
                }
                _ => {}
            }
        }
        out.clear();
        if server.poll_transmit(&mut out) > 0 {
            output.write_all(&out)?;
            output.flush()?;
        }
        if server.wants_input() {
            match input.read(&mut buf) {
                Ok(0) => server.handle_eof(),
                Ok(n) => server.handle_input(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}
