use std::convert::TryFrom;
use std::io::Result as IoResult;
use std::io::{Error as IoError, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::connection::Connection;
#[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
use crate::ssl::SslStream;

pub(crate) enum Stream {
    Http(Connection),
    #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
    Https(SslStream),
}

impl Stream {
    // shopbot patch: was `Clone`, which panicked (killing the accept loop)
    // when the process was out of file descriptors
    fn try_clone(&self) -> IoResult<Self> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.try_clone().map(Stream::Http),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => Ok(Stream::Https(ssl_stream.clone())),
        }
    }
}

impl From<Connection> for Stream {
    fn from(tcp_stream: Connection) -> Self {
        Stream::Http(tcp_stream)
    }
}

impl Stream {
    fn secure(&self) -> bool {
        match self {
            Stream::Http(_) => false,
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(_) => true,
        }
    }

    fn peer_addr(&mut self) -> IoResult<Option<SocketAddr>> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.peer_addr(),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.peer_addr(),
        }
    }

    fn shutdown(&mut self, how: Shutdown) -> IoResult<()> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.shutdown(how),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.shutdown(how),
        }
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> IoResult<()> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.set_read_timeout(timeout),
            // The TLS stream owns its socket: the deadline is checked before
            // each read, and the socket keeps the per-read timeout set at accept.
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(_) => Ok(()),
        }
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> IoResult<()> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.set_write_timeout(timeout),
            // As for reads: the deadline is checked before each write.
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(_) => Ok(()),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.read(buf),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> IoResult<usize> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.write(buf),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.write(buf),
        }
    }

    fn flush(&mut self) -> IoResult<()> {
        match self {
            Stream::Http(tcp_stream) => tcp_stream.flush(),
            #[cfg(any(feature = "ssl-openssl", feature = "ssl-rustls"))]
            Stream::Https(ssl_stream) => ssl_stream.flush(),
        }
    }
}

pub struct RefinedTcpStream {
    stream: Stream,
    close_read: bool,
    close_write: bool,
    // shopbot patch: reads fail with `TimedOut` after this instant
    read_deadline: Option<Instant>,
    // the longest wait for one read, besides the deadline
    per_read_timeout: Option<Duration>,
    // the read timeout last set on the socket, to skip needless system calls
    applied_read_timeout: Option<Duration>,
    // shopbot patch: what writing one response may take (the write half)
    response_limits: ResponseLimits,
    // the deadline of the response being written, from its first write
    write_deadline: Option<Instant>,
    // the write timeout last set on the socket
    applied_write_timeout: Option<Duration>,
    // shared by both halves: a write failed, so the connection is done
    broken: Arc<AtomicBool>,
    // shopbot patch (23): while not 0, the deadline (in nanoseconds) of the
    // response being written, shorter than `response_limits` allow and not
    // extended by `min_rate`: the application asked for a prompt answer
    prompt: Arc<AtomicU64>,
}

/// What writing one response may take (shopbot patch; see `Limits`).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ResponseLimits {
    /// From the response's first write until it is flushed.
    pub(crate) timeout: Option<Duration>,
    /// Each byte the client takes extends the deadline by `1 / min_rate` s.
    pub(crate) min_rate: Option<u64>,
    /// The longest wait for one write (the socket's write timeout).
    pub(crate) per_write: Option<Duration>,
}

impl RefinedTcpStream {
    pub(crate) fn new<S>(stream: S) -> IoResult<(RefinedTcpStream, RefinedTcpStream)>
    where
        S: Into<Stream>,
    {
        let stream: Stream = stream.into();

        let (read, write) = (stream.try_clone()?, stream);
        let broken = Arc::new(AtomicBool::new(false));
        let prompt = Arc::new(AtomicU64::new(0));

        let read = RefinedTcpStream {
            stream: read,
            close_read: true,
            close_write: false,
            read_deadline: None,
            per_read_timeout: None,
            applied_read_timeout: None,
            response_limits: ResponseLimits::default(),
            write_deadline: None,
            applied_write_timeout: None,
            broken: broken.clone(),
            prompt: prompt.clone(),
        };

        let write = RefinedTcpStream {
            stream: write,
            close_read: false,
            close_write: true,
            read_deadline: None,
            per_read_timeout: None,
            applied_read_timeout: None,
            response_limits: ResponseLimits::default(),
            write_deadline: None,
            applied_write_timeout: None,
            broken,
            prompt,
        };

        Ok((read, write))
    }

    /// Returns true if this struct wraps around a secure connection.
    #[inline]
    pub(crate) fn secure(&self) -> bool {
        self.stream.secure()
    }

    pub(crate) fn peer_addr(&mut self) -> IoResult<Option<SocketAddr>> {
        self.stream.peer_addr()
    }

    /// Makes every read fail with `TimedOut` once `deadline` has passed, and
    /// wait no longer than the time left (nor than `per_read`, if given), so a
    /// client sending a byte now and then cannot stretch a request (shopbot
    /// patch). `None` lifts the deadline.
    pub(crate) fn set_read_deadline(
        &mut self,
        deadline: Option<Instant>,
        per_read: Option<Duration>,
    ) {
        self.read_deadline = deadline;
        self.per_read_timeout = per_read;
    }

