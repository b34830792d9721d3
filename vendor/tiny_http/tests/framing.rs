// shopbot patch: request framing (RFC 9112 §6) and header lines (§2.2, §5.2)
// that two parsers could read differently are refused, and the connection
// closes, so a body can never pass as the next request. With no `Limits`:
// this is tiny_http's own behaviour now.

extern crate tiny_http;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tiny_http::Server;

const SMUGGLED: &str = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

/// Sends `head`, `body` and then [`SMUGGLED`] to a server that answers
/// nothing itself; checks the one answer is `status` with `Connection:
/// close`, that the connection then closes, and that no request at all was
/// handed over.
fn assert_refused(head: &str, body: &str, status: u16) {
    let server = Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // The server may refuse the head and close before the rest arrives: a
    // failed write is fine, the answer is what counts.
    let _ = write!(client, "{}\r\n{}{}", head, body, SMUGGLED);
    let mut answer = String::new();
    client
        .read_to_string(&mut answer)
        .expect("the connection closes after the answer");
    assert_eq!(
        answer.get(9..13),
        Some(format!("{} ", status).as_str()),
        "{:?}: {:?}",
        head,
        answer
    );
    assert_eq!(answer.matches("HTTP/1.").count(), 1, "{:?}", answer);
    assert!(answer.contains("\r\nConnection: close\r\n"), "{:?}", answer);
    let handed_over = server.recv_timeout(Duration::from_millis(100)).unwrap();
    assert!(
        handed_over.is_none(),
        "{:?}: a request was handed over",
        head
    );
}

fn post(headers: &str) -> String {
    format!("POST / HTTP/1.1\r\nHost: x\r\n{}", headers)
}

#[test]
fn an_invalid_content_length_is_400() {
    for value in ["", "-3", "+3", "0x3", "3, 3", "99999999999999999999999999"] {
        assert_refused(&post(&format!("Content-Length: {}\r\n", value)), "a=b", 400);
    }
}

#[test]
fn two_content_lengths_are_400() {
    assert_refused(
        &post("Content-Length: 3\r\nContent-Length: 40\r\n"),
        "a=b",
        400,
    );
}

#[test]
fn transfer_encoding_with_content_length_is_400() {
    let body = format!("0\r\n\r\n{}", SMUGGLED);
    let head = post(&format!(
        "Transfer-Encoding: chunked\r\nContent-Length: {}\r\n",
        body.len()
    ));
    assert_refused(&head, &body, 400);
}

#[test]
fn a_final_coding_other_than_chunked_is_400_and_another_coding_501() {
    let body = "3\r\na=b\r\n0\r\n\r\n";
    for coding in ["gzip", "identity", "xchunked", "chunked, chunked"] {
        assert_refused(
            &post(&format!("Transfer-Encoding: {}\r\n", coding)),
            body,
            400,
        );
    }
    assert_refused(&post("Transfer-Encoding: gzip, chunked\r\n"), body, 501);
    let http_1_0 = post("Transfer-Encoding: chunked\r\n").replacen("HTTP/1.1", "HTTP/1.0", 1);
    assert_refused(&http_1_0, body, 400);
}

#[test]
fn bare_cr_bare_lf_nul_folded_lines_and_empty_names_are_400() {
    for headers in [
        "X-A: a\rb\r\nContent-Length: 3\r\n",
        "X-A: a\nb\r\nContent-Length: 3\r\n",
        "X-A: a\0b\r\nContent-Length: 3\r\n",
        "X-A: a\r\n Content-Length: 3\r\n",
        "X-A: a\r\n\tContent-Length: 3\r\n",
        ": a\r\nContent-Length: 3\r\n",
    ] {
        assert_refused(&post(headers), "a=b", 400);
    }
    assert_refused("GET /\r HTTP/1.1\r\n", "", 400);
}

#[test]
fn valid_framing_is_read_exactly() {
    let server = Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        client,
        "POST /a HTTP/1.1\r\nContent-Length: 003\r\n\r\na=b\
         POST /b HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nc=d\r\n0\r\n\r\n\
         GET /c HTTP/1.1\r\n\r\n"
    )
    .unwrap();
    for (path, body) in [("/a", "a=b"), ("/b", "c=d"), ("/c", "")] {
        let mut rq = server
            .recv_timeout(Duration::from_secs(5))
            .unwrap()
            .unwrap();
        assert_eq!(rq.url(), path);
        let mut read = String::new();
        rq.as_reader().read_to_string(&mut read).unwrap();
        assert_eq!(read, body);
    }
}

// shopbot patch (19): found by shopbot's http_head fuzz target, which read a
// `Connection: …upgrade…` request's whole stream as its 4-byte body.
#[test]
fn an_upgrade_with_a_body_is_refused_and_only_the_upgrade_token_upgrades() {
    assert_refused(
        "POST / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 4\r\n",
        "abcd",
        400,
    );
}
