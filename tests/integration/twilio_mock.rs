//! A mock of Twilio's REST API for tests: a real HTTP server on loopback that
//! records every request and answers from a script (then `201` with a new SID).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use base64::Engine as _;

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub content_type: String,
    /// The user of the Basic `Authorization` header.
    pub basic_user: String,
    pub basic_password: String,
    /// The form body, in order.
    pub form: Vec<(String, String)>,
}

impl Recorded {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
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

#[derive(Default)]
struct State {
    requests: Vec<Recorded>,
    script: VecDeque<Answer>,
}

/// The running mock.
pub struct MockTwilio {
    /// `http://127.0.0.1:PORT`: the `api_base_url` to configure.
    pub url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

impl MockTwilio {
    pub fn start() -> MockTwilio {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (server, state, stop) = (server.clone(), state.clone(), stop.clone());
            thread::spawn(move || serve(&server, &state, &stop))
        };
        MockTwilio {
            url,
            state,
            stop,
            server,
            thread: Some(thread),
        }
    }

    /// The next request gets this answer.
    pub fn then(&self, status: u16, body: &str) -> &MockTwilio {
        self.then_after(status, body, Duration::ZERO)
    }

    /// The next request gets this answer after `delay`.
    pub fn then_after(&self, status: u16, body: &str, delay: Duration) -> &MockTwilio {
        self.state.lock().unwrap().script.push_back(Answer {
            status,
            body: body.into(),
            delay,
        });
        self
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Waits until at least `n` requests arrived (at most `timeout`).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
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

impl Drop for MockTwilio {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(server: &tiny_http::Server, state: &Mutex<State>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let Ok(mut request) = server.recv() else { break };
        let mut body = String::new();
        request
            .as_reader()
            .read_to_string(&mut body)
            .expect("the mock reads the request body");
        let header = |name: &str| {
            request
                .headers()
                .iter()
                .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
                .map(|h| h.value.to_string())
                .unwrap_or_default()
        };
        let (basic_user, basic_password) = basic(&header("Authorization"));
        let recorded = Recorded {
            method: request.method().to_string(),
            path: request.url().to_string(),
            content_type: header("Content-Type"),
            basic_user,
            basic_password,
            form: serde_urlencoded::from_str(&body).expect("the request body is a form"),
        };
        let answer = {
            let mut state = state.lock().unwrap();
            state.requests.push(recorded);
            let n = state.requests.len();
            state.script.pop_front().unwrap_or_else(|| Answer {
                status: 201,
                body: format!(r#"{{"sid":"SM{n:032}","status":"queued","error_code":null}}"#),
                delay: Duration::ZERO,
            })
        };
        // Answer from another thread so a delayed answer does not hold up others.
        thread::spawn(move || {
            thread::sleep(answer.delay);
            let response = tiny_http::Response::from_string(answer.body)
                .with_status_code(answer.status)
                .with_header(tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap());
            let _ = request.respond(response);
        });
    }
}

fn basic(header: &str) -> (String, String) {
    let decoded = header
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .unwrap_or_default();
    let (user, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
    (user.to_string(), password.to_string())
}
