//! `baseline`: the design's limit for shopbot's Twilio webhook (issue 25), a
//! minimal server built on the same parts: the vendored tiny_http with the same
//! limits, bundled SQLite with the same settings (WAL, `synchronous = FULL`,
//! foreign keys, the query planner stability guarantee), the signature checked
//! as Twilio signs it (HMAC-SHA1 over the URL and the sorted parameters,
//! base64), and one writer thread committing whatever is waiting in one
//! transaction (group commit; every `200` is durable). It stores the inbound
//! message with its reply, the conversation's state and the submissions, and
//! answers TwiML with the example menu's texts, so `loadgen`'s reply checks
//! pass. No logging, no outbox, no languages, no configuration file.
//!
//! Request path (as shopbot's): a connection thread of tiny_http reads the
//! request, a worker verifies and parses it and hands it to the writer, waits
//! for the commit and writes the answer. With `--writer-answers` the writer
//! writes the answer itself after the commit (one hop fewer).
//!
//! ```sh
//! baseline --listen 127.0.0.1:18100 --database /tmp/b.db --token bench-token
//! ```

use std::borrow::Cow;
use std::io::Read;
use std::net::TcpListener;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use clap::Parser;
use hmac::{Hmac, Mac};
use rusqlite::config::DbConfig;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha1::Sha1;

#[derive(Debug, Parser)]
#[command(
    name = "baseline",
    about = "A minimal Twilio menu webhook: the limit shopbot is compared with"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:18100")]
    listen: String,
    /// The SQLite file (created if missing).
    #[arg(long)]
    database: String,
    /// The Twilio auth token.
    #[arg(long, default_value = "bench-token")]
    token: String,
    /// The URL Twilio signs (public base URL and the webhook's path).
    #[arg(long, default_value = "https://bot.example.com/twilio/inbound")]
    url: String,
    /// Threads taking requests from tiny_http (as shopbot's `[server] workers`, default 16).
    #[arg(long, default_value_t = 16)]
    workers: usize,
    /// The writer answers each request itself after the commit.
    #[arg(long)]
    writer_answers: bool,
}

type HmacSha1 = Hmac<Sha1>;

/// The webhook's path.
const PATH: &str = "/twilio/inbound";
/// shopbot's limits (src/http/mod.rs), so both pay for the same protections.
const MAX_BODY_BYTES: usize = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);
/// The most requests committed in one transaction (as shopbot's writer).
const MAX_BATCH: usize = 256;

