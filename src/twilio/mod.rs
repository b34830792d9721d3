//! Everything Twilio-shaped: webhook signatures, inbound webhook forms and TwiML.

pub mod signature;
pub mod twiml;
pub mod verifier;
pub mod webhook;
