//! Hostile HTTP clients (issue 14): requests whose framing (RFC 9112 §6) two
//! parsers could read differently. Raw TCP clients over loopback against the
//! real server; every wait and every loop is bounded in time and in count.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::TestServer;

/// A request pipelined after each hostile one: answered `200` only if the
/// server parsed the hostile request's body as the next request.
const SMUGGLED: &str = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    stream
}

/// Everything the server sends on `stream` until it closes the connection, and
/// whether it did within `limit` (a reset counts as closed).
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let give_up = Instant::now() + limit;
    let mut received = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    while Instant::now() < give_up {
        match stream.read(&mut buf) {
            Ok(0) => return (received, true),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => return (received, true),
        }
    }
    (received, false)
}

/// The status codes of the responses in `raw`, in order.
fn statuses(raw: &str) -> Vec<u16> {
    raw.match_indices("HTTP/1.")
        .filter_map(|(i, _)| raw.get(i + 9..i + 12)?.parse().ok())
        .collect()
}

/// Sends `request` on a new connection; what came back until the server closed
/// the connection (or 5 s passed), and whether it closed it.
fn send_raw(addr: &str, request: &[u8]) -> (String, bool) {
    let mut stream = connect(addr);
    // The server may answer and close before reading all of a refused request.
    let _ = stream.write_all(request);
    let (raw, closed) = read_until_closed(&mut stream, Duration::from_secs(5));
    (String::from_utf8_lossy(&raw).into_owned(), closed)
}

/// `request`, then [`SMUGGLED`], must get exactly one answer, `status` with
/// `Connection: close`, and then the connection must close.
fn assert_refused(server: &TestServer, what: &str, request: &str, status: u16) {
    let (raw, closed) = send_raw(&server.addr(), format!("{request}{SMUGGLED}").as_bytes());
    assert_eq!(
        statuses(&raw),
        vec![status],
        "{what}: expected one {status} and nothing else; the server sent {raw:?}"
    );
    assert!(
        raw.to_ascii_lowercase().contains("\r\nconnection: close\r\n"),
        "{what}: no Connection: close in {raw:?}"
    );
    assert!(closed, "{what}: the connection stayed open after {raw:?}");
    assert_eq!(server.get("/healthz").status, 200, "{what}: the server still serves");
}