// The example menu's English texts (src/engine/default_menu.toml).
const MAIN_MENU: &str = "Welcome! Select 1-5\n1 Check Order Status\n2 Report Defect\n3 View Production Schedule\n4 Get Help & Support\n5 Back to Menu";
const DEFECTS_MENU: &str = "Defects: select 1-2\n1 Report a defect\n2 View defect history\n0 Back to Menu";
const ORDER_PROMPT: &str = "Please enter your order number (for example A1001):";
const DESCRIBE: &str = "Please describe the defect:";
const SCHEDULE: &str = "🗓 Production schedule\nMon-Fri 07:00-17:00: production runs\nSat 08:00-12:00: collections only\nSun and public holidays: closed\nOrders placed before 12:00 ship the next working day.";
const HELP: &str = "🙋 A team member will reply here during working hours (Mon-Fri 08:00-17:00), usually within one hour. You can keep writing: we read everything.";
const UNKNOWN: &str = "Sorry, I didn't understand that.";
const NEED_TEXT: &str = "Please reply with some text.";
const FOOTER: &str = "Reply 0 for the main menu.";
const MAIN_WORDS: [&str; 4] = ["hi", "hello", "menu", "0"];

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS contacts (
    id         INTEGER PRIMARY KEY,
    phone      TEXT NOT NULL UNIQUE,
    state      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id         INTEGER PRIMARY KEY,
    sid        TEXT NOT NULL UNIQUE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    from_addr  TEXT NOT NULL,
    to_addr    TEXT NOT NULL,
    body       TEXT NOT NULL,
    reply      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_contact ON messages(contact_id, id);
CREATE TABLE IF NOT EXISTS submissions (
    id         INTEGER PRIMARY KEY,
    public_id  TEXT NOT NULL UNIQUE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id),
    answer     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_by_contact ON submissions(contact_id, id);
CREATE TABLE IF NOT EXISTS submission_counters (
    stamp TEXT PRIMARY KEY,
    last  INTEGER NOT NULL
) WITHOUT ROWID;
";

/// A verified inbound message on its way to the writer.
struct Job {
    sid: String,
    from: String,
    to: String,
    body: String,
    answer: Answer,
}

/// Who writes the answer.
enum Answer {
    /// The worker waiting for the writer's reply text (`None`: failed).
    Worker(SyncSender<Option<String>>),
    /// The writer itself.
    Writer(tiny_http::Request),
}

/// What the workers share.
struct Ctx {
    server: tiny_http::Server,
    writer: SyncSender<Job>,
    mac: HmacSha1,
    url: String,
    xml: tiny_http::Header,
    writer_answers: bool,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(args) {
        eprintln!("baseline: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let conn = open(&args.database)?;
    let (writer, jobs) = mpsc::sync_channel(1024);
    let xml = tiny_http::Header::from_bytes("Content-Type", "text/xml; charset=utf-8")
        .map_err(|()| "bad content type header")?;
    let writer_thread = {
        let xml = xml.clone();
        thread::Builder::new()
            .name("writer".into())
            .spawn(move || write_loop(conn, &jobs, &xml))?
    };
    let limits = tiny_http::Limits {
        read_timeout: Some(TIMEOUT),
        write_timeout: Some(TIMEOUT),
        request_timeout: Some(TIMEOUT),
        max_header_line: Some(8 * 1024),
        max_header_bytes: Some(32 * 1024),
        max_headers: Some(100),
        buffer_body_up_to: Some(MAX_BODY_BYTES),
        max_connections: Some(1024),
        max_requests_in_flight: Some(1),
        response_timeout: Some(TIMEOUT),
        response_min_rate: Some(16 * 1024),
    };
    let server = tiny_http::Server::from_listener_with_limits(TcpListener::bind(&args.listen)?, None, limits)?;
    let ctx = Arc::new(Ctx {
        server,
        writer,
        mac: HmacSha1::new_from_slice(args.token.as_bytes())?,
        url: args.url,
        xml,
        writer_answers: args.writer_answers,
    });
    let workers = (0..args.workers.max(1))
        .map(|_| {
            let ctx = ctx.clone();
            thread::Builder::new().spawn(move || worker(&ctx))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for w in workers {
        let _ = w.join();
    }
    let _ = writer_thread.join();
    Ok(())
}

/// Opens the database with shopbot's settings (src/store/mod.rs) and the schema.
fn open(path: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(TIMEOUT)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))?;
    conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

fn worker(ctx: &Ctx) {
    let mut body = Vec::with_capacity(4096);
    while let Ok(request) = ctx.server.recv() {
        serve(ctx, request, &mut body);
    }
}

fn serve(ctx: &Ctx, mut request: tiny_http::Request, body: &mut Vec<u8>) {
    let inbound = match (request.method(), request.url()) {
        (tiny_http::Method::Get, "/healthz") => return plain(request, 200, "ok"),
        (tiny_http::Method::Post, PATH) => true,
        _ => false,
    };
    if !inbound {
        return plain(request, 404, "not found");
    }
    body.clear();
    if request.body_length().is_some_and(|n| n > MAX_BODY_BYTES)
        || request
            .as_reader()
            .take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(body)
            .is_err()
        || body.len() > MAX_BODY_BYTES
    {
        return plain(request, 413, "too large");
    }
    let (sid, from, to, text) = match parse(ctx, &request, body) {
        Ok(fields) => fields,
        Err((status, why)) => return plain(request, status, why),
    };
    if ctx.writer_answers {
        let job = Job {
            sid,
            from,
            to,
            body: text,
            answer: Answer::Writer(request),
        };
        if let Err(mpsc::SendError(job)) = ctx.writer.send(job) {
            if let Answer::Writer(request) = job.answer {
                plain(request, 503, "stopping");
            }
        }
        return;
    }
    let (tx, rx) = mpsc::sync_channel(1);
    let job = Job {
        sid,
        from,
        to,
        body: text,
        answer: Answer::Worker(tx),
    };
    match ctx.writer.send(job).ok().and_then(|()| rx.recv().ok()).flatten() {
        Some(reply) => twiml(request, &reply, &ctx.xml),
        None => plain(request, 500, "database error"),
    }
}

type Fields = (String, String, String, String);

/// Checks the signature and takes out the fields the menu needs, or the
/// status and text to answer with.
fn parse(ctx: &Ctx, request: &tiny_http::Request, body: &[u8]) -> Result<Fields, (u16, &'static str)> {
    let signature = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("X-Twilio-Signature"))
        .map(|h| h.value.as_str())
        .ok_or((403, "no signature"))?;
    let mut params: Vec<(Cow<str>, Cow<str>)> = form_urlencoded::parse(body).collect();
    params.sort_unstable();
    params.dedup();
    let mut mac = ctx.mac.clone();
    mac.update(ctx.url.as_bytes());
    for (name, value) in &params {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    let mut given = [0u8; 32];
    let n = BASE64
        .decode_slice(signature, &mut given)
        .map_err(|_| (403, "bad signature"))?;
    mac.verify_slice(&given[..n]).map_err(|_| (403, "bad signature"))?;
    let field = |key: &str| {
        params
            .binary_search_by(|(name, _)| name.as_ref().cmp(key))
            .ok()
            .map(|i| params[i].1.to_string())
    };
    let missing = (400, "a field is missing");
    Ok((
        field("MessageSid").ok_or(missing)?,
        field("From").ok_or(missing)?,
        field("To").ok_or(missing)?,
        field("Body").unwrap_or_default(),
    ))
}

fn plain(request: tiny_http::Request, status: u16, text: &str) {
    let _ = request.respond(tiny_http::Response::from_string(text).with_status_code(status));
}

fn twiml(request: tiny_http::Request, reply: &str, xml: &tiny_http::Header) {
    let mut out = String::with_capacity(reply.len() + 80);
    out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>"#);
    for c in reply.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c >= ' ' || matches!(c, '\t' | '\n' | '\r') => out.push(c),
            _ => {}
        }
    }
    out.push_str("</Message></Response>");
    let _ = request.respond(tiny_http::Response::from_data(out.into_bytes()).with_header(xml.clone()));
}

/// The writer: takes what is waiting (up to [`MAX_BATCH`]), runs it in one
/// transaction, commits, then answers every request of the batch.
fn write_loop(mut conn: Connection, jobs: &Receiver<Job>, xml: &tiny_http::Header) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = jobs.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        replies.clear();
        let committed = commit(&mut conn, &batch, &mut replies).is_ok();
        for (i, job) in batch.drain(..).enumerate() {
            let reply = if committed { replies.get(i).cloned() } else { None };
            match (job.answer, reply) {
                (Answer::Worker(tx), reply) => {
                    let _ = tx.send(reply);
                }
                (Answer::Writer(request), Some(reply)) => twiml(request, &reply, xml),
                (Answer::Writer(request), None) => plain(request, 500, "database error"),
            }
        }
    }
}

