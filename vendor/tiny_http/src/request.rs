use std::convert::TryFrom;
use std::io::Error as IoError;
use std::io::{self, Cursor, ErrorKind, Read, Write};

use std::fmt;
use std::net::SocketAddr;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SendError, SyncSender};
use std::sync::Arc;
use std::time::Duration;

use crate::util::{EqualReader, FusedReader};
use crate::ResponseBox;
use crate::{HTTPVersion, Header, Method, Response, StatusCode};
use chunked_transfer::Decoder;

/// Represents an HTTP request made by a client.
///
/// A `Request` object is what is produced by the server, and is your what
/// your code must analyse and answer.
///
/// This object implements the `Send` trait, therefore you can dispatch your requests to
/// worker threads.
///
/// # Pipelining
///
/// If a client sends multiple requests in a row (without waiting for the response), then you will
/// get multiple `Request` objects simultaneously. This is called *requests pipelining*.
/// Tiny-http automatically reorders the responses so that you don't need to worry about the order
/// in which you call `respond` or `into_writer`.
///
/// This mechanic is disabled if:
///
///  - The body of a request is large enough (handling requires pipelining requires storing the
///    body of the request in a buffer ; if the body is too big, tiny-http will avoid doing that)
///  - A request sends a `Expect: 100-continue` header (which means that the client waits to
///    know whether its body will be processed before sending it)
///  - A request sends a `Connection: close` header or `Connection: upgrade` header (used for
///    websockets), which indicates that this is the last request that will be received on this
///    connection
///
/// # Automatic cleanup
///
/// If a `Request` object is destroyed without `into_writer` or `respond` being called,
/// an empty response with a 500 status code (internal server error) will automatically be
/// sent back to the client.
/// This means that if your code fails during the handling of a request, this "internal server
/// error" response will automatically be sent during the stack unwinding.
///
/// # Testing
///
/// If you want to build fake requests to test your server, use [`TestRequest`](crate::test::TestRequest).
pub struct Request {
    // where to read the body from
    data_reader: Option<Box<dyn Read + Send + 'static>>,

    // if this writer is empty, then the request has been answered
    response_writer: Option<Box<dyn Write + Send + 'static>>,

    remote_addr: Option<SocketAddr>,

    // true if HTTPS, false if HTTP
    secure: bool,

    method: Method,

    path: String,

    http_version: HTTPVersion,

    headers: Vec<Header>,

    body_length: Option<usize>,

    // true if a `100 Continue` response must be sent when `as_reader()` is called
    must_send_continue: bool,

    // If Some, a message must be sent after responding
    notify_when_responded: Option<Connection>,

    // shopbot patch: the body is over the connection's `buffer_body_up_to`
    // and was not read, so the connection cannot carry another request
    pub(crate) body_left_unread: bool,

    // shopbot patch (23): the connection's prompt deadline, for
    // `respond_promptly` (`None` for a request not read from a socket)
    prompt_deadline: Option<Arc<AtomicU64>>,
}

/// What a request tells the thread of its connection (shopbot patches: the
/// connection's requests handed over in turn, and patch 24).
pub(crate) enum Handback {
    /// The request was answered, or its connection taken over.
    Answered,
    /// A request and its answer, for the connection's thread to write.
    Write(Request, ResponseBox),
}

/// The way back to the thread of a request's connection (shopbot patch 24).
pub(crate) struct Connection {
    sender: SyncSender<Handback>,
    /// The thread waits for this request's answer (one request at a time),
    /// so it can be given the answer to write.
    waits: bool,
}

impl Connection {
    pub(crate) fn new(sender: SyncSender<Handback>, waits: bool) -> Connection {
        Connection { sender, waits }
    }

    /// Tells the thread the request is answered (the connection may have
    /// ended already: no panic).
    fn answered(&self) {
        self.sender.send(Handback::Answered).ok();
    }
}

struct NotifyOnDrop<R> {
    sender: Connection,
    inner: R,
}

impl<R: Read> Read for NotifyOnDrop<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}
impl<R: Write> Write for NotifyOnDrop<R> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
impl<R> Drop for NotifyOnDrop<R> {
    fn drop(&mut self) {
        self.sender.answered();
    }
}

