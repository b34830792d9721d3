//! A flat route table: method + path pattern → handler, one table per area
//! (the Twilio webhooks, Meta's, `/api/`, the inbox, the demo), read top to
//! bottom like Miniflux's `ui.go`.
//!
//! A pattern is a path whose segments are literal or `{name}` (exactly one
//! non-empty segment, percent-decoded into [`Params`]). A path that some
//! route's pattern matches, but not with this method, is `405` with an
//! `Allow` naming the methods that would do; a path no pattern matches is for
//! the caller to answer (the next area, or `404`).

use super::{Method, Request, Response};

/// A handler of an area whose context is `C`.
pub type Handler<C> = fn(&C, &Call<'_>) -> Response;

/// One request as a handler sees it: the request, the path's parameters, and
/// what the area's guard added (`G`: a signed-in session, say).
pub struct Call<'a, G = ()> {
    /// The request.
    pub request: &'a Request,
    /// The `{name}` segments of the matched pattern.
    pub params: Params,
    /// What the area's guard established for this route.
    pub guard: G,
}

/// The `{name}` segments of a matched pattern, decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(&'static str, String)>);

impl Params {
    /// The segment named `name` (empty if the pattern has none).
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v.as_str())
    }
}

/// One route: a method, a pattern, and what answers it (`H`: a handler, or a
/// handler with the access it needs).
pub struct Route<H> {
    method: Method,
    pattern: Vec<Segment>,
    handler: H,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(&'static str),
}

/// An area's routes, in order.
pub struct Routes<H> {
    routes: Vec<Route<H>>,
}

/// What a path and method found in a table.
pub enum Found<'r, H> {
    /// The route and the path's parameters.
    Route(&'r H, Params),
    /// The path is known, but not with this method: the methods it has.
    WrongMethod(Vec<Method>),
    /// No pattern matches the path.
    NotHere,
}

impl<H> Default for Routes<H> {
    fn default() -> Self {
        Routes { routes: Vec::new() }
    }
}

impl<H> Routes<H> {
    /// Adds `method pattern → handler`. Patterns are written by us; `pattern`
    /// is `'static` so its `{name}`s can be.
    pub fn add(mut self, method: Method, pattern: &'static str, handler: H) -> Self {
        self.routes.push(Route {
            method,
            pattern: parse_pattern(pattern),
            handler,
        });
        self
    }

    /// Adds a route whose path is only known at start (a configured webhook
    /// path); it has no parameters.
    pub fn add_path(mut self, method: Method, path: &str, handler: H) -> Self {
        self.routes.push(Route {
            method,
            pattern: path_segments(path).map(|s| Segment::Literal(s.to_string())).collect(),
            handler,
        });
        self
    }

    /// The route for `method` and `path`.
    pub fn find(&self, method: &Method, path: &str) -> Found<'_, H> {
        let mut allowed = Vec::new();
        for route in &self.routes {
            let Some(params) = matches(&route.pattern, path) else {
                continue;
            };
            if route.method == *method {
                return Found::Route(&route.handler, params);
            }
            if !allowed.contains(&route.method) {
                allowed.push(route.method.clone());
            }
        }
        if allowed.is_empty() {
            Found::NotHere
        } else {
            Found::WrongMethod(allowed)
        }
    }
}

/// `405` naming the methods that would do (`HEAD` is added for `GET` by the
/// server).
pub fn wrong_method(allowed: &[Method]) -> Response {
    let allow: Vec<String> = allowed.iter().map(ToString::to_string).collect();
    Response::text(405, &format!("use {}", allow.join(" or "))).header("Allow", allow.join(", "))
}

fn parse_pattern(pattern: &'static str) -> Vec<Segment> {
    path_segments(pattern)
        .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => Segment::Param(name),
            None => Segment::Literal(s.to_string()),
        })
        .collect()
}

/// A path's segments; `/admin` and `/admin/` are one path.
fn path_segments(path: &str) -> impl Iterator<Item = &str> {
    path.trim_end_matches('/').split('/').skip(1)
}

fn matches(pattern: &[Segment], path: &str) -> Option<Params> {
    let mut params = Vec::new();
    let mut segments = path_segments(path);
    for expected in pattern {
        let segment = segments.next()?;
        match expected {
            Segment::Literal(literal) if literal == segment => {}
            Segment::Literal(_) => return None,
            Segment::Param(_) if segment.is_empty() => return None,
            Segment::Param(name) => {
                let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
                params.push((*name, decoded.into_owned()));
            }
        }
    }
    segments.next().is_none().then_some(Params(params))
}

/// The handler found for `request` in `routes`, called with `context`; `None`
/// when no pattern matches the path.
pub fn dispatch<C>(routes: &Routes<Handler<C>>, context: &C, request: &Request) -> Option<Response> {
    match routes.find(&request.method, request.path()) {
        Found::Route(handler, params) => Some(handler(
            context,
            &Call {
                request,
                params,
                guard: (),
            },
        )),
        Found::WrongMethod(allowed) => Some(wrong_method(&allowed)),
        Found::NotHere => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Routes<&'static str> {
        Routes::default()
            .add(Method::Get, "/admin/", "inbox")
            .add(Method::Get, "/admin/conversations/{key}", "conversation")
            .add(Method::Post, "/admin/conversations/{key}/reply", "reply")
            .add(Method::Get, "/admin/media/{message}/{n}", "media")
            .add_path(Method::Post, "/hooks/twilio/inbound/", "twilio")
    }

    fn found(method: Method, path: &str) -> Result<(&'static str, Params), Vec<Method>> {
        match table().find(&method, path) {
            Found::Route(h, params) => Ok((*h, params)),
            Found::WrongMethod(allowed) => Err(allowed),
            Found::NotHere => Err(Vec::new()),
        }
    }

    #[test]
    fn literal_and_parameter_segments() {
        assert_eq!(found(Method::Get, "/admin/").unwrap().0, "inbox");
        assert_eq!(
            found(Method::Get, "/admin").unwrap().0,
            "inbox",
            "a trailing slash is one path"
        );
        let (handler, params) = found(Method::Get, "/admin/conversations/%2B27821234567").unwrap();
        assert_eq!((handler, params.get("key")), ("conversation", "+27821234567"));
        let (_, params) = found(Method::Get, "/admin/media/12/0").unwrap();
        assert_eq!((params.get("message"), params.get("n")), ("12", "0"));
        assert_eq!(found(Method::Post, "/hooks/twilio/inbound").unwrap().0, "twilio");
    }

    #[test]
    fn a_known_path_with_another_method_is_405_and_an_unknown_one_is_not_here() {
        assert_eq!(
            found(Method::Post, "/admin/conversations/7").unwrap_err(),
            [Method::Get]
        );
        assert_eq!(
            found(Method::Get, "/admin/conversations/7/reply").unwrap_err(),
            [Method::Post]
        );
        for path in [
            "/admin/conversations",
            "/admin/conversations//reply",
            "/admin/conversations/7/reply/x",
            "/admin/media/1",
            "/elsewhere",
        ] {
            assert!(found(Method::Get, path).unwrap_err().is_empty(), "{path}");
        }
        let answer = wrong_method(&[Method::Get, Method::Post]);
        assert_eq!(answer.status, 405);
        assert!(answer.headers.contains(&("Allow", "GET, POST".to_string())));
    }
}
