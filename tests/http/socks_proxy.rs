//! SOCKS proxies (the `Override` list's `socks4://`, `socks4a://`, `socks5://` and `socks5h://`
//! entries; the proxy variables take the same URLs): a download goes through the proxy byte for
//! byte, the proxy is asked for the server's address (`socks4`, `socks5`: looked up here) or its
//! name (`socks4a`, `socks5h`: looked up by the proxy), and a stop interrupts a request through
//! a SOCKS proxy as it interrupts a direct one. A proxy that cannot reach the server is a
//! transient connect failure, as an HTTP proxy's refused `CONNECT` is; a proxy that wants
//! credentials the job lacks is a fatal `407`, as an HTTP proxy's is; the job's proxy
//! credentials go to a SOCKS5 proxy; a TLS failure through a SOCKS proxy is still one.
//!
//! The SOCKS server is written here (RFC 1928 with no authentication or RFC 1929's user name and
//! password, SOCKS4 and its 4a extension, `CONNECT` only): it records what each client asked
//! for and relays the bytes both ways between the client and the server it connected to. Names it is asked to look up all
//! lead to 127.0.0.1 (the `.test` names of these tests do not exist anywhere else). No test
//! sleeps to synchronise or measures time.

use crate::{http_support, tls};

use bgcopy::transport::{HttpTransport, TransferError};
use bgcopy::*;
use http_support::*;
use parking_lot::Mutex;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread;
use std::time::Duration;

/// Long enough for anything a test waits for; the tests never rely on it passing.
const PATIENCE: Duration = Duration::from_secs(60);
/// The job's timeouts in the tests of a stop: far beyond [`PATIENCE`].
const AN_HOUR: Duration = Duration::from_secs(3600);

/// What a client asked the SOCKS server to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Asked {
    /// By address (SOCKS4, or SOCKS5 address types 1 and 4), with the protocol version.
    Address(u8, SocketAddr),
    /// By name (SOCKS4a, or SOCKS5 address type 3), with the protocol version.
    Name(u8, String, u16),
    /// SOCKS5 user name and password authentication (RFC 1929), before the `CONNECT`.
    Login(String, String),
}

/// What the SOCKS server does with a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// Connects as asked and relays.
    Relay,
    /// Reads the greeting and answers nothing.
    SilentGreeting,
    /// Answers the `CONNECT` with success, then sends nothing (the server says nothing).
    SilentAfterConnect,
    /// Answers the `CONNECT` with "connection refused" (SOCKS5 reply 5, SOCKS4 reply 91).
    Refuse,
    /// SOCKS5: accepts none of the methods offered without credentials (reply `0xff`).
    WantsPassword,
    /// SOCKS5: asks for a user name and password, accepts only these, then relays.
    Password(&'static str, &'static str),
}

/// A SOCKS4/4a/5 server on 127.0.0.1; tells of each connection accepted and each connection
/// the client closed (in the silent behaviours).
struct Socks {
    addr: SocketAddr,
    asked: Arc<Mutex<Vec<Asked>>>,
    accepted: Receiver<()>,
    closed: Receiver<()>,
}

impl Socks {
    fn start(behaviour: Behaviour) -> Socks {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let asked = Arc::new(Mutex::new(Vec::new()));
        let (accepted_tx, accepted) = channel();
        let (closed_tx, closed) = channel();
        {
            let asked = Arc::clone(&asked);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    if accepted_tx.send(()).is_err() {
                        return; // the test is over
                    }
                    let (asked, closed_tx) = (Arc::clone(&asked), closed_tx.clone());
                    thread::spawn(move || {
                        let _ = serve(stream, behaviour, &asked, &closed_tx);
                    });
                }
            });
        }
        Socks { addr, asked, accepted, closed }
    }

    /// The proxy list entry for this server with `scheme`.
    fn entry(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }

    fn asked(&self) -> Vec<Asked> {
        self.asked.lock().clone()
    }

    fn wait_accepted(&self) {
        self.accepted.recv_timeout(PATIENCE).expect("the job's worker connects to the proxy");
    }

    fn wait_closed(&self) {
        self.closed.recv_timeout(PATIENCE).expect("the worker lets go of the connection");
    }
}

impl Drop for Socks {
    fn drop(&mut self) {
        // Wakes the accept loop, which finds the test gone and ends.
        let _ = TcpStream::connect(self.addr);
    }
}

fn read_u8(stream: &mut TcpStream) -> io::Result<u8> {
    let mut byte = [0u8];
    stream.read_exact(&mut byte)?;
    Ok(byte[0])
}