/// Error that can happen when building a `Request` object.
#[derive(Debug)]
pub enum RequestCreationError {
    /// The client sent an `Expect` header that was not recognized by tiny-http.
    ExpectationFailed,

    /// Error while reading data from the socket during the creation of the `Request`.
    CreationIoError(IoError),

    /// The body's framing is invalid or ambiguous: refuse with this status
    /// and close the connection (shopbot patch).
    BadFraming(u16),
}

/// How a request's body is delimited (RFC 9112 §6.3) (shopbot patch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Neither `Transfer-Encoding` nor `Content-Length`: no body.
    Empty,
    /// `Content-Length`.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// The framing of a request with these headers, or the status to refuse it
/// with (the connection must then close, since where the next request starts
/// is unknown). Two parsers must never read one request differently, so
/// anything that one could read one way and another a different way is
/// refused (shopbot patch; tiny_http 0.12 read an invalid `Content-Length` as
/// 0 and any `Transfer-Encoding` as chunked, which let a body pass as the next
/// request):
///
/// - `Transfer-Encoding` with `Content-Length`: `400` (§6.1 allows it, but a
///   front end going by the length sees a different message);
/// - `Transfer-Encoding` in an HTTP/1.0 request: `400` (§6.1: faulty framing);
/// - codings whose last is not `chunked` (`gzip`, `identity`, `xchunked`):
///   `400` (§6.3: the length cannot be determined, the server MUST answer
///   `400` and close); `chunked` twice: `400` (§7);
/// - another coding before the final `chunked` (`gzip, chunked`): `501 Not
///   Implemented` (§6.1: the framing is known, but not the coding);
/// - `Content-Length` other than one field line of digits that fits in a
///   `usize` (empty, signed, hex, a list such as `5, 5`, two field lines, too
///   large): `400` (§6.3; RFC 9110 §8.6 lets a recipient reject even a list of
///   equal values, and nothing legitimate sends one).
pub(crate) fn framing(headers: &[Header], version: &HTTPVersion) -> Result<Framing, u16> {
    let mut lengths = headers
        .iter()
        .filter(|h| h.field.equiv("Content-Length"))
        .map(|h| h.value.as_str());
    let mut codings = Vec::new();
    let mut has_transfer_encoding = false;
    for header in headers
        .iter()
        .filter(|h| h.field.equiv("Transfer-Encoding"))
    {
        has_transfer_encoding = true;
        codings.extend(
            header
                .value
                .as_str()
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty()),
        );
    }

    if has_transfer_encoding {
        if lengths.next().is_some() || *version < HTTPVersion(1, 1) {
            return Err(400);
        }
        let is_chunked = |coding: &&str| coding.eq_ignore_ascii_case("chunked");
        return match codings.split_last() {
            Some((last, before)) if is_chunked(last) => {
                if before.iter().any(is_chunked) {
                    Err(400)
                } else if !before.is_empty() {
                    Err(501)
                } else {
                    Ok(Framing::Chunked)
                }
            }
            _ => Err(400),
        };
    }

    match (lengths.next(), lengths.next()) {
        (None, _) => Ok(Framing::Empty),
        (Some(value), None) => parse_content_length(value).map(Framing::Length).ok_or(400),
        (Some(_), Some(_)) => Err(400),
    }
}

/// `Content-Length = 1*DIGIT` (RFC 9110 §8.6), in a `usize` (shopbot patch).
fn parse_content_length(value: &str) -> Option<usize> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

impl From<IoError> for RequestCreationError {
    fn from(err: IoError) -> RequestCreationError {
        RequestCreationError::CreationIoError(err)
    }
}

