//! A loopback TLS server with a fresh self-signed certificate (rcgen), rustls over a std
//! `TcpStream`: it completes the handshake when the client trusts the certificate and answers
//! every request `200` with the body `ok`. Included with `#[path]` by the tests that need it
//! (only those then build rcgen and the server side of rustls).

#![allow(dead_code, unreachable_pub)]

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// The server: its port and its certificate (PEM), to trust it or not.
pub struct SelfSigned {
    pub port: u16,
    pub certificate_pem: String,
}

impl SelfSigned {
    /// Starts a server for `localhost` and `127.0.0.1` on a random port (it runs until the
    /// process ends).
    pub fn start() -> SelfSigned {
        SelfSigned::start_replying(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec())
    }

    /// As [`start`](Self::start), answering every request with `reply` (a whole response).
    pub fn start_replying(reply: Vec<u8>) -> SelfSigned {
        let reply: Arc<[u8]> = reply.into();
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let certified = rcgen::generate_simple_self_signed(names).expect("certificate");
        let key =
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .expect("server config");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(tcp) = stream else { continue };
                let (config, reply) = (Arc::clone(&config), Arc::clone(&reply));
                thread::spawn(move || serve(tcp, config, &reply));
            }
        });
        SelfSigned { port, certificate_pem: certified.cert.pem() }
    }
}

/// One connection: requests answered `200 ok` until it ends or fails (a client that refuses the
/// certificate makes the first read fail).
fn serve(tcp: std::net::TcpStream, config: Arc<rustls::ServerConfig>, reply: &[u8]) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(connection) = rustls::ServerConnection::new(config) else { return };
    let mut tls = rustls::StreamOwned::new(connection, tcp);
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = tls.read(&mut buf) else { return };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buf[..n]);
        while let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            request.drain(..end + 4);
            if tls.write_all(reply).and_then(|()| tls.flush()).is_err() {
                return;
            }
        }
    }
}
