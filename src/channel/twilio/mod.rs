//! Everything Twilio-shaped: webhook signatures, inbound webhook and status
//! callback forms, and TwiML.

pub mod rest;
pub mod signature;
pub mod status;
pub mod twiml;
pub mod verifier;
pub mod webhook;
