// shopbot patch: tests for `Server::from_listener_with_limits` and the task
// pool's handling of a burst of connections.

extern crate tiny_http;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use tiny_http::{Limits, Response, Server};

/// A server with `limits` answering "hello" to every request, and its address.
fn hello_server(limits: Limits) -> (Arc<Server>, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = Arc::new(Server::from_listener_with_limits(listener, None, limits).unwrap());
    let inner = server.clone();
    thread::spawn(move || {
        for rq in inner.incoming_requests() {
            let _ = rq.respond(Response::from_string("hello"));
        }
    });
    (server, addr)
}

fn connect(addr: &str) -> TcpStream {
    let client = TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    client
}

/// The status code of the next response, or `None` if the connection ended first.
fn status(client: &mut TcpStream) -> Option<u16> {
    let mut head = Vec::new();
    let mut byte = [0];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    std::str::from_utf8(head.get(9..12)?).ok()?.parse().ok()
}

#[test]
fn a_request_sent_slowly_is_cut_off_at_the_deadline() {
    let (_server, addr) = hello_server(Limits {
        read_timeout: Some(Duration::from_secs(5)),
        request_timeout: Some(Duration::from_millis(500)),
        ..Limits::default()
    });
    let mut client = connect(&addr);
    let started = Instant::now();
    // One byte every 100 ms: no single read waits long, the request never ends.
    for &byte in b"GET / HTTP/1.1\r\nX-Slow: ".iter() {
        if client.write_all(&[byte]).is_err() {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status(&mut client), Some(408));
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn an_idle_connection_is_closed_at_the_deadline_without_an_answer() {
    let (_server, addr) = hello_server(Limits {
        request_timeout: Some(Duration::from_millis(300)),
        ..Limits::default()
    });
    let mut client = connect(&addr);
    write!(client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(status(&mut client), Some(200));
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"hello");
}

#[test]
fn heads_over_the_limits_are_refused() {
    let (_server, addr) = hello_server(Limits {
        max_header_line: Some(100),
        max_header_bytes: Some(300),
        max_headers: Some(3),
        ..Limits::default()
    });
    let long = "a".repeat(101);
    let cases = [
        (format!("GET /{} HTTP/1.1\r\n\r\n", long), 414),
        (format!("GET / HTTP/1.1\r\nX-A: {}\r\n\r\n", long), 431),
        (
            format!("GET / HTTP/1.1\r\n{}\r\n", "X-A: a\r\n".repeat(4)),
            431,
        ),
        (
            format!(
                "GET / HTTP/1.1\r\n{}\r\n",
                format!("X-A: {}\r\n", &long[..90]).repeat(3)
            ),
            431,
        ),
        (
            format!("GET / HTTP/1.1\r\n{}\r\n", "X-A: a\r\n".repeat(3)),
            200,
        ),
    ];
    for (request, expected) in cases.iter() {
        let mut client = connect(&addr);
        client.write_all(request.as_bytes()).unwrap();
        assert_eq!(status(&mut client), Some(*expected), "{}", request);
    }
}

#[test]
fn a_small_body_is_read_before_the_request_is_handed_over() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let limits = Limits {
        buffer_body_up_to: Some(4096),
        ..Limits::default()
    };
    let server = Server::from_listener_with_limits(listener, None, limits).unwrap();
    let mut client = connect(&addr);
    write!(client, "POST / HTTP/1.1\r\nContent-Length: 2000\r\n\r\n").unwrap();
    thread::sleep(Duration::from_millis(200));
    assert!(
        server.try_recv().unwrap().is_none(),
        "handed over before its body"
    );
    client.write_all(&[b'x'; 2000]).unwrap();
    let mut rq = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut body = Vec::new();
    rq.as_reader().read_to_end(&mut body).unwrap();
    assert_eq!(body.len(), 2000);
}

#[test]
fn a_large_body_is_handed_over_unread_and_the_connection_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let limits = Limits {
        buffer_body_up_to: Some(4096),
        request_timeout: Some(Duration::from_secs(30)),
        ..Limits::default()
    };
    let server = Server::from_listener_with_limits(listener, None, limits).unwrap();
    let mut client = connect(&addr);
    write!(
        client,
        "POST / HTTP/1.1\r\nContent-Length: 1000000000\r\n\r\n"
    )
    .unwrap();
    let rq = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    assert_eq!(rq.body_length(), Some(1_000_000_000));
    rq.respond(Response::empty(413)).unwrap();
    assert_eq!(status(&mut client), Some(413));
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
}