fn read_port(stream: &mut TcpStream) -> io::Result<u16> {
    let mut port = [0u8; 2];
    stream.read_exact(&mut port)?;
    Ok(u16::from_be_bytes(port))
}

/// A string ended by a zero byte (SOCKS4's user id and 4a's name).
fn read_zero_ended(stream: &mut TcpStream) -> io::Result<String> {
    let mut bytes = Vec::new();
    loop {
        match read_u8(stream)? {
            0 => return Ok(String::from_utf8_lossy(&bytes).into_owned()),
            b => bytes.push(b),
        }
    }
}

/// Reads until the client closes, then tells.
fn until_closed(mut stream: TcpStream, closed: &Sender<()>) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
    }
    let _ = closed.send(());
}

fn serve(
    mut client: TcpStream,
    behaviour: Behaviour,
    asked: &Mutex<Vec<Asked>>,
    closed: &Sender<()>,
) -> io::Result<()> {
    let _ = client.set_nodelay(true);
    let version = read_u8(&mut client)?;
    if behaviour == Behaviour::SilentGreeting {
        until_closed(client, closed);
        return Ok(());
    }
    let (request, version) = match version {
        5 => {
            let methods = read_u8(&mut client)?;
            let mut offered = vec![0u8; usize::from(methods)];
            client.read_exact(&mut offered)?;
            if let Behaviour::Password(user, password) = behaviour {
                if !offered.contains(&2) {
                    return client.write_all(&[5, 0xff]);
                }
                client.write_all(&[5, 2])?;
                assert_eq!(read_u8(&mut client)?, 1, "RFC 1929 version");
                let mut given = [Vec::new(), Vec::new()];
                for field in &mut given {
                    field.resize(usize::from(read_u8(&mut client)?), 0);
                    client.read_exact(field)?;
                }
                let [given_user, given_password] =
                    given.map(|f| String::from_utf8_lossy(&f).into_owned());
                let right = (given_user.as_str(), given_password.as_str()) == (user, password);
                asked.lock().push(Asked::Login(given_user, given_password));
                client.write_all(&[1, if right { 0 } else { 1 }])?;
                if !right {
                    return Ok(());
                }
            } else if !offered.contains(&0) || behaviour == Behaviour::WantsPassword {
                return client.write_all(&[5, 0xff]);
            } else {
                client.write_all(&[5, 0])?;
            }
            let mut head = [0u8; 4];
            client.read_exact(&mut head)?;
            assert_eq!(head[..3], [5, 1, 0], "a SOCKS5 CONNECT");
            let asked = match head[3] {
                1 => {
                    let mut ip = [0u8; 4];
                    client.read_exact(&mut ip)?;
                    let port = read_port(&mut client)?;
                    Asked::Address(5, SocketAddr::from((Ipv4Addr::from(ip), port)))
                }
                3 => {
                    let mut name = vec![0u8; usize::from(read_u8(&mut client)?)];
                    client.read_exact(&mut name)?;
                    let port = read_port(&mut client)?;
                    Asked::Name(5, String::from_utf8_lossy(&name).into_owned(), port)
                }
                4 => {
                    let mut ip = [0u8; 16];
                    client.read_exact(&mut ip)?;
                    let port = read_port(&mut client)?;
                    Asked::Address(5, SocketAddr::from((Ipv6Addr::from(ip), port)))
                }
                other => panic!("SOCKS5 address type {other}"),
            };
            (asked, 5)
        }
        4 => {
            let command = read_u8(&mut client)?;
            assert_eq!(command, 1, "a SOCKS4 CONNECT");
            let port = read_port(&mut client)?;
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip)?;
            let _user = read_zero_ended(&mut client)?;
            // 0.0.0.x (x not 0): SOCKS4a, the name follows.
            let asked = if ip[..3] == [0, 0, 0] && ip[3] != 0 {
                Asked::Name(4, read_zero_ended(&mut client)?, port)
            } else {
                Asked::Address(4, SocketAddr::from((Ipv4Addr::from(ip), port)))
            };
            (asked, 4)
        }
        other => panic!("SOCKS version {other}"),
    };
    asked.lock().push(request.clone());
    let target = match &request {
        Asked::Address(_, addr) => *addr,
        Asked::Name(_, _, port) => SocketAddr::from((Ipv4Addr::LOCALHOST, *port)),
        Asked::Login(..) => unreachable!("a login is not a CONNECT"),
    };
    let success: &[u8] =
        if version == 5 { &[5, 0, 0, 1, 0, 0, 0, 0, 0, 0] } else { &[0, 90, 0, 0, 0, 0, 0, 0] };
    let refused: &[u8] =
        if version == 5 { &[5, 5, 0, 1, 0, 0, 0, 0, 0, 0] } else { &[0, 91, 0, 0, 0, 0, 0, 0] };
    match behaviour {
        Behaviour::Refuse => client.write_all(refused),
        Behaviour::SilentAfterConnect => {
            client.write_all(success)?;
            until_closed(client, closed);
            Ok(())
        }
        Behaviour::Relay
        | Behaviour::SilentGreeting
        | Behaviour::WantsPassword
        | Behaviour::Password(..) => {
            let Ok(server) = TcpStream::connect(target) else {
                return client.write_all(refused);
            };
            client.write_all(success)?;
            relay(client, server)
        }
    }
}

