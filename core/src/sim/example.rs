use std::error::Error;
use std::sync::Arc;

use sansh_core::channel::{ChannelId, ChannelRequest};
use sansh_core::crypto::SeededRandom;
use sansh_core::keys::{KeyType, PrivateKey};
use sansh_core::sim::{Login, Simulation};
use sansh_core::{ClientConfig, Event, ServerConfig};

/// The server's logic under test: sessions accepted, `echo hi` answered.
fn serve(sim: &mut Simulation) -> Result<(), Box<dyn Error>> {
    for event in sim.server_events() {
        match event {
            Event::ChannelOpenRequest(open) => {
                sim.server().channels().accept_open(open)?;
            }
            Event::ChannelRequest(request) => {
                let id = request.channel();
                let echo = matches!(request.request(),
                    ChannelRequest::Exec { command } if command == b"echo hi");
                if !echo {
                    sim.server().channels().reject_request(request);
                    continue;
                }
                sim.server().channels().accept_request(request);
                let mut channel = sim.server().channel(id);
                channel.write(b"hi\n")?;
                channel.exit_status(0)?;
                channel.eof()?;
                channel.close()?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// What the client saw of its command.
#[derive(Default)]
struct Run {
    output: Vec<u8>,
    exit_status: Option<u32>,
    closed: bool,
}

/// The client's logic under test: run `echo hi` on `id` and collect the result.
fn client(sim: &mut Simulation, id: ChannelId, run: &mut Run) -> Result<(), Box<dyn Error>> {
    for event in sim.client_events() {
        match event {
            Event::ChannelOpened(opened) if opened == id => {
                sim.client().channel(id).request_exec("echo hi", true)?;
            }
            Event::ChannelReadable(_) => {
                while let Some(data) = sim.client().channel(id).read() {
                    run.output.extend_from_slice(&data);
                }
            }
            Event::ChannelRequest(request) => {
                if let ChannelRequest::ExitStatus(status) = request.request() {
                    run.exit_status = Some(*status);
                }
            }
            Event::ChannelClosed(closed) if closed == id => run.closed = true,
            _ => {}
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut rng = SeededRandom::new(1);
    let host_key = PrivateKey::generate(KeyType::Ed25519, None, &mut rng)?;
    let server_config = ServerConfig {
        host_keys: vec![host_key],
        ..ServerConfig::default()
    };
    // Seed 42: key exchange and login done, in memory, in virtual time.
    let login = Login::password("alice", "secret");
    let mut sim =
        Simulation::connected(ClientConfig::default(), Arc::new(server_config), 42, login)?;

    let id = sim.client().channels().open_session()?;
    let mut run = Run::default();
    sim.try_run_until(|sim| {
        serve(sim)?;
        client(sim, id, &mut run)?;
        Ok::<_, Box<dyn Error>>(run.closed)
    })?;

    assert_eq!(run.output, b"hi\n");
    assert_eq!(run.exit_status, Some(0));
    Ok(())
}
