//! A recording HTTP server for mocks of providers' APIs: a real tiny_http
//! server on loopback that keeps every request (as the mock's own record type)
//! and answers from a script, then with the mock's default answer. Each answer
//! goes out from its own thread, so a delayed one holds up no other.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A request as it arrived, for a mock to turn into its record.
pub struct RawRequest {
    pub method: String,
    /// The path and query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawRequest {
    /// A header's value, or empty.
    pub fn header(&self, name: &str) -> String {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// Wait this long before answering.
    pub delay: Duration,
}

struct State<R> {
    requests: Vec<R>,
    script: VecDeque<Answer>,
}

/// The running mock; `R` is what it records of each request.
pub struct MockServer<R> {
    /// `http://127.0.0.1:PORT`: the base URL to configure.
    pub url: String,
    state: Arc<Mutex<State<R>>>,
    stop: Arc<AtomicBool>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl<R: Clone + Send + 'static> MockServer<R> {
    /// Starts a mock that records requests with `record` and answers the n-th
    /// (1-based) with `default` when the script is empty.
    pub fn start_with(record: fn(&RawRequest) -> R, default: fn(&R, usize) -> Answer) -> MockServer<R> {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let state = Arc::new(Mutex::new(State {
            requests: Vec::new(),
            script: VecDeque::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (server, state, stop) = (server.clone(), state.clone(), stop.clone());
            thread::spawn(move || serve(&server, &state, &stop, record, default))
        };
        MockServer {
            url,
            state,
            stop,
            server,
            thread: Some(thread),
        }
    }

    /// Queues an answer: requests take scripted answers in order, after `delay`.
    pub fn push_answer(&self, status: u16, body: &str, delay: Duration) -> &MockServer<R> {
        self.state.lock().unwrap().script.push_back(Answer {
            status,
            body: body.into(),
            delay,
        });
        self
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<R> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Waits until at least `n` requests arrived (at most `timeout`).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<R> {
        let started = Instant::now();
        loop {
            let requests = self.requests();
            if requests.len() >= n || started.elapsed() > timeout {
                return requests;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl<R> Drop for MockServer<R> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve<R>(
    server: &tiny_http::Server,
    state: &Mutex<State<R>>,
    stop: &AtomicBool,
    record: fn(&RawRequest) -> R,
    default: fn(&R, usize) -> Answer,
) {
    while !stop.load(Ordering::SeqCst) {
        let Ok(mut request) = server.recv() else { break };
        let mut body = String::new();
        request
            .as_reader()
            .read_to_string(&mut body)
            .expect("the mock reads the request body");
        let raw = RawRequest {
            method: request.method().to_string(),
            path: request.url().to_string(),
            headers: request
                .headers()
                .iter()
                .map(|h| (h.field.as_str().as_str().to_string(), h.value.to_string()))
                .collect(),
            body,
        };
        let recorded = record(&raw);
        let answer = {
            let mut state = state.lock().unwrap();
            let fallback = default(&recorded, state.requests.len() + 1);
            state.requests.push(recorded);
            state.script.pop_front().unwrap_or(fallback)
        };
        thread::spawn(move || {
            thread::sleep(answer.delay);
            let response = tiny_http::Response::from_string(answer.body)
                .with_status_code(answer.status)
                .with_header(tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap());
            let _ = request.respond(response);
        });
    }
}
