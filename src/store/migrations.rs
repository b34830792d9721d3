//! Schema migrations, applied in order and tracked with `PRAGMA user_version`.
//!
//! Never edit or remove an entry once released: a database in the field is at
//! some version N and only the entries after N run on it. Add a new entry instead.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

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
    // 5: one core for every channel. Tables are rebuilt where a constraint
    // changes (SQLite cannot alter one); `run` turns foreign keys off around
    // the migrations and checks them before committing.
    r#"
    -- A contact has a stable id; its phone number and its business-scoped user
    -- id (a customer hiding their number behind a username) are its addresses.
    CREATE TABLE contacts_v5 (
        id               INTEGER PRIMARY KEY,
        phone            TEXT UNIQUE,             -- E.164, '+27…'
        user_id          TEXT UNIQUE,             -- WhatsApp business-scoped user id
        profile_name     TEXT,
        created_at       TEXT NOT NULL,
        window_closed_at TEXT,                    -- a provider said the 24-hour window is closed
        CHECK (phone IS NOT NULL OR user_id IS NOT NULL)
    );
    INSERT INTO contacts_v5 (id, phone, profile_name, created_at, window_closed_at)
        SELECT id, phone, profile_name, created_at, window_closed_at FROM contacts;
    DROP TABLE contacts;
    ALTER TABLE contacts_v5 RENAME TO contacts;

    -- Message keys (Twilio SM…, Meta wamid.…) are unique per channel.
    CREATE TABLE messages_v5 (
        id          INTEGER PRIMARY KEY,
        channel     TEXT NOT NULL CHECK (channel IN ('twilio', 'meta', 'local')),
        sid         TEXT,                          -- the provider's key; NULL until sent
        direction   TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
        contact_id  INTEGER REFERENCES contacts(id),
        from_addr   TEXT NOT NULL,
        to_addr     TEXT NOT NULL,
        body        TEXT,
        media       TEXT,                          -- JSON [{url, id, content_type}]
        params      TEXT,                          -- JSON of what arrived
        reply       TEXT,                          -- inbound: JSON [text, …], the bot's reply
        status      TEXT,
        created_at  TEXT NOT NULL
    );
    INSERT INTO messages_v5 (id, channel, sid, direction, contact_id, from_addr, to_addr, body, media, params, reply, status, created_at)
        SELECT id, 'twilio', sid, direction, contact_id, from_addr, to_addr, body, media, params, reply, status, created_at FROM messages;
    DROP TABLE messages;
    ALTER TABLE messages_v5 RENAME TO messages;
    CREATE UNIQUE INDEX messages_by_key ON messages(sid, channel);
    CREATE INDEX messages_by_contact ON messages(contact_id, id);

    ALTER TABLE status_events ADD COLUMN channel TEXT NOT NULL DEFAULT 'twilio';
    -- The channel read the event's error as "outside the 24-hour window"; kept
    -- so an event for a message not known yet is applied when it is.
    ALTER TABLE status_events ADD COLUMN closes_window INTEGER NOT NULL DEFAULT 0;
    UPDATE status_events SET closes_window = 1 WHERE error_code = '63016';
    DROP INDEX status_events_once;
    CREATE UNIQUE INDEX status_events_once ON status_events(sid, channel, status, coalesce(error_code, ''));

    -- Outbound content is one of a closed set of kinds; a template's details
    -- are JSON in `template` (see store/outbox.rs for the one mapping).
    CREATE TABLE outbox_v5 (
        message_id      INTEGER PRIMARY KEY REFERENCES messages(id),
        state           TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'uncertain')),
        kind            TEXT NOT NULL CHECK (kind IN ('text', 'template', 'meta_template', 'reply')),
        template        TEXT,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        error_code      TEXT,
        error_message   TEXT,
        updated_at      TEXT NOT NULL
    );
    INSERT INTO outbox_v5 (message_id, state, kind, template, attempts, next_attempt_at, error_code, error_message, updated_at)
        SELECT message_id, state, kind,
               CASE WHEN kind = 'template' THEN json_object('content_sid', content_sid, 'variables', json(coalesce(variables, '{}'))) END,
               attempts, next_attempt_at, error_code, error_message, updated_at
        FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_v5 RENAME TO outbox;
    CREATE INDEX outbox_by_state ON outbox(state, next_attempt_at);

    -- Consent is kept per address (a number, or a user id without one).
    ALTER TABLE suppressions RENAME COLUMN phone TO address;
    -- When an opted-out contact was last reminded how to opt in (at most daily).
    ALTER TABLE suppressions ADD COLUMN reminded_at TEXT;
    ALTER TABLE consent_log RENAME COLUMN phone TO address;
    "#,
    // 6: the owner's inbox: the password hash and the sign-in sessions.
    r#"
    -- One owner; the hash is argon2id in PHC form (salt and parameters inside).
    CREATE TABLE owner_password (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        hash       TEXT NOT NULL,
        changed_at TEXT NOT NULL
    );
    -- A session is stored as the SHA-256 of its token, never the token.
    CREATE TABLE owner_sessions (
        token_hash TEXT PRIMARY KEY,
        csrf       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    ) WITHOUT ROWID;
    -- The newest message of a contact the owner has seen (unread counts).
    ALTER TABLE contacts ADD COLUMN read_up_to INTEGER NOT NULL DEFAULT 0;
    "#,
    // 7: the health check writes one row, so a disk that takes no writes fails it.
    r#"
    CREATE TABLE health (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        checked_at TEXT NOT NULL
    );
    INSERT INTO health (id, checked_at) VALUES (1, '');
    "#,
    // 8: `Idempotency-Key`s of the admin API: a retried request finds the
    // message its first try queued (the same transaction wrote both).
    r#"
    CREATE TABLE idempotency_keys (
        key          TEXT PRIMARY KEY,
        request_hash TEXT NOT NULL,              -- SHA-256 of the route and body
        message_id   INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        created_at   TEXT NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 9: staff answer from their own WhatsApp.
    r#"
    -- The staff member (a contact) holding a conversation: their replies go to
    -- the customer, another's are refused until they #take it.
    ALTER TABLE sessions ADD COLUMN held_by INTEGER REFERENCES contacts (id);
    -- Messages to staff about a customer (alerts, forwarded lines): a reply
    -- quoting one goes to that customer.
    CREATE TABLE staff_notes (
        message_id  INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
        customer_id INTEGER NOT NULL REFERENCES contacts (id),
        kind        TEXT NOT NULL CHECK (kind IN ('alert', 'forward'))
    );
    CREATE INDEX staff_notes_customer ON staff_notes (customer_id, message_id);
    -- The conversation each staff member handles now, and whether they were
    -- told so since they switched to it.
    CREATE TABLE staff_desks (
        staff_id    INTEGER PRIMARY KEY REFERENCES contacts (id),
        customer_id INTEGER REFERENCES contacts (id),
        announced   INTEGER NOT NULL DEFAULT 0
    );
    "#,
    // 10: webhook items that could not be read (a message without a usable
    // sender, a status without an id): kept whole for the operator, the
    // newest 1,000.
    r#"
    CREATE TABLE unreadable_items (
        id          INTEGER PRIMARY KEY,
        channel     TEXT NOT NULL,
        reason      TEXT NOT NULL,
        raw         TEXT NOT NULL,
        received_at TEXT NOT NULL
    );
    "#,
    // 11: the Content API templates made for menus (Twilio with
    // `interactive = "content"`): one per menu node, language and content
    // hash, made once and reused.
    r#"
    CREATE TABLE content_templates (
        node        TEXT NOT NULL,
        language    TEXT NOT NULL,
        hash        TEXT NOT NULL,
        sid         TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        PRIMARY KEY (node, language, hash)
    );
    "#,
    // 12: the language a customer picked (a switch word, the language
    // choice, or the owner in the inbox); NULL: never picked.
    r#"
    ALTER TABLE contacts ADD COLUMN language TEXT;
    "#,
    // 13: staff accounts for the inbox. Each user signs in with a name and a
    // password; the one password set before becomes the first user, "owner".
    // A session belongs to a user. Who wrote a message, and who handed a
    // conversation back or sent a message again, is kept by name (so it
    // outlives a removed account).
    r#"
    CREATE TABLE inbox_users (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
        hash       TEXT NOT NULL,
        created_at TEXT NOT NULL,
        changed_at TEXT NOT NULL
    );
    INSERT INTO inbox_users (id, name, hash, created_at, changed_at)
        SELECT 1, 'owner', hash, changed_at, changed_at FROM owner_password;
    DROP TABLE owner_password;
    ALTER TABLE owner_sessions ADD COLUMN user_id INTEGER REFERENCES inbox_users (id);
    UPDATE owner_sessions SET user_id = (SELECT id FROM inbox_users WHERE id = 1);
    ALTER TABLE messages ADD COLUMN sent_by TEXT;
    CREATE TABLE inbox_actions (
        id         INTEGER PRIMARY KEY,
        contact_id INTEGER NOT NULL REFERENCES contacts (id),
        message_id INTEGER REFERENCES messages (id),
        user_name  TEXT NOT NULL,
        action     TEXT NOT NULL CHECK (action IN ('handed_back', 'resent', 'marked_sent', 'dropped')),
        at         TEXT NOT NULL
    );
    CREATE INDEX inbox_actions_by_contact ON inbox_actions (contact_id, id);
    "#,
    // 14: the CHECKs on the busiest tables without `IN (…)` lists: SQLite
    // builds a temporary index for such a list on every INSERT and UPDATE
    // (about 17,000 instructions per webhook). `messages.channel` keeps no
    // list at all (the channels are what the code registers; a stored name
    // it does not know is reported as corrupt when read); the rest say the
    // same with `OR`. Only the schema's text changes (SQLite's documented
    // way to change a CHECK without rebuilding a table: every stored row
    // already satisfies the new checks), so a large database migrates at once.
    r#"
    PRAGMA writable_schema = ON;
    UPDATE sqlite_schema SET sql = replace(replace(sql,
        'channel     TEXT NOT NULL CHECK (channel IN (''twilio'', ''meta'', ''local''))',
        'channel     TEXT NOT NULL'),
        'direction   TEXT NOT NULL CHECK (direction IN (''inbound'', ''outbound''))',
        'direction   TEXT NOT NULL CHECK (direction = ''inbound'' OR direction = ''outbound'')')
      WHERE type = 'table' AND name = 'messages';
    UPDATE sqlite_schema SET sql = replace(replace(sql,
        'CHECK (state IN (''queued'', ''sending'', ''sent'', ''failed'', ''uncertain''))',
        'CHECK (state = ''queued'' OR state = ''sending'' OR state = ''sent'' OR state = ''failed'' OR state = ''uncertain'')'),
        'CHECK (kind IN (''text'', ''template'', ''meta_template'', ''reply''))',
        'CHECK (kind = ''text'' OR kind = ''template'' OR kind = ''meta_template'' OR kind = ''reply'')')
      WHERE type = 'table' AND name = 'outbox';
    PRAGMA writable_schema = RESET;
    "#,
    // 15: a submission's life: the status the owner sets in the inbox, with
    // an optional note for the customer, and when they last set it.
    r#"
    ALTER TABLE submissions ADD COLUMN status TEXT NOT NULL DEFAULT 'new'
        CHECK (status = 'new' OR status = 'in_progress' OR status = 'done');
    ALTER TABLE submissions ADD COLUMN status_note TEXT;
    ALTER TABLE submissions ADD COLUMN status_at TEXT;
    "#,
    // 16: the outbox's unfinished messages (queued, sending, uncertain) in
    // order: the sender's "what is due next" walks them and stops at the
    // first one nothing is ahead of. Without it, each send looked at every
    // queued message and, for each, at its contact's whole history: a
    // backlog of Q messages cost Q x history per send.
    r#"
    CREATE INDEX outbox_unfinished ON outbox(message_id) WHERE state != 'sent' AND state != 'failed';
    "#,
    // 17: the template a free-form notice (a staff alert, an order or
    // submission update) goes as if the 24-hour window has closed by the time
    // it is sent (JSON as in `template`; NULL: none, and in older rows).
    r#"
    ALTER TABLE outbox ADD COLUMN fallback TEXT;
    "#,
    // 18: waiting marks the conversation no longer has. Before the fix, a
    // customer who went back to the bot (a main-menu word, or writing again
    // after the session's timeout) stayed marked as waiting for a person, and
    // held by the staff member who had it: a database written then lists
    // them all as waiting. Only a session still with a person keeps its marks.
    r#"
    UPDATE sessions SET waiting_since = NULL, held_by = NULL
        WHERE (waiting_since IS NOT NULL OR held_by IS NOT NULL)
          AND json_extract(state, '$.at') IS NOT 'with_person';
    "#,
];

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