/// Copies bytes both ways until each side has ended its half.
fn relay(client: TcpStream, server: TcpStream) -> io::Result<()> {
    let (mut client_in, mut server_out) = (client.try_clone()?, server.try_clone()?);
    let upstream = thread::spawn(move || {
        let _ = io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    });
    let (mut server_in, mut client_out) = (server, client);
    let _ = io::copy(&mut server_in, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Write);
    let _ = upstream.join();
    Ok(())
}

/// A job for `url` (one file into `dir`) through `proxy_list` (the `Override` usage).
fn job_through(dir: &std::path::Path, url: &str, proxy_list: &str) -> (Manager, Job) {
    let (manager, job) = job_for(dir, url);
    job.set_proxy_settings(BgJobProxyUsage::Override, Some(proxy_list), None).unwrap();
    (manager, job)
}

#[test]
fn a_socks5_proxy_carries_the_download_byte_for_byte() {
    let data = Rng::new(61).bytes(300_000);
    let origin = Resource::new(data.clone(), "s5").serve();
    let socks = Socks::start(Behaviour::Relay);
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_through(dir.path(), &origin.url("/f"), &socks.entry("socks5"));
    let results = attempts(&transport(), &job, 1);
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(completed_content(&job), data);
    let at = SocketAddr::from((Ipv4Addr::LOCALHOST, origin.port()));
    assert_eq!(socks.asked(), vec![Asked::Address(5, at)], "asked for the address");
    let requests = origin.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!((requests[0].target.as_str(), &requests[0].tunnel), ("/f", &None));
}

#[test]
fn socks5h_leaves_the_name_to_the_proxy() {
    let data = Rng::new(62).bytes(70_000);
    let origin = Resource::new(data.clone(), "s5h").serve();
    let socks = Socks::start(Behaviour::Relay);
    let dir = tempfile::tempdir().unwrap();
    // A name only the proxy knows: looked up here it would fail.
    let url = format!("http://origin.socks.test:{}/f", origin.port());
    let (_m, job) = job_through(dir.path(), &url, &socks.entry("socks5h"));
    let results = attempts(&transport(), &job, 1);
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(completed_content(&job), data);
    assert_eq!(socks.asked(), vec![Asked::Name(5, "origin.socks.test".into(), origin.port())]);
    assert_eq!(
        origin.requests()[0].header("host"),
        Some(format!("origin.socks.test:{}", origin.port()).as_str())
    );
}

#[test]
fn socks4_and_socks4a_proxies_carry_the_download() {
    let data = Rng::new(63).bytes(50_000);
    let origin = Resource::new(data.clone(), "s4").serve();
    let socks = Socks::start(Behaviour::Relay);
    let by_address = origin.url("/f");
    let by_name = format!("http://origin.socks.test:{}/f", origin.port());
    for (scheme, url) in [("socks4", &by_address), ("socks4a", &by_name)] {
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = job_through(dir.path(), url, &socks.entry(scheme));
        let results = attempts(&transport(), &job, 1);
        assert!(results[0].is_ok(), "{scheme}: {results:?}");
        assert_eq!(completed_content(&job), data, "{scheme}");
    }
    let at = SocketAddr::from((Ipv4Addr::LOCALHOST, origin.port()));
    assert_eq!(
        socks.asked(),
        vec![Asked::Address(4, at), Asked::Name(4, "origin.socks.test".into(), origin.port())]
    );
}

