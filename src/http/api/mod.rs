//! The admin API under `/api/`: its route table, its context, and the
//! bearer-token guard in front of every route.
//!
//! The token comes from `[admin] token` or `SHOPBOT_ADMIN_TOKEN` and is
//! compared in constant time (SHA-256 of both sides, so not even its length
//! leaks). Without a configured token the API is closed. Every answer but
//! `202`/`200` is JSON `{"error":{"code","message"}}`; an unknown path is a
//! `404` (after the token, so the API's shape is not shown to strangers).

pub mod read;
pub mod send;

use std::sync::{Arc, OnceLock};

use super::errors::api_error;
use super::router::{dispatch, Handler, Routes};
use super::{Method, Request, Response};
use crate::config::Secret;
use crate::outbox::sender::Wake;
use crate::outbox::Routing;
use crate::store::ReadPool;
use crate::writer::Writer;

/// What the API's handlers share.
pub struct Api {
    /// `[admin] token`; the API is closed without one.
    pub token: Option<Secret>,
    /// Read-only connections.
    pub reader: Arc<ReadPool>,
    /// The single writer.
    pub writer: Writer,
    /// Wakes the outbox sender after something was queued.
    pub outbox: Wake,
    /// Which channel a message takes.
    pub routing: Arc<Routing>,
}

/// The API's routes.
fn routes() -> &'static Routes<Handler<Api>> {
    static ROUTES: OnceLock<Routes<Handler<Api>>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        use Method::{Get, Post};
        Routes::<Handler<Api>>::default()
            .add(Post, "/api/messages", send::send_text)
            .add(Get, "/api/messages", read::conversation)
            .add(Get, "/api/messages/{key}", read::message)
            .add(Post, "/api/templates", send::send_template)
            .add(Post, "/api/whatsapp/send", send::flowchat_send)
            .add(Post, "/api/whatsapp/send-template", send::flowchat_send_template)
            .add(Get, "/api/submissions", read::submissions)
    })
}

/// Answers a request under `/api/`.
pub fn handle(api: &Api, request: &Request) -> Response {
    if let Err(refused) = authorize(api.token.as_ref(), request) {
        return refused;
    }
    dispatch(routes(), api, request)
        .unwrap_or_else(|| api_error(404, "not_found", &format!("no API route {}", request.path())))
}

/// Checks `Authorization: Bearer …`; the `401` to answer otherwise.
fn authorize(token: Option<&Secret>, request: &Request) -> Result<(), Response> {
    let Some(token) = token else {
        return Err(unauthorized(
            "the admin API is disabled: set [admin] token in the config or SHOPBOT_ADMIN_TOKEN",
        ));
    };
    let presented = request
        .header("Authorization")
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim);
    match presented {
        Some(p) if token.matches(p) => Ok(()),
        Some(_) => Err(unauthorized("the bearer token is wrong")),
        None => Err(unauthorized("send Authorization: Bearer <admin token>")),
    }
}

fn unauthorized(message: &str) -> Response {
    api_error(401, "unauthorized", message).header("WWW-Authenticate", "Bearer")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Method;

    fn with_authorization(value: Option<&str>) -> Request {
        Request {
            method: Method::Get,
            target: "/api/messages?contact=%2B27825550001".into(),
            headers: value
                .map(|v| ("Authorization".to_string(), v.to_string()))
                .into_iter()
                .collect(),
            body: Vec::new(),
            remote: None,
            head: false,
        }
    }

    fn refused(token: Option<&Secret>, authorization: Option<&str>) -> Option<(u16, String, bool)> {
        let request = with_authorization(authorization);
        authorize(token, &request).err().map(|r| {
            let challenge = r.headers.iter().any(|(n, v)| *n == "WWW-Authenticate" && v == "Bearer");
            (r.status, String::from_utf8_lossy(&r.body).into_owned(), challenge)
        })
    }

    #[test]
    fn the_bearer_guard_lets_only_the_token_through_and_says_why_not() {
        let token = Secret::new("s3cret-admin-token");
        assert_eq!(refused(Some(&token), Some("Bearer s3cret-admin-token")), None);
        assert_eq!(refused(Some(&token), Some("bearer  s3cret-admin-token ")), None);
        let (status, body, challenge) = refused(Some(&token), Some("Bearer wrong")).unwrap();
        assert!(
            status == 401 && challenge && body.contains("the bearer token is wrong"),
            "{body}"
        );
        let (status, body, _) = refused(Some(&token), None).unwrap();
        assert!(status == 401 && body.contains("send Authorization: Bearer"), "{body}");
        let (status, body, _) = refused(Some(&token), Some("Basic czNjcmV0")).unwrap();
        assert!(status == 401 && body.contains("send Authorization: Bearer"), "{body}");
    }

    #[test]
    fn without_a_configured_token_the_api_is_closed_to_every_token() {
        let (status, body, _) = refused(None, Some("Bearer anything")).unwrap();
        assert!(status == 401 && body.contains("the admin API is disabled"), "{body}");
    }
}
