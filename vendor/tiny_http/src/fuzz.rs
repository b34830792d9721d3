//! An entry point for fuzzing the request head and framing (shopbot patch
//! 16): the bytes a client sent, read by a real `ClientConnection` over a
//! UNIX socket pair, exactly as a server reads them. Not part of the API.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::os::unix::net::UnixStream;

use crate::client::ClientConnection;
use crate::connection::Connection;
use crate::util::RefinedTcpStream;
use crate::Limits;

/// The most requests read from one input (each is answered, and the answers
/// must fit the socket's buffer, since nobody reads them).
pub const MAX_REQUESTS: usize = 64;

/// One request as the server read it.
#[derive(Debug)]
pub struct ReadBack {
    /// The method, as text.
    pub method: String,
    /// The request target.
    pub url: String,
    /// The header lines.
    pub headers: Vec<(String, String)>,
    /// The body's declared (or read-ahead) length.
    pub body_length: Option<usize>,
    /// The body, or why it could not be read.
    pub body: Result<Vec<u8>, String>,
}

/// Every request in `bytes` (at most [`MAX_REQUESTS`]), read with `limits`.
/// `bytes` must fit a socket buffer (keep it to a few dozen KiB).
pub fn read_requests(bytes: &[u8], limits: Limits) -> std::io::Result<Vec<ReadBack>> {
    let (mut client, server) = UnixStream::pair()?;
    client.write_all(bytes)?;
    client.shutdown(Shutdown::Write)?;
    let (read, write) = RefinedTcpStream::new(Connection::from(server))?;
    let connection = ClientConnection::new(write, read, limits);
    let mut read_back = Vec::new();
    for mut request in connection.take(MAX_REQUESTS) {
        let mut body = Vec::new();
        let body = match request.as_reader().take(bytes.len() as u64 + 1).read_to_end(&mut body) {
            Ok(_) => Ok(body),
            Err(e) => Err(e.to_string()),
        };
        read_back.push(ReadBack {
            method: request.method().to_string(),
            url: request.url().to_string(),
            headers: request
                .headers()
                .iter()
                .map(|h| (h.field.to_string(), h.value.to_string()))
                .collect(),
            body_length: request.body_length(),
            body,
        });
    }
    Ok(read_back)
}
