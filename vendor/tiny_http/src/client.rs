use ascii::AsciiString;

use std::io::Error as IoError;
use std::io::Result as IoResult;
use std::io::{BufRead, BufReader, BufWriter, ErrorKind, Read};

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::common::{HTTPVersion, Method};
use crate::util::RefinedTcpStream;
use crate::util::{SequentialReader, SequentialReaderBuilder, SequentialWriterBuilder};
use crate::{Header, Limits, Request};

/// A ClientConnection is an object that will store a socket to a client
/// and return Request objects.
pub struct ClientConnection {
    // address of the client
    remote_addr: IoResult<Option<SocketAddr>>,

    // sequence of Readers to the stream, so that the data is not read in
    //  the wrong order
    source: SequentialReaderBuilder<BufReader<RefinedTcpStream>>,

    // sequence of Writers to the stream, to avoid writing response #2 before
    //  response #1
    sink: SequentialWriterBuilder<BufWriter<RefinedTcpStream>>,

    // Reader to read the next header from
    next_header_source: SequentialReader<BufReader<RefinedTcpStream>>,

    // set to true if we know that the previous request is the last one
    no_more_requests: bool,

    // true if the connection goes through SSL
    secure: bool,

    // shopbot patch: what a client may send, and the bytes of the current
    // request's head read so far
    limits: Limits,
    head_bytes: usize,

    // shopbot patch: set once a response could not be written (in time); no
    // further request is read, even one already buffered
    broken: Arc<AtomicBool>,

    // shopbot patch (23): the write half's prompt deadline, handed to each
    // request for `Request::respond_promptly`
    prompt_deadline: Arc<AtomicU64>,

    // shopbot patch (15): the last request's body was left unread, so what is
    // left of it is read and thrown away before the connection closes
    linger: bool,
}

/// The most of an unread body thrown away before closing (shopbot patch 15).
const LINGER_BYTES: u64 = 16 * 1024 * 1024;
/// The longest a connection lingers to take in an unread body (shopbot patch 15).
const LINGER_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// Error that can happen when reading a request.
#[derive(Debug)]
enum ReadError {
    WrongRequestLine,
    WrongHeader(HTTPVersion),
    /// the client sent an unrecognized `Expect` header
    ExpectationFailed(HTTPVersion),
    ReadIoError(IoError),
    /// the request line is longer than the limit (shopbot patch)
    UriTooLong,
    /// a header line, the head or the number of headers is over the limit (shopbot patch)
    HeaderTooLarge(HTTPVersion),
    /// the request deadline passed before the client sent anything (shopbot patch)
    Idle,
    /// HTTP/2.0 or later in the request line (shopbot patch)
    UnsupportedVersion,
    /// the body's framing is invalid or ambiguous: refused with this status
    /// (shopbot patch; see `request::framing`)
    BadFraming(u16, HTTPVersion),
}

impl ClientConnection {
    /// Creates a new `ClientConnection` that takes ownership of the `TcpStream`.
    pub fn new(
        mut write_socket: RefinedTcpStream,
        mut read_socket: RefinedTcpStream,
        limits: Limits,
    ) -> ClientConnection {
        let remote_addr = read_socket.peer_addr();
        let secure = read_socket.secure();
        let broken = read_socket.broken_flag();
        let prompt_deadline = write_socket.prompt_deadline();
        write_socket.set_response_limits(limits.response_limits());

        let mut source = SequentialReaderBuilder::new(BufReader::with_capacity(1024, read_socket));
        let first_header = source.next().unwrap();

        ClientConnection {
            source,
            sink: SequentialWriterBuilder::new(BufWriter::with_capacity(1024, write_socket)),
            remote_addr,
            next_header_source: first_header,
            no_more_requests: false,
            linger: false,
            secure,
            limits,
            head_bytes: 0,
            broken,
            prompt_deadline,
        }
    }

