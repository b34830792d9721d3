//! The channels: everything one WhatsApp provider's way of speaking needs, at
//! the edge, so nothing below them knows which provider a message came from.
//!
//! Each channel turns its webhooks into the neutral [`Inbound`](crate::message::Inbound)
//! and [`StatusEvent`](crate::message::StatusEvent), fits the neutral
//! [`Reply`](crate::message::Reply) to its own limits, and sends outbound
//! [`Content`](crate::message::Content), classifying its own error codes into a
//! neutral [`SendError`](crate::message::SendError).

pub mod twilio;