#[test]
fn a_socks_proxy_that_cannot_reach_the_server_is_a_transient_connect_failure() {
    for scheme in ["socks5", "socks4"] {
        let socks = Socks::start(Behaviour::Refuse);
        let dir = tempfile::tempdir().unwrap();
        let (_m, job) = job_through(dir.path(), "http://127.0.0.1:9/f", &socks.entry(scheme));
        let error = attempt(&transport(), &job).unwrap_err();
        assert!(error.is_transient(), "{scheme}: {error:?}");
        assert_eq!(error.hresult(), hresult::BG_E_CONNECT_FAILURE, "{scheme}: {error:?}");
        assert_eq!(job.get_state(), BgJobState::TransientError);
    }
}

#[test]
fn a_refusing_socks_proxy_gives_way_to_the_next_proxy_of_the_list() {
    let data = Rng::new(65).bytes(20_000);
    let origin = Resource::new(data.clone(), "next").serve();
    let refusing = Socks::start(Behaviour::Refuse);
    let relaying = Socks::start(Behaviour::Relay);
    let list = format!("{} {}", refusing.entry("socks5"), relaying.entry("socks5"));
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_through(dir.path(), &origin.url("/f"), &list);
    let results = attempts(&transport(), &job, 1);
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(completed_content(&job), data);
    assert_eq!((refusing.asked().len(), relaying.asked().len()), (1, 1));
}

#[test]
fn a_socks_proxy_that_wants_credentials_the_job_lacks_is_a_fatal_407() {
    let socks = Socks::start(Behaviour::WantsPassword);
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_through(dir.path(), "http://127.0.0.1:9/f", &socks.entry("socks5"));
    let error = attempt(&transport(), &job).unwrap_err();
    assert!(!error.is_transient(), "{error:?}");
    assert_eq!(error.hresult(), 0x8019_0197, "{error:?}");
    assert_eq!(job.get_state(), BgJobState::Error);
}

#[test]
fn a_socks5_proxy_is_given_the_jobs_proxy_credentials_and_a_refusal_is_a_fatal_407() {
    // Characters a URL's user information must escape: the credentials reach the proxy as set.
    const PASSWORD: &str = "p@ss:w%rd/#1";
    let data = Rng::new(67).bytes(10_000);
    let origin = Resource::new(data.clone(), "pw").serve();
    let socks = Socks::start(Behaviour::Password("ada", PASSWORD));
    let credentials = |password: &str| BgAuthCredentials {
        target: BgAuthTarget::Proxy,
        scheme: BgAuthScheme::Basic,
        user_name: "ada".to_owned(),
        password: password.to_owned(),
    };
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_through(dir.path(), &origin.url("/f"), &socks.entry("socks5"));
    job.set_credentials(&credentials(PASSWORD)).unwrap();
    let results = attempts(&transport(), &job, 1);
    assert!(results[0].is_ok(), "{results:?}");
    assert_eq!(completed_content(&job), data);
    let at = SocketAddr::from((Ipv4Addr::LOCALHOST, origin.port()));
    assert_eq!(
        socks.asked(),
        vec![Asked::Login("ada".into(), PASSWORD.into()), Asked::Address(5, at)]
    );

    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_through(dir.path(), &origin.url("/f"), &socks.entry("socks5"));
    job.set_credentials(&credentials("wrong-pw-7f3a")).unwrap();
    let error = attempt(&transport(), &job).unwrap_err();
    assert_eq!((error.hresult(), error.is_transient()), (0x8019_0197, false), "{error:?}");
    assert!(!format!("{error} {error:?}").contains("wrong-pw-7f3a"), "{error:?}");
}

