//! shopbot: a WhatsApp menu bot for small shops, as one binary with its own
//! SQLite database.
//!
//! The crate is an I/O shell around a pure core. Imports point one way (a
//! test fails on a cycle; `docs/ARCHITECTURE.md` has the map and where each
//! kind of change goes):
//! `fuzzing`/`cli` → `server`/`service` → `http`/`reload` → `channel` →
//! `retention`/`work` → `notify` → `conversation` → `staff` → `outbox` →
//! `session`/`writer` → `orders`/`spreadsheet` → `config`/`auth` →
//! `hours`/`store` → `engine` → `message` → `channels`/`phone`/`urlencoded`/`clock`/`did_you_mean`.
//! A module imports only modules of the layers after its own (a second test
//! fails on any other arrow, and on a module this chain does not place).
//! - [`engine`]: the menu state machine (no I/O); [`message`]: the neutral types
//!   every channel speaks below its edge;
//! - [`store`]: all SQL, and nothing else;
//! - [`conversation`]: runs one inbound message through the engine inside a
//!   store transaction; [`staff`]: the owner answering from WhatsApp;
//!   [`outbox`]: messages that go out through a provider's API (routing,
//!   rules, the sender thread); [`session`]: the conversation-state writes
//!   those three share;
//! - [`writer`]: the one thread that runs every write, committing many at once;
//!   [`work`]: what the server hands it;
//! - [`channel`]: Twilio and Meta: signatures, webhook parsing, replies, REST/Graph clients;
//! - [`http`]: the tiny_http server, its front hall and areas; [`server`] assembles it;
//! - [`config`]: the TOML configuration, validated into typed values;
//!   [`auth`]: passwords, tokens and the sign-in throttle; [`clock`]: now;
//! - [`orders`]: the spreadsheet (CSV) import;
//! - [`cli`]: the `shopbot` subcommands; [`did_you_mean`]: the key a mistyped
//!   one was meant to be, for the config's and the menu's checks.

pub mod auth;
pub mod channel;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod config;
pub mod conversation;
pub mod did_you_mean;
pub mod engine;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod hours;
pub mod http;
pub mod message;
pub mod notify;
pub mod orders;
pub mod outbox;
pub mod phone;
pub mod reload;
pub mod retention;
pub mod server;
pub mod service;
pub mod session;
pub mod spreadsheet;
pub mod staff;
pub mod store;
pub mod urlencoded;
pub mod work;
pub mod writer;
