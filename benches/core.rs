//! A no-I/O micro-benchmark of the pure core: the engine's step and the
//! webhook signature check, so a regression there shows without HTTP noise.
//!
//! `cargo bench --bench core` prints nanoseconds per operation (median of
//! several rounds).

use std::hint::black_box;
use std::time::Instant;

use jiff::Timestamp;
use shopbot::engine::{self, Inbound, Menu};
use shopbot::twilio::signature::{self, Algorithm};

/// Runs `f` in rounds of `n` and returns the median nanoseconds per call.
fn measure(name: &str, n: u32, mut f: impl FnMut()) {
    let mut rounds: Vec<f64> = (0..7)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..n {
                f();
            }
            started.elapsed().as_nanos() as f64 / f64::from(n)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    println!("{name:<40} {:>10.0} ns", rounds[rounds.len() / 2]);
}

fn main() {
    let menu = Menu::example();
    let now = Timestamp::now();
    let first = engine::step(&menu, None, Inbound { text: "2", media: &[] }, now);
    let session = engine::Session {
        state: first.state,
        updated_at: now,
    };
    measure("engine: main menu from nothing", 200_000, || {
        black_box(engine::step(
            &menu,
            None,
            Inbound {
                text: black_box("hi"),
                media: &[],
            },
            now,
        ));
    });
    measure("engine: sub-menu choice", 200_000, || {
        black_box(engine::step(
            &menu,
            Some(&session),
            Inbound {
                text: black_box("1"),
                media: &[],
            },
            now,
        ));
    });

    let params: Vec<(String, String)> = [
        ("SmsMessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("NumMedia", "0"),
        ("ProfileName", "Thandi"),
        ("MessageType", "text"),
        ("SmsSid", "SM0123456789abcdef0123456789abcdef"),
        ("WaId", "27821234567"),
        ("SmsStatus", "received"),
        ("Body", "Screen is cracked"),
        ("To", "whatsapp:+14155238886"),
        ("NumSegments", "1"),
        ("MessageSid", "SM0123456789abcdef0123456789abcdef"),
        ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        ("From", "whatsapp:+27821234567"),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let url = "https://bot.example.com/twilio/inbound";
    let token = b"0123456789abcdef0123456789abcdef";
    let sig = signature::compute(Algorithm::HmacSha1, token, url, &params);
    measure("signature: compute (14 params)", 100_000, || {
        black_box(signature::compute(Algorithm::HmacSha1, token, black_box(url), &params));
    });
    measure("signature: verify (both port forms)", 100_000, || {
        black_box(signature::verify(
            Algorithm::HmacSha1,
            token,
            black_box(url),
            &params,
            &sig,
        ));
    });
}