/// `request`, then a pipelined `GET /healthz`: both answered, in order.
fn assert_served(server: &TestServer, what: &str, request: &str, status: u16) {
    let (raw, _) = send_raw(
        &server.addr(),
        format!("{request}GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    );
    assert_eq!(statuses(&raw), vec![status, 200], "{what}: {raw:?}");
}

/// A form `POST` to the status callback with `headers` (each ending in CRLF) and `body`.
fn post(headers: &str, body: &str) -> String {
    format!(
        "POST /twilio/status HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n{headers}\r\n{body}"
    )
}

/// A chunked body carrying `a=b`.
const CHUNKED_BODY: &str = "3\r\na=b\r\n0\r\n\r\n";

// ---------------------------------------------------------------------------
// 3. Request framing (RFC 9112 §6): one reading, or a 400 and the end.

#[test]
fn a_content_length_too_large_for_a_number_is_400_and_closes() {
    let server = TestServer::start();
    let request = post("Content-Length: 99999999999999999999999999\r\n", "a=b");
    assert_refused(&server, "Content-Length: 99999999999999999999999999", &request, 400);
}

#[test]
fn a_negative_content_length_is_400_and_closes() {
    let server = TestServer::start();
    assert_refused(
        &server,
        "Content-Length: -3",
        &post("Content-Length: -3\r\n", "a=b"),
        400,
    );
}

#[test]
fn a_hex_content_length_is_400_and_closes() {
    let server = TestServer::start();
    assert_refused(
        &server,
        "Content-Length: 0x3",
        &post("Content-Length: 0x3\r\n", "a=b"),
        400,
    );
}

#[test]
fn a_content_length_with_a_plus_sign_is_400_and_closes() {
    let server = TestServer::start();
    assert_refused(
        &server,
        "Content-Length: +3",
        &post("Content-Length: +3\r\n", "a=b"),
        400,
    );
    // Digits only, leading zeros allowed.
    assert_served(
        &server,
        "Content-Length: 003",
        &post("Content-Length: 003\r\n", "a=b"),
        403,
    );
}

#[test]
fn an_empty_content_length_is_400_and_closes() {
    let server = TestServer::start();
    assert_refused(
        &server,
        "Content-Length: (empty)",
        &post("Content-Length: \r\n", "a=b"),
        400,
    );
}

#[test]
fn a_content_length_list_is_400_and_closes() {
    let server = TestServer::start();
    assert_refused(
        &server,
        "Content-Length: 3, 3",
        &post("Content-Length: 3, 3\r\n", "a=b"),
        400,
    );
}

#[test]
fn two_different_content_lengths_are_400_and_close() {
    let server = TestServer::start();
    let request = post("Content-Length: 3\r\nContent-Length: 40\r\n", "a=b");
    assert_refused(&server, "Content-Length: 3 and 40", &request, 400);
}

#[test]
fn transfer_encoding_with_content_length_is_400_and_closes() {
    let server = TestServer::start();
    // A front end going by Content-Length sees one request; one going by
    // Transfer-Encoding sees two.
    let body = format!("0\r\n\r\n{SMUGGLED}");
    let request = post(
        &format!("Transfer-Encoding: chunked\r\nContent-Length: {}\r\n", body.len()),
        &body,
    );
    assert_refused(&server, "Transfer-Encoding and Content-Length", &request, 400);
}

#[test]
fn transfer_encoding_gzip_alone_is_400_and_closes() {
    let server = TestServer::start();
    let request = post("Transfer-Encoding: gzip\r\n", CHUNKED_BODY);
    assert_refused(&server, "Transfer-Encoding: gzip", &request, 400);
}

#[test]
fn transfer_encoding_identity_is_400_and_closes() {
    let server = TestServer::start();
    let request = post("Transfer-Encoding: identity\r\n", CHUNKED_BODY);
    assert_refused(&server, "Transfer-Encoding: identity", &request, 400);
}

#[test]
fn transfer_encoding_xchunked_is_400_and_closes() {
    let server = TestServer::start();
    let request = post("Transfer-Encoding: xchunked\r\n", CHUNKED_BODY);
    assert_refused(&server, "Transfer-Encoding: xchunked", &request, 400);
    // `chunked` is a case-insensitive token.
    let request = post("Transfer-Encoding: Chunked\r\n", CHUNKED_BODY);
    assert_served(&server, "Transfer-Encoding: Chunked", &request, 403);
}

#[test]
fn transfer_encoding_chunked_twice_is_400_and_closes() {
    let server = TestServer::start();
    let request = post(
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        CHUNKED_BODY,
    );
    assert_refused(&server, "Transfer-Encoding: chunked, chunked", &request, 400);
}

#[test]
fn an_unknown_coding_before_chunked_is_501_and_closes() {
    let server = TestServer::start();
    let request = post("Transfer-Encoding: gzip, chunked\r\n", CHUNKED_BODY);
    assert_refused(&server, "Transfer-Encoding: gzip, chunked", &request, 501);
}

#[test]
fn transfer_encoding_in_an_http_1_0_request_is_400_and_closes() {
    let server = TestServer::start();
    let request = post("Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n", CHUNKED_BODY)
        .replacen("HTTP/1.1", "HTTP/1.0", 1);
    assert_refused(&server, "HTTP/1.0 with Transfer-Encoding", &request, 400);
}

#[test]
fn a_bare_cr_in_a_header_is_400_and_closes() {
    let server = TestServer::start();
    let request = post("X-Note: a\rb\r\nContent-Length: 3\r\n", "a=b");
    assert_refused(&server, "a bare CR in a header", &request, 400);
}

#[test]
fn a_bare_lf_in_a_header_is_400_and_closes() {
    let server = TestServer::start();
    let request = post("X-Note: a\nb\r\nContent-Length: 3\r\n", "a=b");
    assert_refused(&server, "a bare LF in a header", &request, 400);
}

#[test]
fn a_folded_header_line_is_400_and_closes() {
    let server = TestServer::start();
    // Unfolded (RFC 9112 §5.2), `Content-Length` is part of `X-Note`'s value.
    let request = post("X-Note: a\r\n Content-Length: 3\r\n", "a=b");
    assert_refused(&server, "an obs-fold line", &request, 400);
}
