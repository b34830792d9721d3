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
//! client: [`Answer::send_on_connection`] gives the answer to the thread that
//! read the request, which writes it under the usual response deadline
//! (tiny_http patch 24), so a client that has stopped reading its answers
//! holds only its own connection's thread, never the writer, and the writer
//! spends no time in the socket. Only where that thread is gone (the server
//! is closing) is the answer written by the caller, within [`PROMPT`] or not
//! at all (tiny_http patch 23). An `Answer` dropped unanswered (a bug)
//! answers `500` the same way.
//!
//! One log line per request is written here, when it is answered.

use std::fmt;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::Response;
use crate::writer::{Work, Writer, WriterError};

/// How long an answer written by a thread that must not wait may take to go
/// into the socket, when the connection's own thread cannot write it.
pub const PROMPT: Duration = Duration::from_millis(20);

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
    Response::later(move |answer| writer.run_then(work, move |result| answer.send_on_connection(render(result))))
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

/// Who writes an answer to a connection.
enum Deliver {
    /// The calling thread, which may wait for the client.
    Here,
    /// The connection's own thread: the caller must not wait.
    FromAfar,
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
            self.deliver(to, response, Deliver::Here);
        }
    }

    /// Answers with `response` from a thread that must not wait for the
    /// client: it goes back to the connection's own thread, which writes it.
    pub fn send_on_connection(mut self, response: Response) {
        if let Some(to) = self.to.take() {
            self.deliver(to, response, Deliver::FromAfar);
        }
    }

    fn deliver(&self, to: To, response: Response, how: Deliver) {
        let raw = match to {
            To::Connection(raw) => raw,
            To::Caller(caller) => return drop(caller.send(response)),
        };
        let response = allow_head(response);
        self.log(&response);
        let status = response.status;
        let response = tiny_http_response(response);
        let written = match how {
            Deliver::Here => raw.respond(response),
            // The thread that read the request writes it under the usual
            // deadline (tiny_http patch 24): this one never touches the socket.
            Deliver::FromAfar => match raw.respond_on_connection(response.boxed()) {
                Ok(()) => return,
                // No thread waits for it (the server is closing): written
                // here, within PROMPT or not at all (tiny_http patch 23).
                Err((raw, response)) => raw.respond_promptly(response, PROMPT),
            },
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
            self.deliver(to, Response::text(500, "internal server error"), Deliver::FromAfar);
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
