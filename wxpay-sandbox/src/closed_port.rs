//! A loopback port where nothing listens, for tests of what a client does when the platform
//! (or a merchant's notification URL) cannot be reached.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};

/// A loopback port nothing listens on, reserved for as long as this value lives: a connection
/// to it is refused, and no other listener can be handed the port meanwhile.
///
/// The usual way, binding a listener and dropping it, frees the port: a test running in
/// parallel may then be given it, and the request meant to fail reaches that test's server.
/// Here the socket stays bound but never listens, so the port is taken and refuses connections.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// let closed = wxpay_sandbox::ClosedPort::reserve()?;
/// assert!(std::net::TcpStream::connect(closed.addr()).is_err());
/// assert!(closed.url().starts_with("http://127.0.0.1:"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ClosedPort {
    addr: SocketAddr,
    // Bound, never listening: holds the port.
    _socket: tokio::net::TcpSocket,
}

impl ClosedPort {
    /// Reserves a free port on 127.0.0.1.
    ///
    /// # Errors
    /// When no socket can be created or bound (out of descriptors or ports).
    pub fn reserve() -> io::Result<ClosedPort> {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        Ok(ClosedPort {
            addr: socket.local_addr()?,
            _socket: socket,
        })
    }

    /// The address: `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}