/// Builds a new request.
///
/// After the request line and headers have been read from the socket, a new `Request` object
/// is built.
///
/// You must pass a `Read` that will allow the `Request` object to read from the incoming data.
/// It is the responsibility of the `Request` to read only the data of the request and not further.
///
/// The `Write` object will be used by the `Request` to write the response.
///
/// With `buffer_body_up_to`, see [`Limits::buffer_body_up_to`](crate::Limits) (shopbot patch).
#[allow(clippy::too_many_arguments)]
pub fn new_request<R, W>(
    secure: bool,
    method: Method,
    path: String,
    version: HTTPVersion,
    headers: Vec<Header>,
    remote_addr: Option<SocketAddr>,
    mut source_data: R,
    mut writer: W,
    buffer_body_up_to: Option<usize>,
) -> Result<Request, RequestCreationError>
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    // shopbot patch: one reading of the framing, or a refusal (RFC 9112 §6.3)
    let framing = framing(&headers, &version).map_err(RequestCreationError::BadFraming)?;
    let chunked = framing == Framing::Chunked;
    let content_length = match framing {
        Framing::Length(n) => Some(n),
        Framing::Chunked | Framing::Empty => None,
    };

    // true if the client sent a `Expect: 100-continue` header
    let expects_continue = {
        match headers
            .iter()
            .find(|h: &&Header| h.field.equiv("Expect"))
            .map(|h| h.value.as_str())
        {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("100-continue") => true,
            _ => return Err(RequestCreationError::ExpectationFailed),
        }
    };

    // true if the client sent a `Connection: upgrade` header (shopbot patch
    // 19: the token `upgrade`, not any value containing the letters)
    let connection_upgrade = headers
        .iter()
        .find(|h: &&Header| h.field.equiv("Connection"))
        .map_or(false, |h| {
            h.value
                .as_str()
                .split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
        });
    // shopbot patch (19): an upgrade hands the application the raw stream,
    // so a body declared with it would be read as more than its length, and
    // whatever followed it as part of it: refused.
    if connection_upgrade && framing != Framing::Empty {
        return Err(RequestCreationError::BadFraming(400));
    }

    let mut must_send_continue = expects_continue;
    let mut body_left_unread = false;

    // we wrap `source_data` around a reading whose nature depends on the transfer-encoding and
    // content-length headers
    let reader = if connection_upgrade {
        // if we have a `Connection: upgrade`, always keeping the whole reader
        Box::new(source_data) as Box<dyn Read + Send + 'static>
    } else if let Some(limit) = buffer_body_up_to {
        if expects_continue && content_length.map_or(true, |n| n <= limit) {
            // the body will be read now: invite the client to send it
            let msg = Response::new_empty(StatusCode(100));
            msg.raw_print(&mut writer, version.clone(), &headers, true, None)?;
            writer.flush()?;
            must_send_continue = false;
        }
        let (reader, unread) = read_body_up_to(source_data, content_length, chunked, limit)?;
        body_left_unread = unread;
        reader
    } else if let Some(content_length) = content_length {
        if content_length == 0 {
            Box::new(io::empty()) as Box<dyn Read + Send + 'static>
        } else if content_length <= 1024 && !expects_continue {
            // if the content-length is small enough, we just read everything into a buffer

            let mut buffer = vec![0; content_length];
            let mut offset = 0;

            while offset != content_length {
                let read = source_data.read(&mut buffer[offset..])?;
                if read == 0 {
                    // the socket returned EOF, but we were before the expected content-length
                    // aborting
                    let info = "Connection has been closed before we received enough data";
                    let err = IoError::new(ErrorKind::ConnectionAborted, info);
                    return Err(RequestCreationError::CreationIoError(err));
                }

                offset += read;
            }

            Box::new(Cursor::new(buffer)) as Box<dyn Read + Send + 'static>
        } else {
            let (data_reader, _) = EqualReader::new(source_data, content_length); // TODO:
            Box::new(FusedReader::new(data_reader)) as Box<dyn Read + Send + 'static>
        }
    } else if chunked {
        Box::new(FusedReader::new(Decoder::new(source_data))) as Box<dyn Read + Send + 'static>
    } else {
        // if we have neither a Content-Length nor a Transfer-Encoding,
        // assuming that we have no data
        // TODO: could also be multipart/byteranges
        Box::new(io::empty()) as Box<dyn Read + Send + 'static>
    };

    Ok(Request {
        data_reader: Some(reader),
        response_writer: Some(Box::new(writer) as Box<dyn Write + Send + 'static>),
        remote_addr,
        secure,
        method,
        path,
        http_version: version,
        headers,
        body_length: content_length,
        must_send_continue,
        notify_when_responded: None,
        body_left_unread,
        prompt_deadline: None,
    })
}