    /// true if the connection is HTTPS
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Reads the next line from self.next_header_source.
    ///
    /// Reads until `CRLF` is reached. The next read will start
    ///  at the first byte of the new line.
    /// `Ok(None)`: the line or the head is over the limits (shopbot patch).
    ///
    /// shopbot patch: the line is taken from the connection's buffer a chunk
    /// at a time (`fill_buf`/`consume`, only up to the line's end), not one
    /// `read` call per byte through the sequential reader.
    fn read_next_line(&mut self) -> IoResult<Option<AsciiString>> {
        let mut buf = Vec::new();
        let mut prev_byte_was_cr = false;

        loop {
            let source = self.next_header_source.inner_mut();
            let available = match source.fill_buf() {
                Ok(available) => available,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                return Err(IoError::new(ErrorKind::ConnectionAborted, "Unexpected EOF"));
            }
            // shopbot patch (25): room for the line (up to its LF, or all that
            // is buffered) at once, not grown a byte at a time (18 reallocations
            // per request of a dozen headers)
            buf.reserve(available.iter().position(|&b| b == b'\n').unwrap_or(available.len()));
            let mut used = 0;
            let mut outcome = None;
            for &byte in available {
                used += 1;
                self.head_bytes += 1;

                if byte == b'\n' && prev_byte_was_cr {
                    buf.pop(); // removing the '\r'
                    outcome = Some(
                        AsciiString::from_ascii(std::mem::take(&mut buf))
                            .map(Some)
                            .map_err(|_| IoError::new(ErrorKind::InvalidInput, "Header is not in ASCII")),
                    );
                    break;
                }

                // shopbot patch: a CR only before LF, no bare LF, no NUL (RFC 9112
                // §2.2, RFC 9110 §5.5); a front end that ends lines at a bare LF or
                // CR would see other header lines than we do
                if prev_byte_was_cr || byte == b'\n' || byte == 0 {
                    outcome = Some(Err(IoError::new(
                        ErrorKind::InvalidInput,
                        "bare CR, bare LF or NUL in the request head",
                    )));
                    break;
                }

                prev_byte_was_cr = byte == b'\r';

                buf.push(byte);
                if over_head_limits(&self.limits, self.head_bytes, buf.len() - usize::from(prev_byte_was_cr)) {
                    outcome = Some(Ok(None));
                    break;
                }
            }
            source.consume(used);
            if let Some(outcome) = outcome {
                return outcome;
            }
        }
    }

    /// Starts the request deadline (shopbot patch), once the request before
    /// has been read whole (its body may still be with the handler).
    fn start_request_deadline(&mut self) {
        if let Some(timeout) = self.limits.request_timeout {
            let per_read = self.limits.read_timeout;
            let socket = self.next_header_source.inner_mut().get_mut();
            socket.set_read_deadline(Some(Instant::now() + timeout), per_read);
        }
    }

    /// Reads the request line, telling an idle connection from a slow request
    /// (shopbot patch).
    fn read_request_line(&mut self) -> Result<AsciiString, ReadError> {
        self.head_bytes = 0;
        match self.read_next_line() {
            Ok(Some(line)) => Ok(line),
            Ok(None) => Err(ReadError::UriTooLong),
            Err(e) if e.kind() == ErrorKind::TimedOut && self.head_bytes == 0 => {
                Err(ReadError::Idle)
            }
            Err(e) => Err(ReadError::ReadIoError(e)),
        }
    }

    /// Reads and throws away what is left of a body the handler did not read
    /// (its response is written by now): at most [`LINGER_BYTES`], for at most
    /// [`LINGER_TIME`] (shopbot patch 15). A socket closed with unread data is
    /// reset, and a client that sends its whole body before reading (a
    /// browser's upload, curl) then reports "connection reset" instead of
    /// the response, a `413` above all.
    fn take_in_unread_body(&mut self) {
        let per_read = self.limits.read_timeout;
        let give_up = Instant::now() + LINGER_TIME;
        let socket = self.next_header_source.inner_mut().get_mut();
        socket.set_read_deadline(Some(give_up), per_read);
        let mut left = LINGER_BYTES;
        let mut buf = [0u8; 16 * 1024];
        while left > 0 {
            match self.next_header_source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => left = left.saturating_sub(n as u64),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }

    /// Answers an empty response with this status and `Connection: close`;
    /// the connection then closes (shopbot patch).
    fn refuse(&mut self, status: u16, version: HTTPVersion) -> Option<Request> {
        use crate::{Response, StatusCode};
        use std::io::Write;

        let mut writer = self.sink.next().unwrap();
        let response = Response::new_empty(StatusCode(status)).with_connection_close();
        response
            .raw_print(&mut writer, version, &[], false, None)
            .ok();
        writer.flush().ok();
        None
    }

    /// Reads a request from the stream.
    /// Blocks until the header has been read.
    fn read(&mut self) -> Result<Request, ReadError> {
        self.start_request_deadline();
        let (method, path, version, headers) = {
            // reading the request line
            let (method, path, version) = {
                let line = self.read_request_line()?;

                parse_request_line(
                    line.as_str().trim(), // TODO: remove this conversion
                )?
            };
            // shopbot patch: refused here, before a `Request` holds this
            // connection's response writer (see `next`)
            if version > HTTPVersion(1, 1) {
                return Err(ReadError::UnsupportedVersion);
            }

            // getting all headers
            let headers = {
                let mut headers = Vec::new();
                loop {
                    let line = self.read_next_line().map_err(ReadError::ReadIoError)?;
                    let line = line.ok_or_else(|| ReadError::HeaderTooLarge(version.clone()))?;

                    if line.is_empty() {
                        break;
                    };
                    // shopbot patch: an obs-fold line (RFC 9112 §5.2) continues
                    // the header before it for a front end that unfolds, but
                    // was read as a header of its own
                    if line
                        .as_bytes()
                        .first()
                        .map_or(false, |b| *b == b' ' || *b == b'\t')
                    {
                        return Err(ReadError::WrongHeader(version));
                    }
                    if self
                        .limits
                        .max_headers
                        .map_or(false, |max| headers.len() >= max)
                    {
                        return Err(ReadError::HeaderTooLarge(version));
                    }
                    headers.push(match Header::from_str(line.as_str().trim()) {
                        // TODO: remove this conversion
                        // shopbot patch: a field name is at least one character
                        Ok(h) if !h.field.as_str().is_empty() => h,
                        _ => return Err(ReadError::WrongHeader(version)),
                    });
                }

                headers
            };

            // shopbot patch: refused here too, before a `Request` holds this
            // connection's response writer
            if let Err(status) = crate::request::framing(&headers, &version) {
                return Err(ReadError::BadFraming(status, version));
            }

            (method, path, version, headers)
        };

        // building the writer for the request
        let writer = self.sink.next().unwrap();

        // follow-up for next potential request
        let mut data_source = self.source.next().unwrap();
        std::mem::swap(&mut self.next_header_source, &mut data_source);

        // building the next reader
        let request = crate::request::new_request(
            self.secure,
            method,
            path,
            version.clone(),
            headers,
            // shopbot patch: `None` if the peer was already gone at accept
            // (it was an `unwrap()`, a panic a client could cause)
            self.remote_addr.as_ref().ok().and_then(|addr| *addr),
            data_source,
            writer,
            self.limits.buffer_body_up_to,
        )
        .map_err(|e| {
            use crate::request;
            match e {
                request::RequestCreationError::CreationIoError(e) => ReadError::ReadIoError(e),
                request::RequestCreationError::ExpectationFailed => {
                    ReadError::ExpectationFailed(version)
                }
                request::RequestCreationError::BadFraming(status) => {
                    ReadError::BadFraming(status, version)
                }
            }
        })?;

        // return the request
        Ok(request.with_prompt_deadline(self.prompt_deadline.clone()))
    }
}

impl Iterator for ClientConnection {
    type Item = Request;

