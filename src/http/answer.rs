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
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::Response;
use crate::writer::{Work, Writer, WriterError};

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

/// Queues `work` and answers the request from the writer thread once it is
/// committed, with what `render` makes of its result (one thread wake-up
/// less than waiting for it in the worker).
pub fn after_commit<W: Work>(
    writer: &Writer,
    work: W,
    render: impl FnOnce(Result<W::Output, WriterError>) -> Response + Send + 'static,
) -> Response {
    let writer = writer.clone();
    Response::later(move |answer| writer.run_then(work, move |result| answer.send_promptly(render(result))))
}

/// A request waiting for its answer: its connection, or a caller without
/// one (a handler's test; see [`Response::settled`]).
pub struct Answer {
    to: Option<To>,
    method: tiny_http::Method,
    target: String,
    started: Instant,
}

enum To {
    Connection(tiny_http::Request),
    Caller(mpsc::SyncSender<Response>),
}

impl Answer {
    /// The answer to `raw`, which arrived at `started`.
    pub(super) fn new(raw: tiny_http::Request, started: Instant) -> Answer {
        Answer {
            method: raw.method().clone(),
            target: raw.url().to_string(),
            to: Some(To::Connection(raw)),
            started,
        }
    }

    /// Writes `response` under the connection's usual deadline (from a
    /// thread that may wait for the client).
    pub fn send(mut self, response: Response) {
        if let Some(to) = self.to.take() {
            self.write(to, response, None);
        }
    }

    /// Writes `response` from a thread that must not wait for the client:
    /// at once, or, if its body is over [`PROMPT_MAX_BYTES`], from a thread
    /// of its own.
    pub fn send_promptly(mut self, response: Response) {
        let Some(to) = self.to.take() else { return };
        if response.body.len() <= PROMPT_MAX_BYTES {
            return self.write(to, response, Some(PROMPT));
        }
        self.to = Some(to);
        let spawned = thread::Builder::new()
            .name("http-answer".into())
            .spawn(move || self.send(response));
        if let Err(e) = spawned {
            // The answer was dropped with the closure: a prompt `500`.
            log::warn!(target: "http", "cannot start a thread for a large answer: {e}");
        }
    }

    fn write(&self, to: To, response: Response, prompt: Option<Duration>) {
        let raw = match to {
            To::Connection(raw) => raw,
            To::Caller(caller) => return drop(caller.send(response)),
        };
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
        if let Some(to) = self.to.take() {
            log::error!(target: "http", "{} {}: dropped without an answer", self.method, self.target);
            self.write(to, Response::text(500, "internal server error"), Some(PROMPT));
        }
    }
}

impl Response {
    /// The response as its client gets it: an answer given later (see
    /// [`Response::later`]) is waited for. For callers without a
    /// connection: handlers tested without sockets.
    pub fn settled(mut self) -> Response {
        let Some(later) = self.later.take() else { return self };
        let (caller, answered) = mpsc::sync_channel(1);
        later.run(Answer {
            to: Some(To::Caller(caller)),
            method: tiny_http::Method::Get,
            target: String::new(),
            started: Instant::now(),
        });
        answered
            .recv()
            .unwrap_or_else(|_| Response::text(500, "internal server error"))
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