/// Reads a body of at most `limit` bytes whole (in the connection's thread,
/// under the request deadline); a larger one is left for the handler, to read
/// or not, and `true` says so: the connection must then close (shopbot patch).
fn read_body_up_to<R>(
    mut source: R,
    content_length: Option<usize>,
    chunked: bool,
    limit: usize,
) -> io::Result<(Box<dyn Read + Send + 'static>, bool)>
where
    R: Read + Send + 'static,
{
    match content_length {
        _ if chunked => read_chunked_up_to(source, limit),
        None | Some(0) => Ok((Box::new(io::empty()), false)),
        Some(n) if n > limit => Ok((Box::new(Declared(source.take(n as u64))), true)),
        Some(n) => {
            let mut body = vec![0; n];
            source.read_exact(&mut body).map_err(|e| match e.kind() {
                ErrorKind::UnexpectedEof => IoError::new(ErrorKind::ConnectionAborted, e),
                _ => e,
            })?;
            Ok((Box::new(Cursor::new(body)), false))
        }
    }
}

/// A body of a declared length left to the handler: like `Take`, but a
/// connection that ends before the declared length is an error (RFC 9112 §8:
/// the message is incomplete), not a shorter body (shopbot patch 18).
struct Declared<R>(io::Take<R>);

impl<R: Read> Read for Declared<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.0.read(buf)? {
            0 if self.0.limit() > 0 && !buf.is_empty() => Err(IoError::new(
                ErrorKind::UnexpectedEof,
                format!("the body ended {} bytes short of its Content-Length", self.0.limit()),
            )),
            n => Ok(n),
        }
    }
}