/// One transaction for the whole batch; any error rolls all of it back.
fn commit(conn: &mut Connection, batch: &[Job], replies: &mut Vec<String>) -> rusqlite::Result<()> {
    let now = Clock::now();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for job in batch {
        replies.push(handle(&tx, job, &now)?);
    }
    tx.commit()
}

/// One inbound message: a repeated MessageSid gets its first reply again;
/// otherwise the conversation takes a step and the message is stored with
/// its reply.
fn handle(db: &Connection, job: &Job, now: &Clock) -> rusqlite::Result<String> {
    let known = db
        .prepare_cached("SELECT reply FROM messages WHERE sid = ?1")?
        .query_row([&job.sid], |r| r.get(0))
        .optional()?;
    if let Some(reply) = known {
        return Ok(reply);
    }
    let phone = job.from.strip_prefix("whatsapp:").unwrap_or(&job.from);
    let found: Option<(i64, String)> = db
        .prepare_cached("SELECT id, state FROM contacts WHERE phone = ?1")?
        .query_row([phone], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (contact, state) = match found {
        Some(found) => found,
        None => {
            db.prepare_cached(
                "INSERT INTO contacts (phone, state, created_at, updated_at) VALUES (?1, 'main', ?2, ?2)",
            )?
            .execute(params![phone, now.iso])?;
            (db.last_insert_rowid(), "main".to_string())
        }
    };
    let (reply, next) = step(db, contact, &state, job.body.trim(), now)?;
    db.prepare_cached(
        "INSERT INTO messages (sid, contact_id, from_addr, to_addr, body, reply, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![job.sid, contact, job.from, job.to, job.body, reply, now.iso])?;
    if next != state {
        db.prepare_cached("UPDATE contacts SET state = ?1, updated_at = ?2 WHERE id = ?3")?
            .execute(params![next, now.iso, contact])?;
    } else {
        db.prepare_cached("UPDATE contacts SET updated_at = ?1 WHERE id = ?2")?
            .execute(params![now.iso, contact])?;
    }
    Ok(reply)
}

/// The example menu as a state machine: the reply and the next state.
fn step(
    db: &Connection,
    contact: i64,
    state: &str,
    input: &str,
    now: &Clock,
) -> rusqlite::Result<(String, &'static str)> {
    if MAIN_WORDS.iter().any(|w| input.eq_ignore_ascii_case(w)) {
        return Ok((MAIN_MENU.into(), "main"));
    }
    Ok(match (state, input) {
        ("defects", "1") => (DESCRIBE.into(), "describe"),
        ("defects", "2") => (history(db, contact)?, "main"),
        ("defects", _) => (format!("{UNKNOWN}\n\n{DEFECTS_MENU}"), "defects"),
        ("describe", "") => (format!("{NEED_TEXT}\n{DESCRIBE}"), "describe"),
        ("describe", text) => (submit(db, contact, text, now)?, "main"),
        ("order", number) => (
            format!("We couldn't find order {number}. Check the number and send it again.\n\n{FOOTER}"),
            "main",
        ),
        (_, "1") => (ORDER_PROMPT.into(), "order"),
        (_, "2") => (DEFECTS_MENU.into(), "defects"),
        (_, "3") => (format!("{SCHEDULE}\n\n{FOOTER}"), "main"),
        (_, "4") => (HELP.into(), "main"),
        (_, "5") => (MAIN_MENU.into(), "main"),
        _ => (format!("{UNKNOWN}\n\n{MAIN_MENU}"), "main"),
    })
}

/// Stores a defect report under the next free ID of this second.
fn submit(db: &Connection, contact: i64, text: &str, now: &Clock) -> rusqlite::Result<String> {
    let n: i64 = db
        .prepare_cached(
            "INSERT INTO submission_counters (stamp, last) VALUES (?1, 1)
             ON CONFLICT (stamp) DO UPDATE SET last = last + 1 RETURNING last",
        )?
        .query_row([&now.stamp], |r| r.get(0))?;
    let id = if n == 1 {
        format!("DEF-{}", now.stamp)
    } else {
        format!("DEF-{}-{n}", now.stamp)
    };
    db.prepare_cached("INSERT INTO submissions (public_id, contact_id, answer, created_at) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![id, contact, text, now.iso])?;
    Ok(format!("✅ Defect Submitted! ID: {id}\n\n{FOOTER}"))
}

/// The customer's last five reports, newest first.
fn history(db: &Connection, contact: i64) -> rusqlite::Result<String> {
    let mut statement = db.prepare_cached(
        "SELECT public_id, created_at, answer FROM submissions WHERE contact_id = ?1 ORDER BY id DESC LIMIT 5",
    )?;
    let mut rows = statement.query([contact])?;
    let mut items = String::new();
    let mut count = 0;
    while let Some(row) = rows.next()? {
        let (id, at, answer): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let minute = at.get(..16).unwrap_or(&at).replace('T', " ");
        items.push_str(&format!("\n\n{id} ({minute})\n{answer}"));
        count += 1;
    }
    Ok(if count == 0 {
        format!("You have not reported any defects yet.\n\n{FOOTER}")
    } else {
        format!("Your last {count} defect report(s), newest first:{items}\n\n{FOOTER}")
    })
}

/// The batch's time, formatted once: ISO 8601 for the rows, and the
/// `YYYYMMDDHHMMSS` stamp of submission IDs (UTC).
struct Clock {
    iso: String,
    stamp: String,
}

impl Clock {
    fn now() -> Clock {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let (y, m, d) = civil(secs.div_euclid(86_400));
        let t = secs.rem_euclid(86_400);
        let (hh, mm, ss) = (t / 3600, t / 60 % 60, t % 60);
        Clock {
            iso: format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z"),
            stamp: format!("{y:04}{m:02}{d:02}{hh:02}{mm:02}{ss:02}"),
        }
    }
}

/// Year, month, day of a day number since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(19_723), (2024, 1, 1));
        assert_eq!(civil(19_782), (2024, 2, 29));
    }

    #[test]
    fn the_walk_gets_the_example_menus_texts() {
        let db = open(":memory:").unwrap();
        let now = Clock::now();
        let (reply, state) = step(&db, 1, "main", "hi", &now).unwrap();
        assert!(reply.starts_with("Welcome! Select 1-5") && state == "main");
        let (reply, state) = step(&db, 1, state, "2", &now).unwrap();
        assert!(reply.contains("1 Report a defect") && state == "defects");
        let (reply, state) = step(&db, 1, state, "1", &now).unwrap();
        assert!(reply == DESCRIBE && state == "describe");
    }
}
