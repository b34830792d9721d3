//! A small synchronous client of Chromium's DevTools protocol for browser
//! tests: starts Debian's headless `chromium` on a temporary profile, opens a
//! page, sends commands over the page's WebSocket and collects console errors.
//!
//! Where Chromium is missing the tests say so loudly and skip, unless
//! `SHOPBOT_REQUIRE_BROWSER` is set (`.ci/run` sets it after installing
//! `chromium`): then a missing browser fails the test.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// How long one command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);

/// The Chromium binary, if there is one: `$SHOPBOT_CHROMIUM`, else the usual names.
pub fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SHOPBOT_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

/// The browser to test with, or `None` after saying loudly why there is none
/// (and failing when `SHOPBOT_REQUIRE_BROWSER` is set).
pub fn browser_or_skip(test: &str) -> Option<PathBuf> {
    if cfg!(windows) || !cfg!(target_arch = "x86_64") {
        eprintln!("SKIPPED {test}: browser tests run in the native x86_64 build (not under wine or qemu)");
        return None;
    }
    match chromium() {
        Some(path) => Some(path),
        None if std::env::var_os("SHOPBOT_REQUIRE_BROWSER").is_some() => {
            panic!("{test}: SHOPBOT_REQUIRE_BROWSER is set but no Chromium was found (apt-get install chromium)")
        }
        None => {
            eprintln!(
                "\n!!! SKIPPED {test}: no Chromium here (apt-get install chromium, or set SHOPBOT_CHROMIUM). CI installs it and fails without it.\n"
            );
            None
        }
    }
}

/// A running headless Chromium with one page.
pub struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    socket: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// Console errors and uncaught exceptions seen so far.
    pub errors: Vec<String>,
    /// Every request that failed to load (status >= 400 or a network error).
    pub failed_requests: Vec<String>,
    /// The URL of each request by its id, to name a request that failed.
    urls: std::collections::HashMap<String, String>,
}