/// Applies the missing migrations in one transaction.
///
/// Foreign keys are off while they run (a table rebuilt to change a constraint
/// is dropped and renamed, which would otherwise trip them) and checked before
/// the commit; the caller turns them on afterwards.
pub fn run(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
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
    let broken: Option<String> = tx
        .query_row("SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1", [], |r| {
            r.get(0)
        })
        .optional()?;
    if let Some(table) = broken {
        return Err(StoreError::Corrupt {
            what: "foreign keys after migrating",
            detail: format!("table {table} has rows pointing at nothing"),
        });
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database at version 12, the last with one inbox password.
    fn at_version_12() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..12] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 12).unwrap();
        conn
    }

    #[test]
    fn the_single_password_and_its_sessions_become_the_first_account() {
        let mut conn = at_version_12();
        conn.execute_batch(
            "INSERT INTO owner_password (id, hash, changed_at) VALUES (1, '$argon2id$old', '2026-01-01T00:00:00Z');
             INSERT INTO owner_sessions (token_hash, csrf, created_at, expires_at)
                 VALUES ('h', 'c', '2026-01-01T00:00:00Z', '2099-01-01T00:00:00Z');",
        )
        .unwrap();
        run(&mut conn, Path::new(":memory:")).unwrap();
        let (name, hash): (String, String) = conn
            .query_row("SELECT name, hash FROM inbox_users", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!((name.as_str(), hash.as_str()), ("owner", "$argon2id$old"));
        let user: i64 = conn
            .query_row("SELECT user_id FROM owner_sessions WHERE token_hash = 'h'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(user, 1, "still signed in, as the owner");
    }

    #[test]
    fn the_busy_tables_check_without_in_lists_and_still_refuse_what_they_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        run(&mut conn, Path::new(":memory:")).unwrap();
        let schema: String = conn
            .query_row(
                "SELECT group_concat(sql, ' ') FROM sqlite_schema WHERE name IN ('messages', 'outbox')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!schema.contains(" IN ("), "{schema}");
        assert!(
            schema.contains("direction = 'inbound' OR direction = 'outbound'"),
            "{schema}"
        );
        let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(integrity, "ok");
        let insert = |direction: &str| {
            conn.execute(
                "INSERT INTO messages (channel, direction, from_addr, to_addr, created_at) VALUES ('twilio', ?1, 'a', 'b', 'now')",
                [direction],
            )
        };
        assert!(insert("inbound").is_ok());
        assert!(insert("sideways").is_err(), "the direction is still checked");
        let id = conn.last_insert_rowid();
        let queue = |state: &str| {
            conn.execute(
                "INSERT INTO outbox (message_id, state, kind, next_attempt_at, updated_at) VALUES (?1, ?2, 'text', 'now', 'now')",
                rusqlite::params![id, state],
            )
        };
        assert!(queue("lost").is_err(), "the state is still checked");
        assert!(queue("queued").is_ok());
    }

    #[test]
    fn waiting_marks_of_conversations_back_with_the_bot_are_cleared() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..16] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 16).unwrap();
        let with_person = serde_json::to_string(&crate::engine::State::WithPerson { acknowledged: true }).unwrap();
        let at_menu = serde_json::to_string(&crate::engine::State::Menu { node: "main".into() }).unwrap();
        for (id, state) in [(1, &with_person), (2, &at_menu), (3, &at_menu)] {
            conn.execute(
                "INSERT INTO contacts (id, phone, created_at) VALUES (?1, '+2782555000' || ?1, 'x')",
                [id],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO sessions (contact_id, state, updated_at, waiting_since, held_by) VALUES (?1, ?2, 'x', 'since', 1)",
                rusqlite::params![id, state],
            )
            .unwrap();
        }
        conn.execute("UPDATE sessions SET waiting_since = NULL WHERE contact_id = 3", [])
            .unwrap();
        run(&mut conn, Path::new(":memory:")).unwrap();
        let marks: Vec<(i64, Option<String>, Option<i64>)> = conn
            .prepare("SELECT contact_id, waiting_since, held_by FROM sessions ORDER BY contact_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            marks,
            [(1, Some("since".into()), Some(1)), (2, None, None), (3, None, None)],
            "only the conversation still with a person keeps its marks"
        );
    }

    #[test]
    fn without_a_password_no_account_is_made() {
        let mut conn = at_version_12();
        run(&mut conn, Path::new(":memory:")).unwrap();
        let users: i64 = conn
            .query_row("SELECT count(*) FROM inbox_users", [], |r| r.get(0))
            .unwrap();
        assert_eq!(users, 0);
    }
}
