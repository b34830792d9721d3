//! The HTTP server: tiny_http with a fixed pool of worker threads.
//!
//! This is the one adapter between tiny_http and the handlers: a worker copies
//! each request into an owned [`Request`] (reading the body under a size limit),
//! runs the handler under `catch_unwind` (a panic becomes a `500` and a log line,
//! never a dead worker), and writes the [`Response`], or hands the connection
//! to whoever answers it later ([`Response::later`], [`answer`]: the writer
//! renders a webhook's answer after its commit, and the connection's own
//! thread writes it); one log line per request.
//! `HEAD` is answered here, for every route, as `GET` without the body.
//! Handlers are plain functions of a [`Request`], testable without sockets.
//!
//! What a client may cost is bounded inside tiny_http (see [`Settings`] and
//! `vendor/tiny_http/SHOPBOT-PATCHES.md`): a deadline for each request's head and
//! body, caps on header size and on open connections, and bodies read by the
//! connection's own thread, so a slow client never holds a worker; one request
//! of a connection at a time with the workers (the next is read once it is
//! answered, so pipelining costs no memory), and a deadline for writing each
//! answer, so a client that does not read its answers holds at most one worker,
//! briefly, and is then cut off.

pub mod answer;
pub mod api;
pub mod client_address;
pub mod demo;
pub mod errors;
pub mod inbox;
pub mod meta;
pub mod multipart;
pub mod router;
pub mod routes;
pub mod twilio;
pub mod webhooks;

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub use answer::{Answer, Later};
pub use tiny_http::Method;

/// The largest request body accepted (webhooks are a few KiB).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The largest orders spreadsheet the inbox takes (about 25,000 orders);
/// larger files go through `shopbot orders import` on the server.
pub const MAX_UPLOAD_BYTES: usize = 2 * 1024 * 1024;
/// How long a client may stay silent while sending a request or reading a reply.
pub const SOCKET_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest request line or header line (longer: `414` or `431`).
pub const MAX_HEADER_LINE_BYTES: usize = 8 * 1024;
/// The largest request head, request line and headers (larger: `431`).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// The most header lines in one request (more: `431`).
pub const MAX_HEADERS: usize = 100;
/// Bytes per second a client must take a large answer at: each byte it takes
/// gives it that much more time than the request timeout (16 KiB/s: a 5 MB
/// photo for the inbox on a slow phone connection is not cut off).
pub const RESPONSE_MIN_RATE: u64 = 16 * 1024;

/// How the server runs and what one client may cost it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Threads running handlers.
    pub workers: usize,
    /// Connections open at once; one more is answered `503` and closed.
    pub max_connections: usize,
    /// From when a connection waits for a request until its head and body have
    /// arrived; then `408` (or, for an idle connection, closed without a word).
    /// Also the time a client has to take in each answer (plus one second per
    /// [`RESPONSE_MIN_RATE`] bytes of it); then the connection is closed.
    pub request_timeout: Duration,
    /// `POST` paths whose bodies may be larger than [`MAX_BODY_BYTES`], and
    /// how large (the orders upload, Meta's webhook).
    pub large_bodies: Vec<(String, usize)>,
}

impl Settings {
    /// `workers` threads, and the default limits.
    pub fn with_workers(workers: usize) -> Settings {
        Settings {
            workers,
            max_connections: 1024,
            request_timeout: Duration::from_secs(10),
            large_bodies: Vec::new(),
        }
    }

    fn limits(&self) -> tiny_http::Limits {
        tiny_http::Limits {
            read_timeout: Some(SOCKET_TIMEOUT),
            write_timeout: Some(SOCKET_TIMEOUT),
            request_timeout: Some(self.request_timeout),
            max_header_line: Some(MAX_HEADER_LINE_BYTES),
            max_header_bytes: Some(MAX_HEADER_BYTES),
            max_headers: Some(MAX_HEADERS),
            buffer_body_up_to: Some(MAX_BODY_BYTES),
            max_connections: Some(self.max_connections),
            max_requests_in_flight: Some(1),
            response_timeout: Some(self.request_timeout),
            response_min_rate: Some(RESPONSE_MIN_RATE),
        }
    }
}