    /// Before a read under a deadline: the time left, set as the socket's read
    /// timeout if it is shorter than `per_read_timeout`.
    fn prepare_read(&mut self, deadline: Instant) -> IoResult<()> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(IoError::new(
                ErrorKind::TimedOut,
                "the request took too long",
            ));
        }
        let timeout = self.per_read_timeout.map_or(left, |t| t.min(left));
        if self.applied_read_timeout != Some(timeout) {
            self.stream.set_read_timeout(Some(timeout))?;
            self.applied_read_timeout = Some(timeout);
        }
        Ok(())
    }

    /// Limits the time each response written through this (write) half may
    /// take (shopbot patch).
    pub(crate) fn set_response_limits(&mut self, limits: ResponseLimits) {
        self.response_limits = limits;
    }

    /// The flag both halves share, set once a write has failed: the
    /// connection cannot carry another response (shopbot patch).
    pub(crate) fn broken_flag(&self) -> Arc<AtomicBool> {
        self.broken.clone()
    }

    /// The prompt deadline both halves share: a [`Request`](crate::Request)
    /// sets it for the response it writes with `respond_promptly` (shopbot
    /// patch 23).
    pub(crate) fn prompt_deadline(&self) -> Arc<AtomicU64> {
        self.prompt.clone()
    }

    /// After a failed write (a part of a response may have gone out, so
    /// nothing more can follow it): marks the connection broken and shuts the
    /// socket down both ways, which also ends a read waiting on the other
    /// half (shopbot patch).
    fn break_connection(&mut self) {
        self.broken.store(true, Ordering::SeqCst);
        self.stream.shutdown(Shutdown::Both).ok();
    }

    /// Before a write under the response deadline: the time left, set as the
    /// socket's write timeout if shorter than the per-write timeout.
    fn prepare_write(&mut self, deadline: Instant) -> IoResult<()> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(IoError::new(
                ErrorKind::TimedOut,
                "the client did not take the response in time",
            ));
        }
        let timeout = self.response_limits.per_write.map_or(left, |t| t.min(left));
        if self.applied_write_timeout != Some(timeout) {
            self.stream.set_write_timeout(Some(timeout))?;
            self.applied_write_timeout = Some(timeout);
        }
        Ok(())
    }

    fn write_in_time(&mut self, buf: &[u8]) -> IoResult<usize> {
        let prompt = match self.prompt.load(Ordering::Relaxed) {
            0 => None,
            nanos => Some(Duration::from_nanos(nanos)),
        };
        let timeout = match (self.response_limits.timeout, prompt) {
            (None, None) => return self.stream.write(buf),
            (Some(timeout), None) | (None, Some(timeout)) => timeout,
            (Some(timeout), Some(prompt)) => timeout.min(prompt),
        };
        let deadline = *self
            .write_deadline
            .get_or_insert_with(|| Instant::now() + timeout);
        self.prepare_write(deadline)?;
        // a socket timeout is `WouldBlock` on Unix, `TimedOut` on Windows
        let written = self.stream.write(buf).map_err(|e| match e.kind() {
            ErrorKind::WouldBlock => IoError::new(ErrorKind::TimedOut, e),
            _ => e,
        })?;
        if let (Some(rate), Some(deadline), None) =
            (self.response_limits.min_rate, self.write_deadline, prompt)
        {
            if rate > 0 {
                let nanos = (written as u128).saturating_mul(1_000_000_000) / u128::from(rate);
                let more = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
                self.write_deadline = deadline.checked_add(more).or(Some(deadline));
            }
        }
        Ok(written)
    }
}

impl Drop for RefinedTcpStream {
    fn drop(&mut self) {
        if self.close_read {
            self.stream.shutdown(Shutdown::Read).ok();
        }

        if self.close_write {
            self.stream.shutdown(Shutdown::Write).ok();
        }
    }
}

impl Read for RefinedTcpStream {
    fn read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        match self.read_deadline {
            None => self.stream.read(buf),
            Some(deadline) => {
                self.prepare_read(deadline)?;
                // a socket timeout is `WouldBlock` on Unix, `TimedOut` on Windows
                self.stream.read(buf).map_err(|e| match e.kind() {
                    ErrorKind::WouldBlock => IoError::new(ErrorKind::TimedOut, e),
                    _ => e,
                })
            }
        }
    }
}

impl Write for RefinedTcpStream {
    // shopbot patch: each response under its deadline (see `Limits`); after a
    // failed write the connection is closed and every later write fails at once
    fn write(&mut self, buf: &[u8]) -> IoResult<usize> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(IoError::new(
                ErrorKind::BrokenPipe,
                "the connection was closed after a failed write",
            ));
        }
        self.write_in_time(buf).map_err(|e| {
            if e.kind() != ErrorKind::Interrupted {
                self.break_connection();
            }
            e
        })
    }

    /// Ends the response being written: the next write starts a new deadline.
    fn flush(&mut self) -> IoResult<()> {
        self.write_deadline = None;
        self.stream.flush()
    }
}
