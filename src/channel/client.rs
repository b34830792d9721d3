//! The blocking HTTP-client pieces every provider's REST edge shares: one agent
//! configuration (timeouts, user agent, error statuses treated as answers), the
//! line between "certainly not sent" and "may have been sent" for transport
//! failures, and reading an answer's body with a size limit.
//!
//! The line matters to the outbox: a message that certainly did not arrive is
//! retried; one that may have arrived is held as uncertain, never resent
//! automatically (a customer must not get the same message twice).

use std::time::Duration;

use crate::message::{Channel, SendError};

/// How long one call may take, connection and answer included.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take (a failure here means nothing was sent).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer body read; a provider's answers are a few hundred bytes.
pub const BODY_LIMIT: u64 = 1024 * 1024;
/// The read and write buffers of one connection, and the longest answer head
/// read. A provider's answer head is well under 2 KiB; ureq's default of
/// 128 KiB each is zeroed for every new connection (about 260,000
/// instructions a call, measured by `bench/callgrind_meta.py`).
pub const BUFFER_SIZE: usize = 16 * 1024;
/// The `User-Agent` of every call.
pub const USER_AGENT: &str = concat!("shopbot/", env!("CARGO_PKG_VERSION"));

/// The agent to build a provider client on: an error status is an answer to
/// read (not a `ureq::Error`), with [`CALL_TIMEOUT`], [`CONNECT_TIMEOUT`] and
/// [`USER_AGENT`]. One per client; it keeps connections alive.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(CALL_TIMEOUT))
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .user_agent(USER_AGENT)
        .input_buffer_size(BUFFER_SIZE)
        .output_buffer_size(BUFFER_SIZE)
        .max_response_header_size(BUFFER_SIZE)
        .build()
        .new_agent()
}

/// Sorts a transport failure: no connection made (name resolution, connecting,
/// TLS, a URI or request that could not be built, connection refused) is
/// [`SendError::NotSent`]; anything after the request may have left is
/// [`SendError::Unknown`].
pub fn classify(channel: Channel, e: ureq::Error) -> SendError {
    if never_sent(&e) {
        SendError::NotSent(channel, e.to_string())
    } else {
        SendError::Unknown(channel, e.to_string())
    }
}

/// Whether the failure happened before any byte of the request was sent.
fn never_sent(e: &ureq::Error) -> bool {
    use ureq::Timeout;
    match e {
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect)
        | ureq::Error::Tls(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::BadUri(_)
        | ureq::Error::Http(_) => true,
        ureq::Error::Io(io) => io.kind() == std::io::ErrorKind::ConnectionRefused,
        _ => false,
    }
}

/// Reads the answer's body (at most [`BODY_LIMIT`]). Only a 2xx says the
/// message exists, and only its body says which one, so an unreadable 2xx body
/// is [`SendError::Unknown`]; an error status is an answer in itself (4xx
/// refused, 5xx retried), so an unreadable one gives an empty body.
pub fn read_body(
    mut response: ureq::http::Response<ureq::Body>,
    status: u16,
    channel: Channel,
) -> Result<String, SendError> {
    match response.body_mut().with_config().limit(BODY_LIMIT).read_to_string() {
        Ok(body) => Ok(body),
        Err(e) if (200..300).contains(&status) => Err(SendError::Unknown(
            channel,
            format!("{channel} answered HTTP {status}; reading its body failed: {e}"),
        )),
        Err(e) => {
            log::warn!(target: "outbox", "{channel} answered HTTP {status}; reading its body failed: {e}");
            Ok(String::new())
        }
    }
}

/// The most a media download may be.
pub const MEDIA_LIMIT: u64 = 16 * 1024 * 1024;

/// A downloaded attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Its MIME type as the provider said.
    pub content_type: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// Why an attachment could not be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The channel to fetch it through is not configured.
    #[error("{0} is not configured for fetching media")]
    NotConfigured(Channel),
    /// The stored reference is not one shopbot fetches (never an arbitrary URL).
    #[error("not fetched: {0}")]
    NotAllowed(String),
    /// The provider refused or does not have it.
    #[error("{channel} answered HTTP {status}")]
    Refused {
        /// Which provider.
        channel: Channel,
        /// Its HTTP status.
        status: u16,
    },
    /// The download failed.
    #[error("downloading from {0} failed: {1}")]
    Failed(Channel, String),
}

