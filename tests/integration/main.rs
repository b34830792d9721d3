//! Integration tests: the real server on a loopback port, a real SQLite file,
//! real HTTP, signed Twilio requests, TwiML parsed with an XML parser; and the
//! real `shopbot` binary for the CLI.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test or benchmark fails loudly on anything unexpected"
)]

mod architecture;
mod browser;
mod buttons;
mod cli;
mod concurrency;
mod config_check;
mod crash;
mod data_care;
mod demo_loop;
mod fuzz_corpus;
mod golden;
mod graph_mock;
mod hostile_data;
mod hostile_http;
mod hours;
mod idempotency;
mod inbox;
mod languages;
mod litestream;
mod media;
mod menu_walk;
mod meta;
mod meta_batches;
mod meta_crash;
mod migration;
mod mock_server;
mod opt_out;
mod order_updates;
mod outbound;
mod outbox_cli;
mod owner_data;
mod regression;
mod reload;
mod restore;
mod shutdown;
mod sign_in;
mod signatures;
mod slow_clients;
mod staff;
mod status_callbacks;
mod submission_status;
mod support;
mod twilio_mock;
mod webhook_errors;
