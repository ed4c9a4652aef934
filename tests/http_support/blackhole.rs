//! A local address that never answers a connect: a listener that never accepts, with its
//! accept queue filled, so the kernel drops further SYNs and a connect waits for its timeout
//! (what a dead host or a firewall that drops packets looks like), deterministically, without
//! the network.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// Connections to make at most while filling the queue (std listens with a backlog of 128).
const MAX_FILL: usize = 4096;

/// Holds the listener and the connections that fill its queue; connects to
/// [`addr`](Self::addr) hang until dropped.
#[derive(Debug)]
pub struct Blackhole {
    addr: SocketAddr,
    _listener: TcpListener,
    _queued: Vec<TcpStream>,
}

impl Blackhole {
    /// A blackholed address on 127.0.0.1, or `None` where the system refuses connections past a
    /// full queue instead of dropping them (then a connect fails at once and proves nothing).
    pub fn new() -> Option<Blackhole> {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let mut queued = Vec::new();
        while queued.len() < MAX_FILL {
            match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
                Ok(stream) => queued.push(stream),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return Some(Blackhole { addr, _listener: listener, _queued: queued });
                }
                Err(_) => return None,
            }
        }
        None
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}