/// [`read_body_up_to`] for a chunked body. While reading ahead, the raw bytes
/// (data and chunk framing) are capped too, since chunk-size lines have no
/// length limit of their own.
fn read_chunked_up_to<R>(
    source: R,
    limit: usize,
) -> io::Result<(Box<dyn Read + Send + 'static>, bool)>
where
    R: Read + Send + 'static,
{
    let raw_limit = (limit as u64).saturating_mul(2).saturating_add(4096);
    let mut decoder = Decoder::new(source.take(raw_limit));
    let mut body = Vec::new();
    decoder
        .by_ref()
        .take(limit as u64 + 1)
        .read_to_end(&mut body)?;
    if body.len() <= limit {
        if decoder.remaining_chunks_size().is_some() {
            let info = "Connection has been closed before the end of the chunked body";
            return Err(IoError::new(ErrorKind::ConnectionAborted, info));
        }
        return Ok((Box::new(Cursor::new(body)), false));
    }
    decoder.get_mut().set_limit(u64::MAX);
    let rest = FusedReader::new(decoder);
    Ok((Box::new(Cursor::new(body).chain(rest)), true))
}

impl Request {
    /// Returns true if the request was made through HTTPS.
    #[inline]
    pub fn secure(&self) -> bool {
        self.secure
    }

    /// Returns the method requested by the client (eg. `GET`, `POST`, etc.).
    #[inline]
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// Returns the resource requested by the client.
    #[inline]
    pub fn url(&self) -> &str {
        &self.path
    }

    /// Returns a list of all headers sent by the client.
    #[inline]
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// Returns the HTTP version of the request.
    #[inline]
    pub fn http_version(&self) -> &HTTPVersion {
        &self.http_version
    }

    /// Returns the length of the body in bytes.
    ///
    /// Returns `None` if the length is unknown.
    #[inline]
    pub fn body_length(&self) -> Option<usize> {
        self.body_length
    }

    /// Returns the address of the client that sent this request.
    ///
    /// The address is always `Some` for TCP listeners, but always `None` for UNIX listeners
    /// (as the remote address of a UNIX client is almost always unnamed).
    ///
    /// Note that this is gathered from the socket. If you receive the request from a proxy,
    /// this function will return the address of the proxy and not the address of the actual
    /// user.
    #[inline]
    pub fn remote_addr(&self) -> Option<&SocketAddr> {
        self.remote_addr.as_ref()
    }

    /// Sends a response with a `Connection: upgrade` header, then turns the `Request` into a `Stream`.
    ///
    /// The main purpose of this function is to support websockets.
    /// If you detect that the request wants to use some kind of protocol upgrade, you can
    ///  call this function to obtain full control of the socket stream.
    ///
    /// If you call this on a non-websocket request, tiny-http will wait until this `Stream` object
    ///  is destroyed before continuing to read or write on the socket. Therefore you should always
    ///  destroy it as soon as possible.
    pub fn upgrade<R: Read>(
        mut self,
        protocol: &str,
        response: Response<R>,
    ) -> Box<dyn ReadWrite + Send> {
        use crate::util::CustomStream;

        response
            .raw_print(
                self.response_writer.as_mut().unwrap().by_ref(),
                self.http_version.clone(),
                &self.headers,
                false,
                Some(protocol),
            )
            .ok(); // TODO: unused result

        self.response_writer.as_mut().unwrap().flush().ok(); // TODO: unused result

        let stream = CustomStream::new(self.extract_reader_impl(), self.extract_writer_impl());
        if let Some(sender) = self.notify_when_responded.take() {
            let stream = NotifyOnDrop {
                sender,
                inner: stream,
            };
            Box::new(stream) as Box<dyn ReadWrite + Send>
        } else {
            Box::new(stream) as Box<dyn ReadWrite + Send>
        }
    }

    /// Allows to read the body of the request.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # extern crate rustc_serialize;
    /// # extern crate tiny_http;
    /// # use rustc_serialize::json::Json;
    /// # use std::io::Read;
    /// # fn get_content_type(_: &tiny_http::Request) -> &'static str { "" }
    /// # fn main() {
    /// # let server = tiny_http::Server::http("0.0.0.0:0").unwrap();
    /// let mut request = server.recv().unwrap();
    ///
    /// if get_content_type(&request) == "application/json" {
    ///     let mut content = String::new();
    ///     request.as_reader().read_to_string(&mut content).unwrap();
    ///     let json: Json = content.parse().unwrap();
    /// }
    /// # }
    /// ```
    ///
    /// If the client sent a `Expect: 100-continue` header with the request, calling this
    ///  function will send back a `100 Continue` response.
    #[inline]
    pub fn as_reader(&mut self) -> &mut dyn Read {
        if self.must_send_continue {
            let msg = Response::new_empty(StatusCode(100));
            msg.raw_print(
                self.response_writer.as_mut().unwrap().by_ref(),
                self.http_version.clone(),
                &self.headers,
                true,
                None,
            )
            .ok();
            self.response_writer.as_mut().unwrap().flush().ok();
            self.must_send_continue = false;
        }

        self.data_reader.as_mut().unwrap()
    }

    /// Turns the `Request` into a writer.
    ///
    /// The writer has a raw access to the stream to the user.
    /// This function is useful for things like CGI.
    ///
    /// Note that the destruction of the `Writer` object may trigger
    /// some events. For exemple if a client has sent multiple requests and the requests
    /// have been processed in parallel, the destruction of a writer will trigger
    /// the writing of the next response.
    /// Therefore you should always destroy the `Writer` as soon as possible.
    #[inline]
    pub fn into_writer(mut self) -> Box<dyn Write + Send + 'static> {
        let writer = self.extract_writer_impl();
        if let Some(sender) = self.notify_when_responded.take() {
            let writer = NotifyOnDrop {
                sender,
                inner: writer,
            };
            Box::new(writer) as Box<dyn Write + Send + 'static>
        } else {
            writer
        }
    }

    /// Extract the response `Writer` object from the Request, dropping this `Writer` has the same side effects
    /// as the object returned by `into_writer` above.
    ///
    /// This may only be called once on a single request.
    fn extract_writer_impl(&mut self) -> Box<dyn Write + Send + 'static> {
        use std::mem;

        assert!(self.response_writer.is_some());

        let mut writer = None;
        mem::swap(&mut self.response_writer, &mut writer);
        writer.unwrap()
    }

    /// Extract the body `Reader` object from the Request.
    ///
    /// This may only be called once on a single request.
    fn extract_reader_impl(&mut self) -> Box<dyn Read + Send + 'static> {
        use std::mem;

        assert!(self.data_reader.is_some());

        let mut reader = None;
        mem::swap(&mut self.data_reader, &mut reader);
        reader.unwrap()
    }

    /// Sends a response to this request.
    #[inline]
    pub fn respond<R>(mut self, response: Response<R>) -> Result<(), IoError>
    where
        R: Read,
    {
        let res = self.respond_impl(response);
        if let Some(connection) = self.notify_when_responded.take() {
            connection.answered();
        }
        res
    }

    /// Sends a response to this request, from a thread that must not wait
    /// for the client (shopbot patch 23): the response must be written within
    /// `within` (or the connection's `response_timeout`, if shorter), with no
    /// extension for a slow but reading client. A client that does not take
    /// it in time gets its connection closed, as at the response deadline;
    /// the error is `TimedOut`.
    ///
    /// Meant for small responses to a connection whose earlier responses
    /// are written (`max_requests_in_flight = Some(1)`): the socket's buffers
    /// then take them at once, unless the client has stopped reading. With
    /// more requests in flight, an earlier response still being written on
    /// the connection shares the deadline from when it is set.
    pub fn respond_promptly<R>(
        mut self,
        response: Response<R>,
        within: Duration,
    ) -> Result<(), IoError>
    where
        R: Read,
    {
        let prompt = self.prompt_deadline.take();
        if let Some(prompt) = &prompt {
            let nanos = u64::try_from(within.as_nanos()).unwrap_or(u64::MAX).max(1);
            prompt.store(nanos, Ordering::Relaxed);
        }
        let res = self.respond_impl(response);
        if let Some(prompt) = prompt {
            prompt.store(0, Ordering::Relaxed);
        }
        if let Some(connection) = self.notify_when_responded.take() {
            connection.answered();
        }
        res
    }

    /// Hands this request and its response to the thread of its connection,
    /// which writes it under the usual response deadline (shopbot patch 24):
    /// the calling thread neither writes to the socket nor waits for the
    /// client, and the request is freed by the thread that read it.
    ///
    /// That thread waits for the answer only when the connection takes one
    /// request at a time (`max_requests_in_flight = Some(1)`, or HTTPS).
    /// Otherwise, or when it is gone (the server is closing), or for a
    /// request not read from a connection, the request and response are
    /// given back, to be answered with [`Request::respond`] or
    /// [`Request::respond_promptly`].
    pub fn respond_on_connection(
        mut self,
        response: ResponseBox,
    ) -> Result<(), (Request, ResponseBox)> {
        let connection = match self.notify_when_responded.take() {
            Some(connection) if connection.waits => connection,
            other => {
                self.notify_when_responded = other;
                return Err((self, response));
            }
        };
        match connection.sender.send(Handback::Write(self, response)) {
            Ok(()) => Ok(()),
            Err(SendError(Handback::Write(mut request, response))) => {
                request.notify_when_responded = Some(connection);
                Err((request, response))
            }
            Err(SendError(Handback::Answered)) => unreachable!("a write was sent"),
        }
    }

    fn respond_impl<R>(&mut self, response: Response<R>) -> Result<(), IoError>
    where
        R: Read,
    {
        let mut writer = self.extract_writer_impl();

        let do_not_send_body = self.method == Method::Head;
        // shopbot patch (15): the connection closes after a request whose body
        // was left unread; the answer says so, so no client sends another
        // request on it (it would be taken in as the rest of the body).
        let response = if self.body_left_unread {
            response.with_connection_close()
        } else {
            response
        };

        Self::ignore_client_closing_errors(response.raw_print(
            writer.by_ref(),
            self.http_version.clone(),
            &self.headers,
            do_not_send_body,
            None,
        ))?;

        Self::ignore_client_closing_errors(writer.flush())
    }

    fn ignore_client_closing_errors(result: io::Result<()>) -> io::Result<()> {
        result.or_else(|err| match err.kind() {
            ErrorKind::BrokenPipe => Ok(()),
            ErrorKind::ConnectionAborted => Ok(()),
            ErrorKind::ConnectionRefused => Ok(()),
            ErrorKind::ConnectionReset => Ok(()),
            _ => Err(err),
        })
    }

    pub(crate) fn with_prompt_deadline(mut self, prompt: Arc<AtomicU64>) -> Self {
        self.prompt_deadline = Some(prompt);
        self
    }

    pub(crate) fn with_notify_sender(mut self, connection: Connection) -> Self {
        self.notify_when_responded = Some(connection);
        self
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> Result<(), fmt::Error> {
        write!(
            formatter,
            "Request({} {} from {:?})",
            self.method, self.path, self.remote_addr
        )
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        if self.response_writer.is_some() {
            let response = Response::empty(500);
            let _ = self.respond_impl(response); // ignoring any potential error
            if let Some(connection) = self.notify_when_responded.take() {
                connection.answered();
            }
        }
    }
}