#[test]
fn an_http_2_request_line_is_answered_505_and_the_connection_closes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let limits = Limits {
        buffer_body_up_to: Some(16),
        request_timeout: Some(Duration::from_secs(30)),
        ..Limits::default()
    };
    let server = Server::from_listener_with_limits(listener, None, limits).unwrap();
    let mut client = connect(&addr);
    let smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    write!(
        client,
        "POST / HTTP/2.0\r\nContent-Length: {}\r\n\r\n{smuggled}",
        smuggled.len()
    )
    .unwrap();
    assert_eq!(status(&mut client), Some(505));
    let mut rest = Vec::new();
    client.read_to_end(&mut rest).unwrap();
    let handed_over = server.recv_timeout(Duration::from_millis(500)).unwrap();
    assert!(handed_over.is_none(), "the body was parsed as a request");
}

#[test]
fn connections_over_the_limit_get_503() {
    let (_server, addr) = hello_server(Limits {
        max_connections: Some(2),
        ..Limits::default()
    });
    let _held = (connect(&addr), connect(&addr));
    let mut extra = connect(&addr);
    let _ = write!(extra, "GET / HTTP/1.1\r\n\r\n");
    assert_eq!(status(&mut extra), Some(503));
}

#[test]
fn a_burst_of_keep_alive_connections_is_answered_at_once() {
    let (_server, addr) = hello_server(Limits::default());
    // Once the pool's idle threads are waiting, all connect and send at once,
    // from one thread: the accept loop takes them in a tight loop, faster than
    // idle threads wake up. (This catches the task pool's old bug only now and
    // then; its unit test catches it always.)
    thread::sleep(Duration::from_millis(100));
    let mut clients: Vec<TcpStream> = (0..64).map(|_| connect(&addr)).collect();
    for client in clients.iter_mut() {
        write!(client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    }
    let started = Instant::now();
    for client in clients.iter_mut() {
        client
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        assert_eq!(status(client), Some(200));
    }
    assert!(started.elapsed() < Duration::from_secs(1));
}

/// A server with `limits` on a fresh port, and its address (requests are
/// taken with `recv` by the test itself).
fn bare_server(limits: Limits) -> (Server, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = Server::from_listener_with_limits(listener, None, limits).unwrap();
    (server, addr)
}

/// Reads from `client` until the server closes the connection (or resets
/// it); false if it is still open after `limit`.
fn closed_within(client: &mut TcpStream, limit: Duration) -> bool {
    client
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let give_up = Instant::now() + limit;
    let mut buf = [0; 64 * 1024];
    while Instant::now() < give_up {
        match client.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => (),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => (),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => (),
            Err(_) => return true,
        }
    }
    false
}

// shopbot patch (11)
#[test]
fn a_pipelined_request_is_read_only_once_the_one_before_is_answered() {
    let (server, addr) = bare_server(Limits {
        max_requests_in_flight: Some(1),
        ..Limits::default()
    });
    let mut client = connect(&addr);
    for path in ["/1", "/2", "/3"] {
        write!(client, "GET {} HTTP/1.1\r\nHost: x\r\n\r\n", path).unwrap();
    }
    let first = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    assert_eq!(first.url(), "/1");
    // Another thread calling recv() would now be held by this connection too.
    if let Some(early) = server.recv_timeout(Duration::from_millis(300)).unwrap() {
        let url = early.url().to_string();
        // answered in order, or dropping `early` would wait for `first` for good
        drop(first);
        drop(early);
        panic!("{} handed over before /1 was answered", url);
    }
    first.respond(Response::from_string("one")).unwrap();
    let second = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    assert_eq!(second.url(), "/2");
    // Dropped unanswered: a 500, and the next one comes.
    drop(second);
    let third = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    assert_eq!(third.url(), "/3");
    third.respond(Response::from_string("three")).unwrap();
    assert_eq!(status(&mut client), Some(200));
}

