//! # Simple usage
//!
//! ## Creating the server
//!
//! The easiest way to create a server is to call `Server::http()`.
//!
//! The `http()` function returns an `IoResult<Server>` which will return an error
//! in the case where the server creation fails (for example if the listening port is already
//! occupied).
//!
//! ```no_run
//! let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! ```
//!
//! A newly-created `Server` will immediately start listening for incoming connections and HTTP
//! requests.
//!
//! ## Receiving requests
//!
//! Calling `server.recv()` will block until the next request is available.
//! This function returns an `IoResult<Request>`, so you need to handle the possible errors.
//!
//! ```no_run
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//!
//! loop {
//!     // blocks until the next request is received
//!     let request = match server.recv() {
//!         Ok(rq) => rq,
//!         Err(e) => { println!("error: {}", e); break }
//!     };
//!
//!     // do something with the request
//!     // ...
//! }
//! ```
//!
//! In a real-case scenario, you will probably want to spawn multiple worker tasks and call
//! `server.recv()` on all of them. Like this:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use std::thread;
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! let server = Arc::new(server);
//! let mut guards = Vec::with_capacity(4);
//!
//! for _ in (0 .. 4) {
//!     let server = server.clone();
//!
//!     let guard = thread::spawn(move || {
//!         loop {
//!             let rq = server.recv().unwrap();
//!
//!             // ...
//!         }
//!     });
//!
//!     guards.push(guard);
//! }
//! ```
//!
//! If you don't want to block, you can call `server.try_recv()` instead.
//!
//! ## Handling requests
//!
//! The `Request` object returned by `server.recv()` contains informations about the client's request.
//! The most useful methods are probably `request.method()` and `request.url()` which return
//! the requested method (`GET`, `POST`, etc.) and url.
//!
//! To handle a request, you need to create a `Response` object. See the docs of this object for
//! more infos. Here is an example of creating a `Response` from a file:
//!
//! ```no_run
//! # use std::fs::File;
//! # use std::path::Path;
//! let response = tiny_http::Response::from_file(File::open(&Path::new("image.png")).unwrap());
//! ```
//!
//! All that remains to do is call `request.respond()`:
//!
//! ```no_run
//! # use std::fs::File;
//! # use std::path::Path;
//! # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
//! # let request = server.recv().unwrap();
//! # let response = tiny_http::Response::from_file(File::open(&Path::new("image.png")).unwrap());
//! let _ = request.respond(response);
//! ```
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]
#![allow(clippy::match_like_matches_macro)]

#[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
use zeroize::Zeroizing;

use std::error::Error;
use std::io::Error as IoError;
use std::io::ErrorKind as IoErrorKind;
use std::io::Result as IoResult;
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use client::ClientConnection;
use connection::Connection;
use util::MessagesQueue;

pub use common::{HTTPVersion, Header, HeaderField, Method, StatusCode};
pub use connection::{ConfigListenAddr, ListenAddr, Listener};
pub use request::{ReadWrite, Request};
pub use response::{Response, ResponseBox};
pub use test::TestRequest;

mod client;
mod common;
mod connection;
/// Fuzzing the request head (shopbot patch 16); not part of the API.
#[cfg(unix)]
#[doc(hidden)]
pub mod fuzz;
mod request;
mod response;
mod ssl;
mod test;
mod util;

/// The main class of this library.
///
/// Destroying this object will immediately close the listening socket and the reading
///  part of all the client's connections. Requests that have already been returned by
///  the `recv()` function will not close and the responses will be transferred to the client.
pub struct Server {
    // should be false as long as the server exists
    // when set to true, all the subtasks will close within a few hundreds ms
    close: Arc<AtomicBool>,

    // queue for messages received by child threads
    messages: Arc<MessagesQueue<Message>>,

    // result of TcpListener::local_addr()
    listening_addr: ListenAddr,
}

enum Message {
    Error(IoError),
    NewRequest(Request),
}