/// An owned HTTP request.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The request target exactly as received (`/twilio/inbound?x=1`).
    pub target: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
    /// The body (at most [`MAX_BODY_BYTES`]).
    pub body: Vec<u8>,
    /// The client's address (the peer of the connection; forwarded headers
    /// are never trusted).
    pub remote: Option<std::net::IpAddr>,
    /// The request was a `HEAD`: handlers see `GET` (the same answer, whose
    /// body is not sent), and do nothing a `GET` would change (marking read).
    pub head: bool,
}

impl Request {
    /// The path part of the target.
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers_named(name).next()
    }

    /// Every value of the header `name`, in order.
    pub fn headers_named<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.headers
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP response.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers besides `Content-Length`.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Added to the request's log line (e.g. the MessageSid); never sent.
    pub log_note: Option<String>,
    /// Set by [`Response::later`]: who answers instead.
    pub later: Option<Later>,
}

impl Response {
    /// A response with a body of the given content type.
    pub fn with_body(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body: body.into(),
            log_note: None,
            later: None,
        }
    }

    /// `303 See Other` to `location`, its bytes that a header may not carry
    /// (anything not ASCII, controls, spaces) percent-encoded: `/admin/é`
    /// goes out as `/admin/%C3%A9`, never as a dropped header.
    pub fn see_other(location: &str) -> Response {
        const UNSAFE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b' ');
        let location = percent_encoding::utf8_percent_encode(location, UNSAFE).to_string();
        Response::empty(303).header("Location", location)
    }

    /// A response with no body (`204`).
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            log_note: None,
            later: None,
        }
    }

    /// The answer comes later, from another thread: the server hands the
    /// connection to `answer` (see [`Answer`]) instead of writing this
    /// response, whose status (`202`) and empty body are never sent.
    pub fn later(answer: impl FnOnce(Answer) + Send + 'static) -> Response {
        Response {
            later: Some(Later::new(answer)),
            ..Response::empty(202)
        }
    }

    /// A plain-text response (errors for webhook clients).
    pub fn text(status: u16, text: &str) -> Response {
        Response::with_body(status, "text/plain; charset=utf-8", format!("{text}\n"))
    }

    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::with_body(status, "application/json", value.to_string())
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    /// Adds a note to the request's log line.
    pub fn note(mut self, note: impl Into<String>) -> Response {
        self.log_note = Some(note.into());
        self
    }
}

/// What the server calls for every request.
pub type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// A running server.
pub struct HttpServer {
    server: Arc<tiny_http::Server>,
    workers: Vec<JoinHandle<()>>,
    stopping: Arc<AtomicBool>,
    addr: SocketAddr,
}