impl Browser {
    /// Starts Chromium (`binary`) with a `width`×`height` window and connects
    /// to its first page.
    pub fn start(binary: &Path, width: u32, height: u32) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let child = std::process::Command::new(binary)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
                &format!("--window-size={width},{height}"),
                &format!("--user-data-dir={}", profile.path().display()),
                "about:blank",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let port = devtools_port(profile.path());
        let ws_url = page_socket(port);
        let (socket, _) = tungstenite::connect(ws_url.as_str()).unwrap();
        if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
            stream.set_read_timeout(Some(COMMAND_TIMEOUT)).unwrap();
        }
        let mut browser = Browser {
            child,
            _profile: profile,
            socket,
            next_id: 0,
            errors: Vec::new(),
            failed_requests: Vec::new(),
            urls: std::collections::HashMap::new(),
        };
        for domain in ["Page.enable", "Runtime.enable", "Log.enable", "Network.enable"] {
            browser.call(domain, json!({}));
        }
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}),
        );
        browser
    }

    /// Sends a command and returns its result; events that arrive meanwhile
    /// are looked at for errors.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.try_call(method, params)
            .unwrap_or_else(|error| panic!("{method}: {error}"))
    }

    /// [`Browser::call`], with a protocol error as the error (a page that
    /// navigates while it is asked something answers "Inspected target
    /// navigated or closed").
    fn try_call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        let command = json!({"id": id, "method": method, "params": params});
        self.socket.send(Message::text(command.to_string())).unwrap();
        let started = Instant::now();
        loop {
            assert!(
                started.elapsed() < COMMAND_TIMEOUT,
                "{method}: no answer within {COMMAND_TIMEOUT:?}"
            );
            let Message::Text(text) = self.socket.read().unwrap() else {
                continue;
            };
            let message: Value = serde_json::from_str(text.as_str()).unwrap();
            if message["id"] == id {
                if !message["error"].is_null() {
                    return Err(message["error"].clone());
                }
                return Ok(message["result"].clone());
            }
            self.event(&message);
        }
    }

    /// Notes console errors, exceptions and failed requests.
    fn event(&mut self, event: &Value) {
        let params = &event["params"];
        match event["method"].as_str().unwrap_or_default() {
            "Runtime.exceptionThrown" => self.errors.push(format!("exception: {}", params["exceptionDetails"])),
            "Runtime.consoleAPICalled" if params["type"] == "error" => {
                self.errors.push(format!("console.error: {}", params["args"]))
            }
            "Log.entryAdded" if params["entry"]["level"] == "error" => {
                self.errors.push(format!("log: {}", params["entry"]["text"]))
            }
            "Network.responseReceived" if params["response"]["status"].as_u64().unwrap_or(0) >= 400 => {
                self.failed_requests.push(format!(
                    "{} {}",
                    params["response"]["status"], params["response"]["url"]
                ))
            }
            "Network.requestWillBeSent" => {
                let id = params["requestId"].as_str().unwrap_or_default().to_string();
                let url = params["request"]["url"].as_str().unwrap_or_default().to_string();
                self.urls.insert(id, url);
            }
            "Network.loadingFailed" => {
                let url = self.urls.get(params["requestId"].as_str().unwrap_or_default());
                let url = url.map_or("", String::as_str);
                self.failed_requests
                    .push(format!("failed: {} {url}", params["errorText"]));
            }
            _ => {}
        }
    }

    /// Evaluates `expression` in the page and returns its value.
    pub fn eval(&mut self, expression: &str) -> Value {
        self.try_eval(expression)
            .unwrap_or_else(|details| panic!("{expression}: {details}"))
    }

    /// [`Browser::eval`], with the exception as the error.
    fn try_eval(&mut self, expression: &str) -> Result<Value, Value> {
        let result = self.try_call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        )?;
        match &result["exceptionDetails"] {
            Value::Null => Ok(result["result"]["value"].clone()),
            details => Err(details.clone()),
        }
    }

    /// Opens `url` and waits until the page has loaded.
    pub fn open(&mut self, url: &str) {
        self.call("Page.navigate", json!({"url": url}));
        self.wait_for("document.readyState === 'complete'", "the page to load");
    }

    /// Waits until `condition` (a JavaScript expression) is true; while a page
    /// is changing, an exception or a navigated target counts as "not yet".
    pub fn wait_for(&mut self, condition: &str, what: &str) {
        let started = Instant::now();
        while self.try_eval(condition) != Ok(Value::Bool(true)) {
            assert!(
                started.elapsed() < COMMAND_TIMEOUT,
                "gave up waiting for {what} ({condition})"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Clicks the middle of the element `selector`, as a mouse would.
    pub fn click(&mut self, selector: &str) {
        let at = self.eval(&format!(
            "(() => {{ const e = document.querySelector({selector:?}); e.scrollIntoView({{block: 'center'}});
               const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ));
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            );
        }
    }

    /// Types `text` into the focused element and presses Enter, as a keyboard would.
    pub fn type_and_enter(&mut self, text: &str) {
        if !text.is_empty() {
            self.call("Input.insertText", json!({"text": text}));
        }
        for kind in ["keyDown", "keyUp"] {
            self.call(
                "Input.dispatchKeyEvent",
                json!({"type": kind, "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": if kind == "keyDown" { "\r" } else { "" }}),
            );
        }
    }

    /// Panics on a console error or a failed request (but the icon) so far.
    pub fn assert_clean(&self) {
        assert!(self.errors.is_empty(), "console errors: {:?}", self.errors);
        let failed: Vec<&String> = self.failed_requests.iter().filter(|r| !r.contains("favicon")).collect();
        assert!(failed.is_empty(), "failed requests: {failed:?}");
    }

    /// Saves a PNG screenshot of the page to `path`.
    pub fn screenshot(&mut self, path: &Path) {
        use base64::Engine as _;
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The DevTools port Chromium chose, from `DevToolsActivePort` in its profile.
fn devtools_port(profile: &Path) -> u16 {
    let file = profile.join("DevToolsActivePort");
    let started = Instant::now();
    loop {
        if let Some(port) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|text| text.lines().next().and_then(|l| l.trim().parse().ok()))
        {
            return port;
        }
        assert!(
            started.elapsed() < COMMAND_TIMEOUT,
            "Chromium did not open its DevTools port"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The WebSocket URL of Chromium's first page.
fn page_socket(port: u16) -> String {
    let mut response = ureq::get(&format!("http://127.0.0.1:{port}/json/list")).call().unwrap();
    let targets: Value = serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    targets
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "page")
        .and_then(|t| t["webSocketDebuggerUrl"].as_str())
        .expect("a page target")
        .to_string()
}

/// Where screenshots go: `target/browser/` of this checkout.
pub fn screenshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("browser")
        .join(name)
}
