//! `loadgen`: drives a running `shopbot serve` with real signed Twilio webhooks
//! from many customers walking whole conversations, checks every reply, and
//! reports throughput, errors by kind, latency percentiles, and the server's
//! CPU time per request and RSS (from /proc, given its PID).
//!
//! Closed loop (`--rate 0`): C connections send as fast as answers come.
//! Open loop (`--rate R`): requests are due at fixed times R per second and
//! latency is measured from when each was due, so a slow server cannot hide
//! its queueing (no coordinated omission).

mod client;
mod procstat;
mod traffic;

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;

use client::Conn;
use traffic::{reply_ok, Customer, Signer};

#[derive(Debug, Parser)]
#[command(name = "loadgen", about = "Signed conversational load for shopbot serve")]
struct Args {
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// The inbound webhook path.
    #[arg(long, default_value = "/twilio/inbound")]
    path: String,
    /// The server's [server] public_base_url (what signatures are computed for).
    #[arg(long, default_value = "https://bot.example.com")]
    public_base_url: String,
    /// The server's Twilio auth token.
    #[arg(long, env = "TWILIO_AUTH_TOKEN", default_value = "bench-token")]
    token: String,
    /// Connections (closed loop) or sending threads (open loop).
    #[arg(long, short = 'c', default_value_t = 16)]
    connections: usize,
    /// Customers per connection, interleaved.
    #[arg(long, default_value_t = 8)]
    customers: usize,
    /// Seconds to run.
    #[arg(long, short = 'd', default_value_t = 20.0)]
    duration: f64,
    /// Requests per second (open loop); 0 = closed loop.
    #[arg(long, short = 'r', default_value_t = 0.0)]
    rate: f64,
    /// Stop after this many requests in all, or at the end of --duration,
    /// whichever comes first (0: no limit). With --customers, fills a database:
    /// `-c 16 --customers 6250 --requests 1000000` leaves 100,000 contacts with
    /// about ten messages each, every one through the real webhook.
    #[arg(long, default_value_t = 0)]
    requests: u64,
    /// The server's PID, for its CPU time and memory.
    #[arg(long)]
    pid: Option<u32>,
    /// A label for the result line.
    #[arg(long, default_value = "")]
    label: String,
}

/// What all workers add to.
struct Totals {
    ok: AtomicU64,
    errors: Mutex<BTreeMap<String, u64>>,
    latency: Mutex<Histogram<u64>>,
}

impl Totals {
    fn error(&self, kind: String) {
        *self.errors.lock().unwrap().entry(kind).or_default() += 1;
    }
}