    /// Blocks until the next Request is available.
    /// Returns None when no new Requests will come from the client.
    fn next(&mut self) -> Option<Request> {
        use crate::{Response, StatusCode};

        // the client sent a "connection: close" header in this previous request
        //  or is using HTTP 1.0, meaning that no new request will come
        if self.broken.load(Ordering::SeqCst) {
            return None;
        }
        if self.no_more_requests {
            if self.linger {
                self.take_in_unread_body();
            }
            return None;
        }

        loop {
            let rq = match self.read() {
                // we don't know where the next request would start, so we have to
                // close (shopbot patch: saying so, with `Connection: close`)
                Err(ReadError::WrongRequestLine) => return self.refuse(400, HTTPVersion(1, 1)),
                Err(ReadError::WrongHeader(ver)) => return self.refuse(400, ver),
                Err(ReadError::BadFraming(status, ver)) => return self.refuse(status, ver),

                Err(ReadError::ReadIoError(ref err)) if err.kind() == ErrorKind::TimedOut => {
                    // request timeout
                    let writer = self.sink.next().unwrap();
                    let response = Response::new_empty(StatusCode(408));
                    response
                        .raw_print(writer, HTTPVersion(1, 1), &[], false, None)
                        .ok();
                    return None; // closing the connection
                }

                Err(ReadError::ExpectationFailed(ver)) => {
                    let writer = self.sink.next().unwrap();
                    let response = Response::new_empty(StatusCode(417));
                    response.raw_print(writer, ver, &[], true, None).ok();
                    return None; // TODO: should be recoverable, but needs handling in case of body
                }

                // shopbot patch: a header that is not ASCII, or a malformed chunked body
                Err(ReadError::ReadIoError(ref err)) if err.kind() == ErrorKind::InvalidInput => {
                    return self.refuse(400, HTTPVersion(1, 1))
                }

                Err(ReadError::ReadIoError(_)) => return None,

                Err(ReadError::Idle) => return None,
                Err(ReadError::UriTooLong) => return self.refuse(414, HTTPVersion(1, 1)),
                Err(ReadError::HeaderTooLarge(ver)) => return self.refuse(431, ver),
                Err(ReadError::UnsupportedVersion) => return self.refuse(505, HTTPVersion(1, 1)),

                Ok(rq) => rq,
            };

            // a body left unread (over `buffer_body_up_to`) ends the connection
            if rq.body_left_unread {
                self.no_more_requests = true;
                self.linger = true;
            }

            // updating the status of the connection
            let connection_header = rq
                .headers()
                .iter()
                .find(|h| h.field.equiv("Connection"))
                .map(|h| h.value.as_str());

            let lowercase = connection_header.map(|h| h.to_ascii_lowercase());

            match lowercase {
                Some(ref val) if val.contains("close") => self.no_more_requests = true,
                Some(ref val) if val.contains("upgrade") => self.no_more_requests = true,
                Some(ref val)
                    if !val.contains("keep-alive") && *rq.http_version() == HTTPVersion(1, 0) =>
                {
                    self.no_more_requests = true
                }
                None if *rq.http_version() == HTTPVersion(1, 0) => self.no_more_requests = true,
                _ => (),
            };

            // returning the request
            return Some(rq);
        }
    }
}

/// Parses a "HTTP/1.1" string.
fn parse_http_version(version: &str) -> Result<HTTPVersion, ReadError> {
    let (major, minor) = match version {
        "HTTP/0.9" => (0, 9),
        "HTTP/1.0" => (1, 0),
        "HTTP/1.1" => (1, 1),
        "HTTP/2.0" => (2, 0),
        "HTTP/3.0" => (3, 0),
        _ => return Err(ReadError::WrongRequestLine),
    };

    Ok(HTTPVersion(major, minor))
}

/// Parses the request line of the request.
/// eg. GET / HTTP/1.1
fn parse_request_line(line: &str) -> Result<(Method, String, HTTPVersion), ReadError> {
    let mut parts = line.split(' ');

    // shopbot patch (17): exactly `method SP target SP version` (RFC 9112
    // §3), the method a token and the target visible ASCII; a control
    // character or a stray space anywhere makes it no request line.
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    let method = parts
        .next()
        .filter(|w| !w.is_empty() && w.bytes().all(is_tchar))
        .and_then(|w| w.parse().ok());
    let path = parts
        .next()
        .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_graphic()))
        .map(ToOwned::to_owned);
    let version = parts.next().and_then(|w| parse_http_version(w).ok());
    if parts.next().is_some() {
        return Err(ReadError::WrongRequestLine);
    }

    method
        .and_then(|method| Some((method, path?, version?)))
        .ok_or(ReadError::WrongRequestLine)
}