// shopbot patch (12)
#[test]
fn a_client_that_does_not_read_its_answers_is_cut_off_at_the_response_deadline() {
    let (server, addr) = bare_server(Limits {
        write_timeout: Some(Duration::from_secs(30)),
        response_timeout: Some(Duration::from_millis(500)),
        max_requests_in_flight: Some(1),
        ..Limits::default()
    });
    let server = Arc::new(server);
    let handler = {
        let server = server.clone();
        thread::spawn(move || {
            let mut results = Vec::new();
            while let Ok(Some(rq)) = server.recv_timeout(Duration::from_secs(3)) {
                let started = Instant::now();
                // 1 MB answers: the socket buffers are full after a few.
                let result = rq.respond(Response::from_data(vec![b'x'; 1 << 20]));
                results.push((result.map_err(|e| e.kind()), started.elapsed()));
            }
            results
        })
    };
    let mut client = connect(&addr);
    for _ in 0..100 {
        if write!(client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").is_err() {
            break;
        }
    }
    // Never a read until the handler has given up.
    let results = handler.join().unwrap();
    let (last, took) = results.last().cloned().unwrap();
    assert_eq!(last, Err(std::io::ErrorKind::TimedOut), "{:?}", results);
    assert!(took < Duration::from_secs(2), "{:?}", results);
    assert!(results.len() < 100, "{} answers written", results.len());
    assert!(
        closed_within(&mut client, Duration::from_secs(5)),
        "the connection stayed open"
    );
}

// shopbot patch (12)
#[test]
fn a_large_answer_to_a_slow_but_reading_client_is_not_cut_off() {
    let (server, addr) = bare_server(Limits {
        response_timeout: Some(Duration::from_millis(100)),
        response_min_rate: Some(512 * 1024),
        ..Limits::default()
    });
    let mut client = connect(&addr);
    write!(
        client,
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let rq = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    // more than the socket buffers take in at once
    let size = 16 << 20;
    let responder = thread::spawn(move || rq.respond(Response::from_data(vec![b'x'; size])));
    // At most 12 MB/s, so well over the 100 ms: 128 KiB every 10 ms.
    let started = Instant::now();
    let mut received = 0;
    let mut buf = vec![0; 128 * 1024];
    while received < size + 100 && started.elapsed() < Duration::from_secs(20) {
        match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => received += n,
        }
        thread::sleep(Duration::from_millis(10));
    }
    assert!(responder.join().unwrap().is_ok());
    assert!(received > size, "{} of {} bytes", received, size);
    assert!(started.elapsed() > Duration::from_millis(100));
}

// shopbot patch (14)

/// Answers of a few KB on one kept-alive connection come at once: the head
/// and the body are separate writes, and without `TCP_NODELAY` the body
/// waited for the client's delayed ACK (about 40 ms on Linux) every time.
#[test]
fn answers_on_a_kept_alive_connection_are_not_held_back_by_nagle() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let server = Arc::new(Server::from_listener_with_limits(listener, None, Limits::default()).unwrap());
    let inner = server.clone();
    thread::spawn(move || {
        for rq in inner.incoming_requests() {
            let _ = rq.respond(Response::from_string("x".repeat(4096)));
        }
    });
    let mut client = connect(&addr);
    let mut slowest = Duration::ZERO;
    for n in 0..10 {
        let started = Instant::now();
        client.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(status(&mut client), Some(200));
        let mut body = vec![0; 4096];
        client.read_exact(&mut body).unwrap();
        if n > 0 {
            slowest = slowest.max(started.elapsed());
        }
    }
    assert!(slowest < Duration::from_millis(30), "an answer took {:?}", slowest);
}

// shopbot patch (15)

/// A client that sends its whole body before reading (a browser uploading a
/// file) reads the answer to a body the handler refused unread, instead of a
/// reset: the connection takes in what is left of the body before closing.
#[test]
fn a_refused_body_is_taken_in_so_the_client_reads_the_answer() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let limits = Limits {
        buffer_body_up_to: Some(4096),
        request_timeout: Some(Duration::from_secs(30)),
        ..Limits::default()
    };
    let server = Server::from_listener_with_limits(listener, None, limits).unwrap();
    thread::spawn(move || {
        for rq in server.incoming_requests() {
            let _ = rq.respond(Response::empty(413));
        }
    });
    for _ in 0..3 {
        let mut client = connect(&addr);
        let body = vec![b'x'; 2 * 1024 * 1024];
        write!(client, "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.len()).unwrap();
        client.write_all(&body).expect("the whole body is taken in");
        assert_eq!(status(&mut client), Some(413));
    }
}

// shopbot patch (18)

/// A body over `buffer_body_up_to` that the client cuts short (its connection
/// ends first) reads as an error, not as a shorter body.
#[test]
fn a_large_body_cut_short_is_an_error() {
    let limits = Limits {
        buffer_body_up_to: Some(16),
        request_timeout: Some(Duration::from_secs(10)),
        ..Limits::default()
    };
    let (server, addr) = bare_server(limits);
    let mut client = connect(&addr);
    write!(client, "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n{}", "x".repeat(40)).unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rq = server.recv_timeout(Duration::from_secs(5)).unwrap().unwrap();
    let mut body = Vec::new();
    let err = rq.as_reader().read_to_end(&mut body).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    assert_eq!(body.len(), 40);
}

