//! Pages in a real browser: headless Chromium driven over the DevTools
//! protocol ([`cdp`]), screenshots under `target/browser/`.

pub mod cdp;
mod demo;
mod demo_loop;
mod inbox;

pub use crate::support::DemoServer;