/// GETs `url` with `authorization` (for the provider's host only; a redirect
/// to storage elsewhere goes without it), at most [`MEDIA_LIMIT`] bytes.
pub fn download(agent: &ureq::Agent, channel: Channel, url: &str, authorization: &str) -> Result<Fetched, MediaError> {
    let failed = |e: String| MediaError::Failed(channel, e);
    let mut response = agent
        .get(url)
        .header("Authorization", authorization)
        .call()
        .map_err(|e| failed(e.to_string()))?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(MediaError::Refused { channel, status });
    }
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string();
    let bytes = response
        .body_mut()
        .with_config()
        .limit(MEDIA_LIMIT)
        .read_to_vec()
        .map_err(|e| failed(e.to_string()))?;
    Ok(Fetched { content_type, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    /// A server that answers one connection with `answer` (raw HTTP) and hands
    /// back the request head it read.
    fn answering(answer: String) -> (String, mpsc::Receiver<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/x", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else { return };
            let mut buf = vec![0; 8192];
            let n = stream.read(&mut buf).unwrap_or(0);
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).into_owned());
            let _ = stream.write_all(answer.as_bytes());
        });
        (url, rx)
    }

    fn post(url: &str) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        agent().post(url).send("{}")
    }

    #[test]
    fn sends_the_user_agent_and_returns_error_statuses_as_answers() {
        let (url, request) = answering("HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\nbusy".into());
        let response = post(&url).expect("a 500 is an answer, not an error");
        assert_eq!(response.status().as_u16(), 500);
        assert_eq!(read_body(response, 500, Channel::Meta).unwrap(), "busy");
        let head = request.recv().unwrap().to_ascii_lowercase();
        assert!(
            head.contains(&format!("user-agent: {}", USER_AGENT.to_ascii_lowercase())),
            "{head}"
        );
    }

    #[test]
    fn a_refused_connection_or_a_bad_uri_was_never_sent() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let refused = classify(Channel::Meta, post(&format!("http://127.0.0.1:{port}/")).unwrap_err());
        assert!(matches!(refused, SendError::NotSent(Channel::Meta, _)), "{refused:?}");
        let bad = classify(Channel::Twilio, post("not a uri").unwrap_err());
        assert!(matches!(bad, SendError::NotSent(Channel::Twilio, _)), "{bad:?}");
    }

    #[test]
    fn a_connection_dropped_after_the_request_is_unknown() {
        let (url, _request) = answering(String::new());
        let lost = classify(Channel::Meta, post(&url).unwrap_err());
        assert!(matches!(lost, SendError::Unknown(Channel::Meta, _)), "{lost:?}");
    }

    #[test]
    fn an_unreadable_body_is_unknown_on_success_and_empty_on_refusal() {
        let cut = "Content-Length: 100\r\nConnection: close\r\n\r\n{";
        let (url, _r) = answering(format!("HTTP/1.1 200 OK\r\n{cut}"));
        let err = read_body(post(&url).unwrap(), 200, Channel::Meta).unwrap_err();
        assert!(matches!(err, SendError::Unknown(Channel::Meta, _)), "{err:?}");
        let (url, _r) = answering(format!("HTTP/1.1 400 Bad Request\r\n{cut}"));
        assert_eq!(read_body(post(&url).unwrap(), 400, Channel::Meta).unwrap(), "");
    }

    #[test]
    fn a_download_follows_a_redirect_without_the_credentials() {
        let (storage, storage_request) =
            answering("HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\n\r\nJPEG".into());
        let (api, api_request) = answering(format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {storage}\r\nContent-Length: 0\r\n\r\n"
        ));
        let fetched = download(&agent(), Channel::Twilio, &api, "Basic c2VjcmV0").unwrap();
        assert_eq!(
            (fetched.content_type.as_str(), fetched.bytes.as_slice()),
            ("image/jpeg", &b"JPEG"[..])
        );
        assert!(
            api_request.recv().unwrap().contains("Basic c2VjcmV0"),
            "the provider gets them"
        );
        let head = storage_request.recv().unwrap().to_ascii_lowercase();
        assert!(!head.contains("authorization"), "storage elsewhere does not: {head}");
    }

    #[test]
    fn a_refused_or_oversized_download_is_an_error() {
        let (url, _r) = answering("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".into());
        let refused = download(&agent(), Channel::Meta, &url, "Bearer t").unwrap_err();
        assert_eq!(
            refused,
            MediaError::Refused {
                channel: Channel::Meta,
                status: 404
            }
        );
        let big = "x".repeat(MEDIA_LIMIT as usize + 1);
        let (url, _r) = answering(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{big}", big.len()));
        let over = download(&agent(), Channel::Meta, &url, "Bearer t").unwrap_err();
        assert!(matches!(over, MediaError::Failed(Channel::Meta, _)), "{over:?}");
    }

    #[test]
    fn a_body_over_the_limit_is_not_read() {
        let big = "x".repeat(BODY_LIMIT as usize + 1);
        let (url, _r) = answering(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{big}", big.len()));
        let err = read_body(post(&url).unwrap(), 200, Channel::Meta).unwrap_err();
        assert!(matches!(err, SendError::Unknown(..)), "{err:?}");
    }
}