impl HttpServer {
    /// Serves `handler` on `listener` as `settings` say.
    pub fn start(listener: TcpListener, settings: Settings, handler: Arc<Handler>) -> std::io::Result<HttpServer> {
        let addr = listener.local_addr()?;
        let server = tiny_http::Server::from_listener_with_limits(listener, None, settings.limits())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let server = Arc::new(server);
        let stopping = Arc::new(AtomicBool::new(false));
        let large_bodies = Arc::new(settings.large_bodies.clone());
        let workers = (0..settings.workers.max(1))
            .map(|i| {
                let (server, handler, stopping) = (server.clone(), handler.clone(), stopping.clone());
                let large_bodies = large_bodies.clone();
                thread::Builder::new()
                    .name(format!("http-{i}"))
                    .spawn(move || worker(&server, &*handler, &large_bodies, &stopping))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(HttpServer {
            server,
            workers,
            stopping,
            addr,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops taking requests, lets the workers finish the ones they hold, and waits.
    pub fn shutdown(self) {
        self.stopping.store(true, Ordering::SeqCst);
        for _ in &self.workers {
            self.server.unblock();
        }
        self.join();
    }

    /// Waits for the workers (they run until [`HttpServer::shutdown`]).
    pub fn join(self) {
        for worker in self.workers {
            let _ = worker.join();
        }
    }
}

fn worker(server: &tiny_http::Server, handler: &Handler, large_bodies: &[(String, usize)], stopping: &AtomicBool) {
    while !stopping.load(Ordering::SeqCst) {
        match server.recv() {
            Ok(request) => serve(request, handler, large_bodies),
            Err(e) if !stopping.load(Ordering::SeqCst) => {
                log::warn!(target: "http", "receiving a request failed: {e}");
            }
            Err(_) => break,
        }
    }
}

fn serve(mut raw: tiny_http::Request, handler: &Handler, large_bodies: &[(String, usize)]) {
    let started = Instant::now();
    let limit = body_limit(raw.method(), raw.url(), large_bodies);
    let mut response = match read_request(&mut raw, limit) {
        Ok(mut request) => {
            // HEAD is GET without the body (RFC 9110 §9.3.2), for every route
            // at once: the handlers see GET, and tiny_http sends the head of
            // their answer (its Content-Length included) without the body.
            if request.method == Method::Head {
                request.method = Method::Get;
                request.head = true;
            }
            catch_unwind(AssertUnwindSafe(|| handler(&request))).unwrap_or_else(|_| {
                log::error!(target: "http", "{} {}: the handler panicked", raw.method(), request.path());
                Response::text(500, "internal server error")
            })
        }
        Err(response) => response,
    };
    let answer = Answer::new(raw, started);
    match response.later.take() {
        Some(later) => later.run(answer),
        None => answer.send(response),
    }
}

/// The largest body a request may have: [`MAX_BODY_BYTES`], unless it is a
/// `POST` to one of `large_bodies` (the orders upload, Meta's webhook).
fn body_limit(method: &tiny_http::Method, target: &str, large_bodies: &[(String, usize)]) -> usize {
    let path = target.split('?').next().unwrap_or_default();
    large_bodies
        .iter()
        .find(|(large, _)| *method == tiny_http::Method::Post && large == path)
        .map_or(MAX_BODY_BYTES, |(_, limit)| *limit)
}

/// Copies a tiny_http request into an owned [`Request`], or answers it with an error.
fn read_request(raw: &mut tiny_http::Request, max: usize) -> Result<Request, Response> {
    let declared = raw.body_length();
    // A refused body is never read here (a worker must not wait for it):
    // the connection's thread takes in what is left of it after the answer,
    // so the client reads the `413` (tiny_http patch 15).
    if declared.is_some_and(|n| n > max) {
        return Err(too_large(max));
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(0));
    if let Err(e) = raw.as_reader().take(max as u64 + 1).read_to_end(&mut body) {
        log::info!(target: "http", "reading the body failed: {e}");
        return Err(Response::text(408, "the request body did not arrive in time").header("Connection", "close"));
    }
    if body.len() > max {
        return Err(too_large(max));
    }
    Ok(Request {
        method: raw.method().clone(),
        target: raw.url().to_string(),
        headers: raw
            .headers()
            .iter()
            .map(|h| (h.field.as_str().as_str().to_string(), h.value.as_str().to_string()))
            .collect(),
        body,
        remote: raw.remote_addr().map(|a| a.ip()),
        head: false,
    })
}

fn too_large(max: usize) -> Response {
    Response::text(413, &format!("the request body is larger than {max} bytes")).header("Connection", "close")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn location(response: &Response) -> Option<&str> {
        response
            .headers
            .iter()
            .find(|(name, _)| *name == "Location")
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_location_carries_only_what_a_header_may() {
        assert_eq!(location(&Response::see_other("/admin/é")), Some("/admin/%C3%A9"));
        assert_eq!(
            location(&Response::see_other("/admin/a b\r\n")),
            Some("/admin/a%20b%0D%0A")
        );
        assert_eq!(
            location(&Response::see_other("/admin/conversations/%2B27?page=2")),
            Some("/admin/conversations/%2B27?page=2"),
            "what is already encoded stays"
        );
        let response = Response::see_other("/admin/ü");
        assert_eq!(response.status, 303);
        assert!(tiny_http::Header::from_bytes(&b"Location"[..], location(&response).unwrap().as_bytes()).is_ok());
    }
}
