//! Writing a [`Response`] on its connection, and answers given later.
//!
//! Every request is answered through an [`Answer`]: a worker's handler
//! returns a response and the worker writes it ([`Answer::send`]), or the
//! handler returns [`Response::later`] and the connection goes, as an
//! `Answer`, to whoever answers it (the writer thread, after the commit of
//! a Twilio webhook's batch: one thread wake-up less per request than
//! handing the answer back to the waiting worker; issue 25).
//!
//! Whoever holds an `Answer` from another thread must not wait for the
//! client: [`Answer::send_promptly`] writes a small answer within
//! [`PROMPT`] (tiny_http patch 23), so a client that has stopped reading
//! its answers is cut off at once and never holds the writer; a larger one
//! is written by a thread of its own, under the usual response deadline.
//! An `Answer` dropped unanswered (a bug) answers `500`, promptly.
//!
//! One log line per request is written here, when it is answered.

use std::fmt;
use std::thread;
use std::time::{Duration, Instant};

use super::Response;

/// How long a prompt answer may take to go into the socket.
pub const PROMPT: Duration = Duration::from_millis(20);
/// The largest body written promptly; larger answers get a thread of their
/// own (TwiML replies are a few hundred bytes; a socket's send buffer takes
/// several KiB at once even under memory pressure).
pub const PROMPT_MAX_BYTES: usize = 2 * 1024;

/// What answers a request after its handler has returned (see
/// [`Response::later`]).
pub struct Later(Box<dyn FnOnce(Answer) + Send>);

impl Later {
    /// Wraps `answer`.
    pub fn new(answer: impl FnOnce(Answer) + Send + 'static) -> Later {
        Later(Box::new(answer))
    }

    /// Hands the connection over.
    pub fn run(self, answer: Answer) {
        (self.0)(answer)
    }
}

impl fmt::Debug for Later {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Later(..)")
    }
}

/// A request's connection, waiting for its answer.
pub struct Answer {
    raw: Option<tiny_http::Request>,
    method: tiny_http::Method,
    target: String,
    started: Instant,
}

impl Answer {
    /// The answer to `raw`, which arrived at `started`.
    pub(super) fn new(raw: tiny_http::Request, started: Instant) -> Answer {
        Answer {
            method: raw.method().clone(),
            target: raw.url().to_string(),
            raw: Some(raw),
            started,
        }
    }

    /// The request target, as received.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// Writes `response` under the connection's usual deadline (from a
    /// thread that may wait for the client).
    pub fn send(mut self, response: Response) {
        if let Some(raw) = self.raw.take() {
            self.write(raw, response, None);
        }
    }

    /// Writes `response` from a thread that must not wait for the client:
    /// at once, or, if its body is over [`PROMPT_MAX_BYTES`], from a thread
    /// of its own.
    pub fn send_promptly(mut self, response: Response) {
        let Some(raw) = self.raw.take() else { return };
        if response.body.len() <= PROMPT_MAX_BYTES {
            return self.write(raw, response, Some(PROMPT));
        }
        self.raw = Some(raw);
        let spawned = thread::Builder::new()
            .name("http-answer".into())
            .spawn(move || self.send(response));
        if let Err(e) = spawned {
            // The answer was dropped with the closure: a prompt `500`.
            log::warn!(target: "http", "cannot start a thread for a large answer: {e}");
        }
    }

    fn write(&self, raw: tiny_http::Request, response: Response, prompt: Option<Duration>) {
        let response = allow_head(response);
        self.log(&response);
        let status = response.status;
        let written = match prompt {
            None => raw.respond(tiny_http_response(response)),
            Some(within) => raw.respond_promptly(tiny_http_response(response), within),
        };
        match written {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                log::info!(target: "http", "the client did not take its {status} answer in time; connection closed")
            }
            Err(e) => log::debug!(target: "http", "writing the response failed: {e}"),
        }
    }

    /// The request's log line, put together only when it is logged (not at
    /// `warn`, as a busy shop may run): no allocation for a line nobody reads.
    fn log(&self, response: &Response) {
        if log::log_enabled!(target: "http", log::Level::Info) {
            let path = self.target.split('?').next().unwrap_or_default();
            let note = response
                .log_note
                .as_deref()
                .map(|n| format!(" {n}"))
                .unwrap_or_default();
            let ms = self.started.elapsed().as_secs_f64() * 1e3;
            log::info!(target: "http", "{} {path} {} {ms:.1}ms{note}", self.method, response.status);
        }
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        if let Some(raw) = self.raw.take() {
            log::error!(target: "http", "{} {}: dropped without an answer", self.method, self.target);
            self.write(raw, Response::text(500, "internal server error"), Some(PROMPT));
        }
    }
}

/// A `405`'s `Allow` that names `GET` names `HEAD` too, since every `GET`
/// route answers `HEAD` (see `serve`).
fn allow_head(mut response: Response) -> Response {
    if response.status == 405 {
        for (name, value) in &mut response.headers {
            let methods: Vec<&str> = value.split(',').map(str::trim).collect();
            if name.eq_ignore_ascii_case("Allow") && methods.contains(&"GET") && !methods.contains(&"HEAD") {
                value.push_str(", HEAD");
            }
        }
    }
    response
}

fn tiny_http_response(response: Response) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut out = tiny_http::Response::from_data(response.body).with_status_code(response.status);
    for (name, value) in response.headers {
        match tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            Ok(header) => out.add_header(header),
            // The value is never logged: it may be a cookie.
            Err(()) => {
                log::warn!(target: "http", "the {name} header of a {} answer was dropped: its value is not ASCII", response.status)
            }
        }
    }
    out
}