#[cfg(test)]
mod test {
    // shopbot patch (17): found by the http_head fuzz target, which read
    // `POST\x1d \x1a/ HTTP/1.1` as a request with that method and target
    #[test]
    fn a_request_line_is_a_token_a_visible_target_and_a_version() {
        use super::parse_request_line;
        assert!(parse_request_line("GET /a?b=c HTTP/1.1").is_ok());
        assert!(parse_request_line("M-SEARCH * HTTP/1.1").is_ok());
        for bad in [
            "POST\x1d \x1a/ HTTP/1.1",
            "GET /\x7f HTTP/1.1",
            "GET /é HTTP/1.1",
            "GET  / HTTP/1.1",
            "GET / HTTP/1.1 extra",
            "GE(T / HTTP/1.1",
            " / HTTP/1.1",
        ] {
            assert!(parse_request_line(bad).is_err(), "{:?}", bad);
        }
    }

    // shopbot patch: a client that sent a request and reset the connection
    // before it was accepted has no peer address any more; that is no panic
    #[test]
    fn a_request_from_a_connection_already_reset_is_no_panic() {
        use std::io::Write;
        use std::net::{TcpListener, TcpStream};

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut accepted, _) = listener.accept().unwrap();
        // closing with unread data resets the connection
        accepted.write_all(b"unread").unwrap();
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        drop(client);
        std::thread::sleep(std::time::Duration::from_millis(100));
        let (read, write) =
            crate::util::RefinedTcpStream::new(crate::connection::Connection::from(accepted))
                .unwrap();
        let mut connection = super::ClientConnection::new(write, read, crate::Limits::default());
        if let Some(mut rq) = connection.next() {
            let mut body = Vec::new();
            let _ = rq.as_reader().read_to_end(&mut body);
        }
    }

    #[test]
    fn test_parse_request_line() {
        let (method, path, ver) = super::parse_request_line("GET /hello HTTP/1.1").unwrap();

        assert!(method == crate::Method::Get);
        assert!(path == "/hello");
        assert!(ver == crate::common::HTTPVersion(1, 1));

        assert!(super::parse_request_line("GET /hello").is_err());
        assert!(super::parse_request_line("qsd qsd qsd").is_err());
    }
}

/// True if a line of `line` bytes, or a head of `head_bytes` so far, is over
/// `limits` (shopbot patch).
fn over_head_limits(limits: &Limits, head_bytes: usize, line: usize) -> bool {
    limits.max_header_line.map_or(false, |max| line > max)
        || limits.max_header_bytes.map_or(false, |max| head_bytes > max)
}
