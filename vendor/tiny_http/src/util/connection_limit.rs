//! Counting open connections, refusing one over the limit without a thread,
//! and keeping a flood of refusals or accept errors out of the log (shopbot
//! patch).

use std::io::{Read, Write};
use std::net::Shutdown;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::connection::Connection;

/// One open connection, counted in the shared total until dropped.
pub struct ConnectionSlot(Arc<AtomicUsize>);

impl ConnectionSlot {
    /// Counts one more open connection.
    pub fn take(open: &Arc<AtomicUsize>) -> ConnectionSlot {
        open.fetch_add(1, SeqCst);
        ConnectionSlot(open.clone())
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Retry-After: 1\r\n\
Content-Type: text/plain; charset=UTF-8\r\n\
Content-Length: 29\r\n\
Connection: close\r\n\
\r\n\
too many connections; retry\r\n";

/// Answers `503 Service Unavailable` and closes, from the accept loop's own
/// thread and without blocking it: the socket is made non-blocking, and the
/// short answer fits in a new socket's send buffer.
pub(crate) fn refuse_connection(mut sock: Connection) {
    if sock.set_nonblocking(true).is_err() {
        return;
    }
    // Take in what the request has sent so far: closing a socket with unread
    // data resets the connection, and the client might lose the answer.
    let mut buf = [0; 4096];
    for _ in 0..4 {
        match sock.read(&mut buf) {
            Ok(n) if n > 0 => continue,
            _ => break,
        }
    }
    let _ = sock.write_all(BUSY);
    let _ = sock.shutdown(Shutdown::Write);
}

/// Counts events and says when to log them: the first at once, then at most
/// one line every ten seconds, with the number of events since the last one.
#[derive(Default)]
pub struct LogThrottle {
    unlogged: u64,
    last_logged: Option<Instant>,
}

impl LogThrottle {
    /// Counts one event; `Some(n)`: log it now, as `n` events.
    pub fn count(&mut self) -> Option<u64> {
        self.unlogged += 1;
        if self
            .last_logged
            .map_or(false, |t| t.elapsed() < Duration::from_secs(10))
        {
            return None;
        }
        self.last_logged = Some(Instant::now());
        Some(std::mem::replace(&mut self.unlogged, 0))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_throttle_logs_the_first_event_then_holds_back() {
        let mut throttle = super::LogThrottle::default();
        assert_eq!(throttle.count(), Some(1));
        assert_eq!(throttle.count(), None);
        assert_eq!(throttle.count(), None);
    }

    #[test]
    fn the_busy_answer_declares_its_length() {
        let text = std::str::from_utf8(super::BUSY).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())));
    }
}