impl From<IoError> for Message {
    fn from(e: IoError) -> Message {
        Message::Error(e)
    }
}

impl From<Request> for Message {
    fn from(rq: Request) -> Message {
        Message::NewRequest(rq)
    }
}

// this trait is to make sure that Server implements Share and Send
#[doc(hidden)]
#[allow(dead_code)]
trait MustBeShareDummy: Sync + Send {}
#[doc(hidden)]
impl MustBeShareDummy for Server {}

pub struct IncomingRequests<'a> {
    server: &'a Server,
}

/// Represents the parameters required to create a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The addresses to try to listen to.
    pub addr: ConfigListenAddr,

    /// If `Some`, then the server will use SSL to encode the communications.
    pub ssl: Option<SslConfig>,
}

/// What a client may cost the server: limits applied to every connection.
///
/// `Limits::default()` sets none, which is tiny_http's behaviour without them
/// (and that of [`Server::from_listener`]). (shopbot patch.)
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Longest wait for one read from the client (`None`: forever; #143).
    pub read_timeout: Option<Duration>,
    /// Longest wait for one write to the client (`None`: forever; #143).
    pub write_timeout: Option<Duration>,
    /// Longest time from when a connection starts waiting for a request until
    /// the request line, the headers and a body read by the connection (see
    /// `buffer_body_up_to`) have all arrived; the body a handler reads itself
    /// stays under the same deadline. A client that sends one byte now and
    /// then defeats `read_timeout`, not this. Past it, a partly received
    /// request is answered `408` and an idle connection is closed.
    pub request_timeout: Option<Duration>,
    /// Longest request line or header line, in bytes; over it: `414` for the
    /// request line, `431` for a header (#56).
    pub max_header_line: Option<usize>,
    /// Largest request head (request line and headers), in bytes; over it: `431`.
    pub max_header_bytes: Option<usize>,
    /// Most header lines in one request; over it: `431`.
    pub max_headers: Option<usize>,
    /// With `Some(n)`, the connection's own thread reads a body of at most `n`
    /// bytes (a `Content-Length` up to `n`, or chunks adding up to at most `n`)
    /// before the request reaches `recv()`, so a slow body never holds the
    /// threads calling `recv()`. A larger body is left unread for the handler
    /// (which may answer `413` without reading it), and the connection closes
    /// after the response. `None`: bodies up to 1024 bytes are read first,
    /// larger ones as the handler reads them.
    pub buffer_body_up_to: Option<usize>,
    /// Most connections open at once (each has a thread); one more is answered
    /// `503 Service Unavailable` with `Retry-After: 1` and closed at once.
    /// `None`: no limit.
    pub max_connections: Option<usize>,
    /// Most requests of one connection handed over by `recv()` and not yet
    /// answered (responded to, or dropped); the connection reads no further
    /// request until one is. `Some(1)`: a connection never holds more than
    /// one of the threads calling `recv()` (a later request's response waits
    /// for the earlier ones', so each would hold a thread), and what a client
    /// pipelines stays in its socket, not in memory. `None`: as many as the
    /// client sends (HTTPS connections always take turns, one at a time).
    pub max_requests_in_flight: Option<usize>,
    /// Longest time to write one response, from its first write until it is
    /// flushed (see `response_min_rate`). Past it, or after any failed write,
    /// the connection is closed, so a client that does not read its answers
    /// holds a thread no longer than this. `write_timeout` still bounds each
    /// single write. `None`: no deadline.
    pub response_timeout: Option<Duration>,
    /// With `response_timeout`: each byte the client takes extends the
    /// deadline by `1 / response_min_rate` seconds, so a large response to a
    /// slow but reading client is not cut off, while one that reads nothing
    /// is, at `response_timeout`.
    pub response_min_rate: Option<u64>,
}

impl Limits {
    fn response_limits(&self) -> util::ResponseLimits {
        util::ResponseLimits {
            timeout: self.response_timeout,
            min_rate: self.response_min_rate,
            per_write: self.write_timeout,
        }
    }
}