fn main() {
    let args = Args::parse();
    let addr: SocketAddr = match args.addr.to_socket_addrs().ok().and_then(|mut a| a.next()) {
        Some(addr) => addr,
        None => {
            eprintln!("error: cannot resolve {}", args.addr);
            std::process::exit(1);
        }
    };
    let signer = Signer {
        url: format!("{}{}", args.public_base_url.trim_end_matches('/'), args.path),
        token: args.token.clone(),
    };
    let totals = Arc::new(Totals {
        ok: AtomicU64::new(0),
        errors: Mutex::new(BTreeMap::new()),
        latency: Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()),
    });
    // Distinct per run, so runs against one database never repeat a MessageSid.
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let run = std::process::id() ^ clock.subsec_nanos() ^ clock.as_secs() as u32;
    let before = args.pid.and_then(procstat::sample);
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(args.duration);
    let pace = Arc::new(Pace {
        started,
        deadline,
        rate: args.rate,
        budget: if args.requests == 0 { u64::MAX } else { args.requests },
        issued: AtomicU64::new(0),
    });
    let workers: Vec<_> = (0..args.connections)
        .map(|w| {
            let (totals, signer, pace) = (totals.clone(), signer.clone(), pace.clone());
            let (path, customers) = (args.path.clone(), args.customers);
            thread::spawn(move || {
                let mut worker = Worker::new(addr, path, signer, run, w, customers);
                worker.run(&totals, &pace);
                // Returned, not dropped: its connection stays open until the
                // server's counters are read (a connection's thread that has
                // exited takes its context switches with it).
                worker
            })
        })
        .collect();
    let mut finished = Vec::with_capacity(workers.len());
    for w in workers {
        match w.join() {
            Ok(worker) => finished.push(worker),
            Err(_) => totals.error("a load thread panicked".into()),
        }
    }
    if args.rate > 0.0 {
        let due = ((args.duration * args.rate).ceil() as u64).min(pace.budget);
        let sent = totals.ok.load(Ordering::Relaxed) + totals.errors.lock().unwrap().values().sum::<u64>();
        if sent < due {
            let mut errors = totals.errors.lock().unwrap();
            *errors
                .entry("not sent: the server was too far behind".into())
                .or_default() += due - sent;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = args.pid.and_then(procstat::sample);
    drop(finished);
    report(&args, &totals, elapsed, before, after);
}

/// When requests are due, shared by all workers.
struct Pace {
    started: Instant,
    deadline: Instant,
    /// Requests per second (open loop); 0 = closed loop.
    rate: f64,
    /// The most requests to send in all.
    budget: u64,
    /// Requests handed out so far.
    issued: AtomicU64,
}

/// How long past the end an open loop goes on sending requests that fell due
/// before it, so a slow server cannot stretch a run without bound.
const GRACE: Duration = Duration::from_secs(5);

impl Pace {
    /// When the next request is due (waiting for it in open loop), or `None`
    /// when the run is over.
    fn next(&self) -> Option<Instant> {
        let k = self.issued.fetch_add(1, Ordering::Relaxed);
        if k >= self.budget {
            return None;
        }
        if self.rate <= 0.0 {
            let now = Instant::now();
            return (now < self.deadline).then_some(now);
        }
        let due = self.started + Duration::from_secs_f64(k as f64 / self.rate);
        if due >= self.deadline {
            return None;
        }
        if Instant::now() > self.deadline + GRACE {
            return None;
        }
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        Some(due)
    }
}

/// One connection and the customers it serves, one request at a time.
struct Worker {
    conn: Conn,
    path: String,
    signer: Signer,
    run: u32,
    customers: Vec<Customer>,
    turn: usize,
    seq: u64,
}

impl Worker {
    fn new(addr: SocketAddr, path: String, signer: Signer, run: u32, w: usize, customers: usize) -> Worker {
        Worker {
            conn: Conn::new(addr),
            path,
            signer,
            run,
            customers: (0..customers)
                .map(|c| Customer::new(run, (w * customers + c) as u64))
                .collect(),
            turn: 0,
            seq: (w as u64) << 40,
        }
    }

    fn run(&mut self, totals: &Totals, pace: &Pace) {
        while let Some(due) = pace.next() {
            self.one(totals, due);
        }
    }

    /// Sends the next step of the next customer; latency from `due`.
    fn one(&mut self, totals: &Totals, due: Instant) {
        self.turn = (self.turn + 1) % self.customers.len();
        self.seq += 1;
        let customer = &mut self.customers[self.turn];
        let request = customer.next(&self.signer, self.run, self.seq);
        let headers = [("X-Twilio-Signature", request.signature.as_str())];
        let result = self.conn.post_form(&self.path, &headers, &request.body);
        let micros = due.elapsed().as_micros() as u64;
        match result {
            Ok(r) if r.status == 200 && reply_ok(&r.body, request.expect) => {
                customer.advance();
                totals.ok.fetch_add(1, Ordering::Relaxed);
                totals.latency.lock().unwrap().saturating_record(micros.max(1));
            }
            Ok(r) if r.status == 200 => {
                customer.reset();
                totals.error(format!("wrong reply at step {}", request.step));
            }
            Ok(r) => {
                customer.reset();
                totals.error(format!("HTTP {}", r.status));
            }
            Err(e) => totals.error(format!("{:?}", e.kind())),
        }
    }
}

fn report(
    args: &Args,
    totals: &Totals,
    elapsed: f64,
    before: Option<procstat::Sample>,
    after: Option<procstat::Sample>,
) {
    let ok = totals.ok.load(Ordering::Relaxed);
    let errors = totals.errors.lock().unwrap();
    let error_count: u64 = errors.values().sum();
    let h = totals.latency.lock().unwrap();
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let mode = if args.rate > 0.0 {
        format!("open {} req/s", args.rate)
    } else {
        format!("closed C={}", args.connections)
    };
    println!(
        "{} {mode}: {:.0} req/s ok over {elapsed:.1} s, {ok} ok, {error_count} errors",
        args.label,
        ok as f64 / elapsed
    );
    println!(
        "  latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        ms(0.5),
        ms(0.9),
        ms(0.99),
        ms(0.999),
        h.max() as f64 / 1000.0
    );
    for (kind, n) in errors.iter() {
        println!("  error {kind}: {n}");
    }
    if let (Some(b), Some(a)) = (before, after) {
        let requests = (ok + error_count).max(1) as f64;
        println!(
            "  server: {:.1} µs CPU per request ({:.1} µs system), RSS {:.1} MB (before {:.1} MB), peak {:.1} MB",
            (a.cpu_seconds - b.cpu_seconds) * 1e6 / requests,
            (a.system_seconds - b.system_seconds) * 1e6 / requests,
            a.rss_kib as f64 / 1024.0,
            b.rss_kib as f64 / 1024.0,
            a.peak_rss_kib as f64 / 1024.0
        );
        let (voluntary, involuntary) = a.switches_since(&b);
        let (voluntary, involuntary) = (voluntary as f64, involuntary as f64);
        println!(
            "  server: {:.2} context switches per request ({:.2} voluntary, {:.2} involuntary)",
            (voluntary + involuntary) / requests,
            voluntary / requests,
            involuntary / requests
        );
    }
}
