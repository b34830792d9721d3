//! Schema migrations, applied in order and tracked with `PRAGMA user_version`.
//!
//! Never edit or remove an entry once released: a database in the field is at
//! some version N and only the entries after N run on it. Add a new entry instead.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::StoreError;

/// Migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: contacts, sessions, messages, submissions, orders.
    r#"
    CREATE TABLE contacts (
        id              INTEGER PRIMARY KEY,
        phone           TEXT NOT NULL UNIQUE,      -- E.164, '+27…'
        profile_name    TEXT,
        created_at      TEXT NOT NULL,
        last_inbound_at TEXT
    );
    CREATE TABLE sessions (
        contact_id    INTEGER PRIMARY KEY REFERENCES contacts(id),
        state         TEXT NOT NULL,               -- JSON of engine::State
        updated_at    TEXT NOT NULL,
        waiting_since TEXT                         -- set by a handoff until staff answer
    );
    CREATE TABLE messages (
        id          INTEGER PRIMARY KEY,
        sid         TEXT UNIQUE,                   -- Twilio MessageSid
        direction   TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
        contact_id  INTEGER REFERENCES contacts(id),
        from_addr   TEXT NOT NULL,
        to_addr     TEXT NOT NULL,
        body        TEXT,
        media       TEXT,                          -- JSON [{url, content_type}]
        params      TEXT,                          -- JSON [[name, value], …] as received
        reply       TEXT,                          -- inbound: JSON [text, …] answered inline
        status      TEXT,
        created_at  TEXT NOT NULL
    );
    CREATE INDEX messages_by_contact ON messages(contact_id, id);
    CREATE TABLE submissions (
        id          INTEGER PRIMARY KEY,
        public_id   TEXT NOT NULL UNIQUE,          -- 'DEF-20250119143022', '…-2'
        form        TEXT NOT NULL,                 -- the form node's name
        contact_id  INTEGER NOT NULL REFERENCES contacts(id),
        answers     TEXT NOT NULL,                 -- JSON [{field, text, media}]
        preview     TEXT NOT NULL,
        message_id  INTEGER REFERENCES messages(id),
        created_at  TEXT NOT NULL
    );
    CREATE INDEX submissions_by_contact ON submissions(contact_id, form, id);
    -- One row per prefix and second that had submissions: the next suffix comes
    -- from here, not from counting IDs, so it stays O(1) and IDs are never reused.
    CREATE TABLE submission_counters (
        prefix TEXT NOT NULL,
        stamp  TEXT NOT NULL,                      -- 'YYYYMMDDHHMMSS', shop time zone
        last   INTEGER NOT NULL,
        PRIMARY KEY (prefix, stamp)
    ) WITHOUT ROWID;
    CREATE TABLE orders (
        id          INTEGER PRIMARY KEY,
        number      TEXT NOT NULL UNIQUE COLLATE NOCASE,
        status      TEXT NOT NULL,
        phone       TEXT,                          -- E.164; only this customer may see it
        note        TEXT,
        updated     TEXT,                          -- as the shop's spreadsheet has it
        imported_at TEXT NOT NULL
    );
    "#,
    // 2: status callbacks, the suppression list and the consent log.
    r#"
    -- Every status callback as received; duplicates (same sid, status and error
    -- code) are kept once. A message's current status is derived from these by
    -- precedence, so the order they arrive in does not matter.
    CREATE TABLE status_events (
        id            INTEGER PRIMARY KEY,
        sid           TEXT NOT NULL,              -- may name a message we never stored
        status        TEXT NOT NULL,
        error_code    TEXT,
        error_message TEXT,
        to_addr       TEXT,
        from_addr     TEXT,
        params        TEXT NOT NULL,              -- JSON [[name, value], …] as received
        received_at   TEXT NOT NULL
    );
    CREATE UNIQUE INDEX status_events_once ON status_events(sid, status, coalesce(error_code, ''));
    -- Numbers that sent a stop keyword and no start keyword since.
    CREATE TABLE suppressions (
        phone       TEXT PRIMARY KEY,             -- E.164
        since       TEXT NOT NULL,
        keyword     TEXT NOT NULL,
        message_sid TEXT
    ) WITHOUT ROWID;
    -- Every stop and start keyword received, never deleted.
    CREATE TABLE consent_log (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        phone       TEXT NOT NULL,
        action      TEXT NOT NULL CHECK (action IN ('opt_out', 'opt_in')),
        keyword     TEXT NOT NULL,
        message_sid TEXT
    );
    CREATE INDEX consent_log_by_phone ON consent_log(phone, id);
    "#,
    // 3: the outbox for messages the shop starts.
    r#"
    -- When Twilio last refused a free-form message as outside the 24-hour window
    -- (63016): the window stays closed until the customer writes again.
    ALTER TABLE contacts ADD COLUMN window_closed_at TEXT;
    -- One row per outbound message (the message itself is in messages).
    CREATE TABLE outbox (
        message_id      INTEGER PRIMARY KEY REFERENCES messages(id),
        state           TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'uncertain')),
        kind            TEXT NOT NULL CHECK (kind IN ('text', 'template')),
        content_sid     TEXT,                     -- templates: HX…
        variables       TEXT,                     -- templates: JSON {"1": "…"}
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        error_code      TEXT,
        error_message   TEXT,
        updated_at      TEXT NOT NULL
    );
    CREATE INDEX outbox_by_state ON outbox(state, next_attempt_at);
    "#,
    // 4: the 24-hour window starts at the newest inbound message, read from
    // messages; a copy on the contact cost a page write for every message.
    r#"
    ALTER TABLE contacts DROP COLUMN last_inbound_at;
    "#,
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Applies the missing migrations in one transaction.
pub fn run(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > latest() {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: version,
            known: latest(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        log::info!(target: "store", "{}: schema migrated to version {}", path.display(), i + 1);
    }
    tx.commit()?;
    Ok(())
}