/// Configuration of the server for SSL.
#[derive(Debug, Clone)]
pub struct SslConfig {
    /// Contains the public certificate to send to clients.
    pub certificate: Vec<u8>,
    /// Contains the ultra-secret private key used to decode communications.
    pub private_key: Vec<u8>,
}

impl Server {
    /// Shortcut for a simple server on a specific address.
    #[inline]
    pub fn http<A>(addr: A) -> Result<Server, Box<dyn Error + Send + Sync + 'static>>
    where
        A: ToSocketAddrs,
    {
        Server::new(ServerConfig {
            addr: ConfigListenAddr::from_socket_addrs(addr)?,
            ssl: None,
        })
    }

    /// Shortcut for an HTTPS server on a specific address.
    #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
    #[inline]
    pub fn https<A>(
        addr: A,
        config: SslConfig,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>>
    where
        A: ToSocketAddrs,
    {
        Server::new(ServerConfig {
            addr: ConfigListenAddr::from_socket_addrs(addr)?,
            ssl: Some(config),
        })
    }

    #[cfg(unix)]
    #[inline]
    /// Shortcut for a UNIX socket server at a specific path
    pub fn http_unix(
        path: &std::path::Path,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Server::new(ServerConfig {
            addr: ConfigListenAddr::unix_from_path(path),
            ssl: None,
        })
    }

    /// Builds a new server that listens on the specified address.
    pub fn new(config: ServerConfig) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        let listener = config.addr.bind()?;
        Self::from_listener(listener, config.ssl)
    }

    /// Builds a new server using the specified TCP listener.
    ///
    /// This is useful if you've constructed TcpListener using some less usual method
    /// such as from systemd. For other cases, you probably want the `new()` function.
    pub fn from_listener<L: Into<Listener>>(
        listener: L,
        ssl_config: Option<SslConfig>,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        Self::from_listener_with_limits(listener, ssl_config, Limits::default())
    }

    /// Builds a new server using the specified TCP listener, applying `limits`
    /// to every connection, so that a client that sends slowly, sends too much
    /// or stops reading cannot hold a thread or a request for long, and a
    /// crowd of clients cannot start unbounded threads.
    ///
    /// (shopbot patch; tiny-http issues #143, #56.)
    pub fn from_listener_with_limits<L: Into<Listener>>(
        listener: L,
        ssl_config: Option<SslConfig>,
        limits: Limits,
    ) -> Result<Server, Box<dyn Error + Send + Sync + 'static>> {
        let listener = listener.into();
        // building the "close" variable
        let close_trigger = Arc::new(AtomicBool::new(false));

        // building the TcpListener
        let (server, local_addr) = {
            let local_addr = listener.local_addr()?;
            log::debug!("Server listening on {}", local_addr);
            (listener, local_addr)
        };

        // building the SSL capabilities
        #[cfg(all(feature = "ssl-openssl", feature = "ssl-rustls"))]
        compile_error!(
            "Features 'ssl-openssl' and 'ssl-rustls' must not be enabled at the same time"
        );
        #[cfg(not(any(feature = "ssl-openssl", feature = "ssl-rustls")))]
        type SslContext = ();
        #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
        type SslContext = crate::ssl::SslContextImpl;
        let ssl: Option<SslContext> = {
            match ssl_config {
                #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
                Some(config) => Some(SslContext::from_pem(
                    config.certificate,
                    Zeroizing::new(config.private_key),
                )?),
                #[cfg(not(any(feature = "ssl-openssl", feature = "ssl-rustls")))]
                Some(_) => return Err(
                    "Building a server with SSL requires enabling the `ssl` feature in tiny-http"
                        .into(),
                ),
                None => None,
            }
        };

        // creating a task where server.accept() is continuously called
        // and ClientConnection objects are pushed in the messages queue
        let messages = MessagesQueue::with_capacity(8);

