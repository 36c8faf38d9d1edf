//! The gateway's listener: a tokio runtime on a thread of its own, accepting WebSocket connections
//! until the simulator is dropped (which drops every connection with it).

use std::net::{IpAddr, SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::connection;
use crate::server::Shared;

/// Connections open at once; more are accepted and dropped at once.
const MAX_CONNECTIONS: usize = 256;

/// The running gateway listener; dropping it stops the listener and ends every connection.
#[derive(Debug)]
pub(crate) struct GatewayListener {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl GatewayListener {
    /// Listens on `ip` at a free port.
    pub(crate) fn start(shared: Arc<Shared>, ip: IpAddr) -> std::io::Result<GatewayListener> {
        let listener = StdListener::bind(SocketAddr::new(ip, 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (shutdown, stop) = oneshot::channel();
        let resume_url: Arc<str> = url_of(addr).into();
        let thread = std::thread::Builder::new().name(format!("discord-sim gateway {addr}")).spawn(move || {
            runtime.block_on(accept(listener, shared, resume_url, stop));
            // Dropping the runtime here drops every connection task, closing their sockets.
        })?;
        Ok(GatewayListener { addr, shutdown: Some(shutdown), thread: Some(thread) })
    }

    /// `ws://HOST:PORT`, as `GET /gateway` and READY's `resume_gateway_url` give it.
    pub(crate) fn url(&self) -> String {
        url_of(self.addr)
    }
}

/// The URL clients use for an address (the loopback address when listening on every interface).
fn url_of(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
        ip => ip,
    };
    format!("ws://{}", SocketAddr::new(ip, addr.port()))
}

impl Drop for GatewayListener {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn accept(listener: StdListener, shared: Arc<Shared>, resume_url: Arc<str>, mut stop: oneshot::Receiver<()>) {
    let Ok(listener) = TcpListener::from_std(listener) else { return };
    loop {
        tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                if shared.lock().gateway.connection_count() >= MAX_CONNECTIONS {
                    drop(stream);
                    continue;
                }
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection::serve(Arc::clone(&shared), stream, Arc::clone(&resume_url)));
            }
        }
    }
}