#[test]
fn a_port_that_does_not_speak_socks_is_a_transient_connect_failure_that_says_so() {
    // Something else named as a SOCKS proxy: it answers the greeting with an HTTP error.
    let not_socks = TcpListener::bind("127.0.0.1:0").unwrap();
    let entry = format!("socks5://{}", not_socks.local_addr().unwrap());
    thread::spawn(move || {
        for stream in not_socks.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
            until_closed(stream, &channel().0);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    for url in ["http://127.0.0.1:9/f", "https://127.0.0.1:9/f"] {
        let (_m, job) = job_through(dir.path(), url, &entry);
        let error = attempt(&transport(), &job).unwrap_err();
        assert!(error.is_transient(), "{url}: {error:?}");
        assert_eq!(error.hresult(), hresult::BG_E_CONNECT_FAILURE, "{url}: {error:?}");
        let TransferError::Failed { message, .. } = &error else { panic!("{error:?}") };
        assert!(message.contains("SOCKS"), "{url}: {message}");
    }
}

#[test]
fn a_socks4_proxy_cannot_be_asked_for_an_ipv6_address_a_fatal_invalid_proxy_info() {
    let socks = Socks::start(Behaviour::Relay);
    let dir = tempfile::tempdir().unwrap();
    let (_m, job) = job_through(dir.path(), "http://[::1]:9/f", &socks.entry("socks4"));
    let error = attempt(&transport(), &job).unwrap_err();
    assert!(!error.is_transient(), "{error:?}");
    assert_eq!(error.hresult(), hresult::BG_E_INVALID_PROXY_INFO, "{error:?}");
    assert_eq!(socks.asked(), vec![]);
}

#[test]
fn https_goes_through_a_socks_proxy_and_an_untrusted_certificate_is_still_a_certificate_error() {
    // The TLS handshake runs with the server through the proxy's connection: the server's
    // self-signed certificate is refused as it is on a direct connection.
    let server = tls::SelfSigned::start();
    let socks = Socks::start(Behaviour::Relay);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("https://localhost:{}/f", server.port);
    let (_m, job) = job_through(dir.path(), &url, &socks.entry("socks5h"));
    let error = attempt(&transport(), &job).unwrap_err();
    assert!(!error.is_transient(), "{error:?}");
    assert_eq!(error.hresult(), hresult::DO_E_HTTP_CERT_VALIDATION, "{error:?}");
    let TransferError::Failed { message, .. } = &error else { panic!("{error:?}") };
    assert!(message.starts_with("the server's certificate is not trusted: "), "{message}");
    assert_eq!(socks.asked(), vec![Asked::Name(5, "localhost".into(), server.port)]);
}

/// A manager with one worker and the HTTP transport, whose timeouts are an hour.
fn one_worker() -> Manager {
    Manager::builder()
        .workers(1)
        .transport(Arc::new(HttpTransport::new().with_timeouts(AN_HOUR, AN_HOUR)))
        .build()
}

fn engine_job(manager: &Manager, dir: &std::path::Path, name: &str, url: &str) -> Job {
    let job = manager.create_job(name, BgJobType::Download).unwrap();
    job.set_proxy_settings(BgJobProxyUsage::NoProxy, None, None).unwrap();
    job.set_http_timeouts(Some(AN_HOUR), Some(AN_HOUR)).unwrap();
    job.add_file(url, &dir.join(name)).unwrap();
    job
}

/// The one worker is free: a direct job on a good server transfers.
fn assert_worker_free(manager: &Manager, dir: &std::path::Path) {
    let data = Rng::new(66).bytes(10_000);
    let good = Resource::new(data.clone(), "g").serve();
    let next = engine_job(manager, dir, "next", &good.url("/g"));
    next.resume().unwrap();
    assert_eq!(next.wait(PATIENCE), BgJobState::Transferred, "{:?}", next.get_error());
    next.complete().unwrap();
    assert_eq!(std::fs::read(dir.join("next")).unwrap(), data);
}

#[test]
fn suspend_while_the_head_is_awaited_through_a_socks_proxy_closes_the_connection() {
    // The proxy connects (it says) and then nothing comes: the wait for the response head is
    // on the SOCKS connection, wrapped as a direct one is, so the stop ends it and closes it.
    let socks = Socks::start(Behaviour::SilentAfterConnect);
    let dir = tempfile::tempdir().unwrap();
    let manager = one_worker();
    let first = engine_job(&manager, dir.path(), "a", "http://origin.socks.test/f");
    first
        .set_proxy_settings(BgJobProxyUsage::Override, Some(&socks.entry("socks5h")), None)
        .unwrap();
    first.resume().unwrap();
    socks.wait_accepted();
    first.suspend().unwrap();
    socks.wait_closed();
    assert_eq!(socks.asked(), vec![Asked::Name(5, "origin.socks.test".into(), 80)]);
    assert_worker_free(&manager, dir.path());
    assert_eq!(first.get_state(), BgJobState::Suspended);
}

#[test]
fn cancel_while_a_socks_proxy_does_not_answer_the_greeting_frees_the_worker() {
    // The SOCKS handshake is part of making the connection (as a TLS handshake is): it is bound
    // by the connect timeout (an hour here), and a stop frees the worker all the same.
    let socks = Socks::start(Behaviour::SilentGreeting);
    let dir = tempfile::tempdir().unwrap();
    let manager = one_worker();
    let first = engine_job(&manager, dir.path(), "a", "http://origin.socks.test/f");
    first
        .set_proxy_settings(BgJobProxyUsage::Override, Some(&socks.entry("socks5h")), None)
        .unwrap();
    first.resume().unwrap();
    socks.wait_accepted();
    first.cancel().unwrap();
    assert_worker_free(&manager, dir.path());
}
