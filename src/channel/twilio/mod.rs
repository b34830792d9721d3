//! Twilio's edge: webhook signatures, inbound webhook and status callback forms
//! into the neutral types, TwiML for replies, and the REST client for messages
//! the shop starts.

pub mod content;
pub mod rest;
pub mod signature;
pub mod status;
pub mod twiml;
pub mod verifier;
pub mod webhook;

/// Twilio's error code for a free-form message outside the 24-hour window.
pub const WINDOW_CLOSED_CODE: &str = "63016";