        let inside_close_trigger = close_trigger.clone();
        let inside_messages = messages.clone();
        thread::spawn(move || {
            // a tasks pool is used to dispatch the connections into threads
            let tasks_pool = util::TaskPool::new();
            let open_connections = Arc::new(AtomicUsize::new(0));
            let (mut refusals, mut accept_errors) =
                (util::LogThrottle::default(), util::LogThrottle::default());

            log::debug!("Running accept thread");
            while !inside_close_trigger.load(Relaxed) {
                let new_client = match server.accept() {
                    Ok((sock, _)) => {
                        let full = limits
                            .max_connections
                            .filter(|max| open_connections.load(SeqCst) >= *max);
                        if let Some(max) = full {
                            if let Some(n) = refusals.count() {
                                log::warn!("{} connections open, the limit: answered 503 to {} more since the last report", max, n);
                            }
                            if ssl.is_none() {
                                util::refuse_connection(sock);
                            }
                            continue;
                        }
                        if let Err(e) = sock.set_timeouts(limits.read_timeout, limits.write_timeout)
                        {
                            log::warn!("Cannot set socket timeouts: {}", e);
                        }
                        if let Err(e) = sock.set_nodelay() {
                            log::warn!("Cannot set TCP_NODELAY: {}", e);
                        }
                        use util::RefinedTcpStream;
                        let streams = match ssl {
                            None => RefinedTcpStream::new(sock),
                            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
                            Some(ref ssl) => {
                                // trying to apply SSL over the connection
                                // if an error occurs, we just close the socket and resume listening
                                let sock = match ssl.accept(sock) {
                                    Ok(s) => s,
                                    Err(_) => continue,
                                };

                                RefinedTcpStream::new(sock)
                            }
                            #[cfg(not(any(feature = "ssl-openssl", feature = "ssl-rustls")))]
                            Some(ref _ssl) => unreachable!(),
                        };

                        streams.map(|(read_closable, write_closable)| {
                            ClientConnection::new(write_closable, read_closable, limits)
                        })
                    }
                    Err(e) => Err(e),
                };

                match new_client {
                    Ok(client) => {
                        let messages = inside_messages.clone();
                        let mut client = Some(client);
                        let mut slot = Some(util::ConnectionSlot::take(&open_connections));
                        let close = inside_close_trigger.clone();
                        tasks_pool.spawn(Box::new(move || {
                            let _slot = slot.take();
                            if let Some(client) = client.take() {
                                // Synchronization is needed for HTTPS requests to avoid a deadlock
                                let in_flight = match client.secure() {
                                    true => Some(1),
                                    false => limits.max_requests_in_flight,
                                };
                                match in_flight {
                                    Some(max) => hand_over_in_turn(client, &messages, max, &close),
                                    None => {
                                        for rq in client {
                                            messages.push(rq.into());
                                        }
                                    }
                                }
                            }
                        }));
                    }

                    Err(e) => {
                        // An accept error concerns one connection or a passing
                        // shortage (EMFILE, ENFILE, ENOBUFS, ECONNABORTED): log it,
                        // back off briefly and keep serving instead of ending the
                        // accept loop for good (shopbot patch; tiny-http #283).
                        if let Some(n) = accept_errors.count() {
                            log::error!(
                                "Error accepting new client: {} ({} since the last report)",
                                e,
                                n
                            );
                        }
                        thread::sleep(Duration::from_millis(50));
                    }
                }
            }
            log::debug!("Terminating accept thread");
        });