/// Dummy trait that regroups the `Read` and `Write` traits.
///
/// Automatically implemented on all types that implement both `Read` and `Write`.
pub trait ReadWrite: Read + Write {}
impl<T> ReadWrite for T where T: Read + Write {}

#[cfg(test)]
mod tests {
    use super::{framing, Framing, Request};
    use crate::{HTTPVersion, Header};

    fn headers(lines: &[&str]) -> Vec<Header> {
        lines.iter().map(|l| l.parse().unwrap()).collect()
    }

    fn framing_of(lines: &[&str]) -> Result<Framing, u16> {
        framing(&headers(lines), &HTTPVersion(1, 1))
    }

    // shopbot patch
    #[test]
    fn content_length_is_one_field_line_of_digits() {
        assert_eq!(framing_of(&[]), Ok(Framing::Empty));
        assert_eq!(framing_of(&["Content-Length: 5"]), Ok(Framing::Length(5)));
        assert_eq!(framing_of(&["content-length: 005"]), Ok(Framing::Length(5)));
        assert_eq!(framing_of(&["Content-Length: 0"]), Ok(Framing::Length(0)));
        for bad in [
            "Content-Length: ",
            "Content-Length: -5",
            "Content-Length: +5",
            "Content-Length: 0x5",
            "Content-Length: 5, 5",
            "Content-Length: 5 5",
            "Content-Length: 5.0",
            "Content-Length: 99999999999999999999999999",
        ] {
            assert_eq!(framing_of(&[bad]), Err(400), "{}", bad);
        }
        assert_eq!(
            framing_of(&["Content-Length: 5", "Content-Length: 6"]),
            Err(400)
        );
        assert_eq!(
            framing_of(&["Content-Length: 5", "Content-Length: 5"]),
            Err(400)
        );
    }

