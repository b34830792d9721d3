//! Meta's WhatsApp Cloud API, directly: the `X-Hub-Signature-256` check on the
//! raw webhook body ([`signature`]), the JSON webhook turned into neutral inbound
//! messages and status events ([`webhook`]), and sends through the Graph API
//! ([`graph`]).

pub mod graph;
pub mod interactive;
pub mod signature;
pub mod surrogates;
pub mod webhook;