        // result
        Ok(Server {
            messages,
            close: close_trigger,
            listening_addr: local_addr,
        })
    }

    /// Returns an iterator for all the incoming requests.
    ///
    /// The iterator will return `None` if the server socket is shutdown.
    #[inline]
    pub fn incoming_requests(&self) -> IncomingRequests<'_> {
        IncomingRequests { server: self }
    }

    /// Returns the address the server is listening to.
    #[inline]
    pub fn server_addr(&self) -> ListenAddr {
        self.listening_addr.clone()
    }

    /// Returns the number of clients currently connected to the server.
    pub fn num_connections(&self) -> usize {
        unimplemented!()
        //self.requests_receiver.lock().len()
    }

    /// Blocks until an HTTP request has been submitted and returns it.
    pub fn recv(&self) -> IoResult<Request> {
        match self.messages.pop() {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(rq),
            None => Err(IoError::new(IoErrorKind::Other, "thread unblocked")),
        }
    }

    /// Same as `recv()` but doesn't block longer than timeout
    pub fn recv_timeout(&self, timeout: Duration) -> IoResult<Option<Request>> {
        match self.messages.pop_timeout(timeout) {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(Some(rq)),
            None => Ok(None),
        }
    }

    /// Same as `recv()` but doesn't block.
    pub fn try_recv(&self) -> IoResult<Option<Request>> {
        match self.messages.try_pop() {
            Some(Message::Error(err)) => Err(err),
            Some(Message::NewRequest(rq)) => Ok(Some(rq)),
            None => Ok(None),
        }
    }

    /// Unblock thread stuck in recv() or incoming_requests().
    /// If there are several such threads, only one is unblocked.
    /// This method allows graceful shutdown of server.
    pub fn unblock(&self) {
        self.messages.unblock();
    }
}

/// Hands the requests of `client` over, at most `max` at a time not yet
/// answered: the next one is read only once an earlier one is answered
/// (shopbot patch; see `Limits::max_requests_in_flight`). With one at a
/// time, an answer may come back here to be written
/// (`Request::respond_on_connection`, shopbot patch 24). Returns when the
/// connection has no more requests, or when the server closes.
fn hand_over_in_turn(
    mut client: ClientConnection,
    messages: &MessagesQueue<Message>,
    max: usize,
    close: &AtomicBool,
) {
    let max = max.max(1);
    // Each request sends one handback, and at most `max` are unanswered:
    // the channel's slots are allocated once, and a send never waits.
    let (sender, answered) = mpsc::sync_channel(max);
    let mut in_flight = 0usize;
    loop {
        while let Ok(handback) = answered.try_recv() {
            settle(handback);
            in_flight = in_flight.saturating_sub(1);
        }
        while in_flight >= max {
            match answered.recv_timeout(Duration::from_millis(500)) {
                Ok(handback) => {
                    settle(handback);
                    in_flight -= 1;
                }
                // the server is gone: nobody will answer
                Err(_) if close.load(Relaxed) => return,
                Err(_) => (),
            }
        }
        match client.next() {
            Some(rq) => {
                let connection = request::Connection::new(sender.clone(), max == 1);
                messages.push(rq.with_notify_sender(connection).into())
            }
            None => return,
        }
        in_flight += 1;
    }
}

/// Writes an answer handed back to the connection's thread (its request is
/// answered either way).
fn settle(handback: request::Handback) {
    if let request::Handback::Write(request, response) = handback {
        // The request no longer has the way back: `respond` sends nothing here.
        request.respond(response).ok();
    }
}

impl Iterator for IncomingRequests<'_> {
    type Item = Request;
    fn next(&mut self) -> Option<Request> {
        self.server.recv().ok()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.close.store(true, Relaxed);
        // Connect briefly to ourselves to unblock the accept thread
        let maybe_stream = match &self.listening_addr {
            ListenAddr::IP(addr) => TcpStream::connect(addr).map(Connection::from),
            #[cfg(unix)]
            ListenAddr::Unix(addr) => {
                // TODO: use connect_addr when its stabilized.
                let path = addr.as_pathname().unwrap();
                std::os::unix::net::UnixStream::connect(path).map(Connection::from)
            }
        };
        if let Ok(stream) = maybe_stream {
            let _ = stream.shutdown(Shutdown::Both);
        }

        #[cfg(unix)]
        if let ListenAddr::Unix(addr) = &self.listening_addr {
            if let Some(path) = addr.as_pathname() {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}