    // shopbot patch
    #[test]
    fn only_chunked_as_the_final_and_only_coding() {
        assert_eq!(
            framing_of(&["Transfer-Encoding: chunked"]),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framing_of(&["transfer-encoding: Chunked"]),
            Ok(Framing::Chunked)
        );
        for bad in [
            "gzip",
            "identity",
            "xchunked",
            "chunked, gzip",
            "",
            "chunked;x=1",
        ] {
            let line = format!("Transfer-Encoding: {}", bad);
            assert_eq!(framing_of(&[&line]), Err(400), "{}", bad);
        }
        assert_eq!(
            framing_of(&["Transfer-Encoding: chunked, chunked"]),
            Err(400)
        );
        assert_eq!(
            framing_of(&["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"]),
            Err(400)
        );
        assert_eq!(framing_of(&["Transfer-Encoding: gzip, chunked"]), Err(501));
        assert_eq!(
            framing_of(&["Transfer-Encoding: gzip", "Transfer-Encoding: chunked"]),
            Err(501)
        );
    }

    // shopbot patch
    #[test]
    fn transfer_encoding_with_content_length_or_in_http_1_0_is_refused() {
        assert_eq!(
            framing_of(&["Transfer-Encoding: chunked", "Content-Length: 5"]),
            Err(400)
        );
        assert_eq!(
            framing_of(&["Content-Length: 5", "Transfer-Encoding: chunked"]),
            Err(400)
        );
        let te = headers(&["Transfer-Encoding: chunked"]);
        assert_eq!(framing(&te, &HTTPVersion(1, 0)), Err(400));
        let cl = headers(&["Content-Length: 5"]);
        assert_eq!(framing(&cl, &HTTPVersion(1, 0)), Ok(Framing::Length(5)));
    }

    #[test]
    fn must_be_send() {
        #![allow(dead_code)]
        fn f<T: Send>(_: &T) {}
        fn bar(rq: &Request) {
            f(rq);
        }
    }
}
