//! Integration tests: the real server on a loopback port, a real SQLite file,
//! real HTTP, signed Twilio requests, TwiML parsed with an XML parser; and the
//! real `shopbot` binary for the CLI.

mod cli;
mod menu_walk;
mod signatures;
mod slow_clients;
mod support;
mod webhook_errors;