// shopbot patch (23)
#[test]
fn a_prompt_answer_to_a_client_that_does_not_read_is_cut_off_at_once() {
    let (server, addr) = bare_server(Limits {
        write_timeout: Some(Duration::from_secs(30)),
        response_timeout: Some(Duration::from_secs(30)),
        response_min_rate: Some(512 * 1024),
        max_requests_in_flight: Some(1),
        ..Limits::default()
    });
    let mut client = connect(&addr);
    write!(client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let rq = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    let started = Instant::now();
    // more than the socket buffers take in at once, to a client that reads nothing
    let result = rq.respond_promptly(
        Response::from_data(vec![b'x'; 16 << 20]),
        Duration::from_millis(50),
    );
    let took = started.elapsed();
    assert_eq!(result.map_err(|e| e.kind()), Err(std::io::ErrorKind::TimedOut));
    assert!(took < Duration::from_secs(2), "took {:?}", took);
    assert!(
        closed_within(&mut client, Duration::from_secs(5)),
        "the connection stayed open"
    );
}

// shopbot patch (23)
#[test]
fn after_a_prompt_answer_the_next_answer_has_the_usual_deadline() {
    let (server, addr) = bare_server(Limits {
        response_timeout: Some(Duration::from_secs(10)),
        max_requests_in_flight: Some(1),
        ..Limits::default()
    });
    let mut client = connect(&addr);
    write!(client, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let rq = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    rq.respond_promptly(Response::from_string("hello"), Duration::from_millis(50))
        .unwrap();
    assert_eq!(status(&mut client), Some(200));
    let mut body = [0; 5];
    client.read_exact(&mut body).unwrap();
    assert_eq!(&body, b"hello");

    write!(client, "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let rq = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    // 16 MB that the client starts reading only after 500 ms: the write
    // waits for it, longer than the 50 ms of the answer before
    let size = 16 << 20;
    let responder = thread::spawn(move || rq.respond(Response::from_data(vec![b'x'; size])));
    thread::sleep(Duration::from_millis(500));
    let mut received = 0;
    let mut buf = vec![0; 256 * 1024];
    let started = Instant::now();
    while received < size && started.elapsed() < Duration::from_secs(20) {
        match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => received += n,
        }
    }
    assert!(responder.join().unwrap().is_ok());
    assert!(received > size - 1024, "{} of {} bytes", received, size);
}

// shopbot patch (24)
/// An answer handed to the connection's thread: the caller returns at once,
/// even when the client reads nothing of a large answer, and the client
/// gets all of it once it reads; the next request on the connection is
/// read after it.
#[test]
fn an_answer_handed_to_the_connection_is_written_by_its_thread() {
    let (server, addr) = bare_server(Limits {
        response_timeout: Some(Duration::from_secs(20)),
        max_requests_in_flight: Some(1),
        ..Limits::default()
    });
    let mut client = connect(&addr);
    write!(client, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let rq = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    let size = 16 << 20;
    let started = Instant::now();
    let handed = rq.respond_on_connection(Response::from_data(vec![b'x'; size]).boxed());
    assert!(handed.is_ok(), "the connection's thread took it");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "the caller waited {:?}", took);
    thread::sleep(Duration::from_millis(300));
    write!(client, "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(status(&mut client), Some(200));
    let mut received = 0;
    let mut buf = vec![0; 256 * 1024];
    while received < size {
        match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => received += n,
        }
    }
    assert!(received >= size, "{} of {} bytes", received, size);
    // the head and body of the first answer read, the second request comes next
    let rq = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .expect("the second request");
    assert_eq!(rq.url(), "/2");
    assert!(rq
        .respond_on_connection(Response::from_string("two").boxed())
        .is_ok());
}

// shopbot patch (24)
/// Where the connection's thread does not wait for answers (several
/// requests in flight), the request and response are given back.
#[test]
fn without_one_request_at_a_time_an_answer_is_given_back() {
    let (server, addr) = bare_server(Limits {
        max_requests_in_flight: Some(2),
        ..Limits::default()
    });
    let mut client = connect(&addr);
    write!(client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let rq = server
        .recv_timeout(Duration::from_secs(5))
        .unwrap()
        .unwrap();
    let (rq, response) = rq
        .respond_on_connection(Response::from_string("hello").boxed())
        .expect_err("given back");
    rq.respond(response).unwrap();
    assert_eq!(status(&mut client), Some(200));
}
