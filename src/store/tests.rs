//! Store tests on a real SQLite file (and in memory where the file adds nothing).

use jiff::Timestamp;

use super::*;
use crate::engine::{Answer, State};
use crate::message::{Channel, ContactRef, Content, Inbound};
use crate::phone::PhoneNumber;

fn contact(number: &str) -> ContactRef {
    ContactRef::phone(PhoneNumber::parse(number).unwrap())
}

/// A text to queue for +27821234567 on Twilio.
fn outbound_text(body: &str) -> NewOutbound {
    NewOutbound {
        to: contact("+27821234567"),
        channel: Channel::Twilio,
        from_addr: "whatsapp:+14155238886".into(),
        to_addr: "whatsapp:+27821234567".into(),
        content: Content::Text {
            body: body.into(),
            media_urls: Vec::new(),
        },
    }
}

fn now() -> Timestamp {
    "2025-01-19T12:30:22Z".parse().unwrap()
}

#[test]
fn a_file_database_is_wal_with_full_sync_and_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let store = Store::open(&path).unwrap();
    let mode: String = store.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    let sync: i64 = store.conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
    let version: i64 = store.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!((mode.as_str(), sync, version), ("wal", 2, migrations::latest()));
    drop(store);
    Store::open(&path).unwrap(); // reopening runs no migration twice
}

#[test]
fn a_newer_schema_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let store = Store::open(&path).unwrap();
    store.conn.pragma_update(None, "user_version", 99).unwrap();
    drop(store);
    let err = Store::open(&path).err().unwrap().to_string();
    assert!(err.contains("schema version 99"), "{err}");
}

#[test]
fn both_number_forms_are_one_contact() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .write(|db| {
            let a = db.find_or_add_contact(&contact("whatsapp:+27821234567"), Some("T"), now())?;
            let b = db.find_or_add_contact(&contact("+27821234567"), None, now())?;
            assert_eq!(a, b);
            let name = |db: &Db<'_>| -> rusqlite::Result<String> {
                db.conn
                    .query_row("SELECT profile_name FROM contacts WHERE id = ?1", [a.0], |r| r.get(0))
            };
            assert_eq!(name(db)?, "T", "no profile name keeps the stored one");
            let c = db.find_or_add_contact(&contact("+27821234567"), Some("Thandi"), now())?;
            assert_eq!(a, c);
            assert_eq!(name(db)?, "Thandi", "a new profile name replaces the old");
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

#[test]
fn submission_ids_in_one_second_get_suffixes_and_are_never_reused() {
    let mut store = Store::open_in_memory().unwrap();
    let ids: Vec<String> = store
        .write(|db| (0..3).map(|_| db.next_submission_id("DEF", "20250119143022")).collect())
        .unwrap();
    assert_eq!(
        ids,
        ["DEF-20250119143022", "DEF-20250119143022-2", "DEF-20250119143022-3"]
    );
    let other = store
        .write(|db| db.next_submission_id("RMA", "20250119143022"))
        .unwrap();
    assert_eq!(other, "RMA-20250119143022");
}

#[test]
fn sessions_round_trip_and_history_is_newest_first() {
    let mut store = Store::open_in_memory().unwrap();
    let phone = contact("+27821234567");
    store
        .write(|db| {
            let c = db.find_or_add_contact(&phone, None, now())?;
            let state = State::Form {
                node: "defect_report".into(),
                question: 0,
                answers: vec![],
                media: vec![],
            };
            db.save_session(c, &state, now())?;
            assert_eq!(db.session(c)?.unwrap().state, state);
            for (i, text) in ["first", "second"].iter().enumerate() {
                let answers = [Answer {
                    field: "description".into(),
                    text: text.to_string(),
                    media: vec![],
                }];
                db.insert_submission(&format!("DEF-{i}"), "defect_report", c, &answers, text, None, now())?;
            }
            let list = db.recent_submissions(c, "defect_report", 5)?;
            assert_eq!(
                list.iter().map(|s| s.public_id.as_str()).collect::<Vec<_>>(),
                ["DEF-1", "DEF-0"]
            );
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

#[test]
fn a_failed_attempt_rolls_back_alone() {
    let mut store = Store::open_in_memory().unwrap();
    let results: Vec<Result<(), StoreError>> = store
        .write(|db| {
            let attempt = |number: &str| {
                db.attempt(|db| {
                    db.find_or_add_contact(&contact("+27821234567"), None, now())?;
                    db.next_submission_id("X", number)?;
                    if number.is_empty() {
                        return Err(StoreError::Corrupt {
                            what: "test",
                            detail: "boom".into(),
                        });
                    }
                    Ok(())
                })
            };
            Ok::<_, StoreError>(["A1", "", "A3"].into_iter().map(attempt).collect())
        })
        .unwrap();
    assert!(results[0].is_ok() && results[1].is_err() && results[2].is_ok());
    let n: i64 = store
        .conn
        .query_row("SELECT count(*) FROM submission_counters", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn orders_with_a_phone_are_only_for_that_customer() {
    let mut store = Store::open_in_memory().unwrap();
    let owner = contact("+27820000001");
    let other = contact("+27820000009");
    store
        .write(|db| {
            db.upsert_order(
                &NewOrder {
                    number: "A1002".into(),
                    status: "Ready".into(),
                    phone: Cell::Set(owner.phone.clone()),
                    note: Cell::Set(None),
                    updated: Cell::Set(None),
                },
                now(),
                jiff::civil::date(2025, 1, 19),
            )?;
            assert!(db.order_for("a1002", &owner)?.is_some(), "lookup is case-insensitive");
            assert!(db.order_for("A1002", &other)?.is_none());
            assert!(
                db.order_for("A1002", &ContactRef::user_id("ZA.1"))?.is_none(),
                "no number, no private order"
            );
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

#[test]
fn retention_walks_old_messages_in_batches_and_keeps_new_ones() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .conn
        .execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1203)
             INSERT INTO messages (channel, direction, from_addr, to_addr, body, created_at)
             SELECT 'twilio', 'inbound', 'a', 'b', 'old ' || i, '2020-01-01T00:00:00.000Z' FROM n;
             INSERT INTO messages (channel, direction, from_addr, to_addr, body, created_at)
             VALUES ('twilio', 'inbound', 'a', 'b', 'new', '2999-01-01T00:00:00.000Z');",
        )
        .unwrap();
    let cutoff: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
    let (mut batches, mut total, mut after) = (0, 0, 0);
    while let Some((n, last)) = store.write(|db| db.forget_message_bodies(cutoff, after, 500)).unwrap() {
        assert!(last > after);
        (batches, total, after) = (batches + 1, total + n, last);
    }
    assert_eq!((batches, total), (3, 1203));
    let left: Vec<String> = store
        .conn
        .prepare("SELECT body FROM messages WHERE body IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(left, ["new"]);
}

#[test]
fn retention_keeps_the_text_of_an_outbound_message_not_yet_sent() {
    let mut store = Store::open_in_memory().unwrap();
    let queued_at: Timestamp = "2020-01-01T00:00:00Z".parse().unwrap();
    let message = outbound_text("Your order is ready");
    let (held, queued) = store
        .write(|db| Ok::<_, StoreError>((db.enqueue(&message, queued_at)?, db.enqueue(&message, queued_at)?)))
        .unwrap();
    store
        .conn
        .execute("UPDATE outbox SET state = 'uncertain' WHERE message_id = ?1", [held])
        .unwrap();
    let cutoff: Timestamp = "2025-01-01T00:00:00Z".parse().unwrap();
    store.write(|db| db.forget_message_bodies(cutoff, 0, 500)).unwrap();
    let kept: i64 = store
        .conn
        .query_row(
            "SELECT count(*) FROM messages WHERE body = 'Your order is ready'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 2, "a queued and an uncertain message keep their text");
    store
        .conn
        .execute(
            "UPDATE outbox SET state = 'sent' WHERE message_id IN (?1, ?2)",
            [held, queued],
        )
        .unwrap();
    store.write(|db| db.forget_message_bodies(cutoff, 0, 500)).unwrap();
    let kept: i64 = store
        .conn
        .query_row("SELECT count(*) FROM messages WHERE body IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 0, "once sent, they are blanked like the rest");
}

/// How often a cached statement was prepared again after binding `contact` values.
fn reprepares(db: &Db<'_>, sql: &str, contacts: std::ops::Range<i64>) -> i32 {
    for contact in contacts {
        let mut stmt = db.conn.prepare_cached(sql).unwrap();
        let mut rows = stmt.query([contact]).unwrap();
        while rows.next().unwrap().is_some() {}
    }
    db.conn
        .prepare_cached(sql)
        .unwrap()
        .get_status(rusqlite::StatementStatus::RePrepare)
}

#[test]
fn cached_statements_are_not_prepared_again_when_parameters_are_bound_anew() {
    // Without the query planner stability guarantee, SQLite 3.54 re-prepares
    // both of these on every new binding (the ORDER BY one was 5 of 5).
    let ordered = "SELECT public_id FROM submissions WHERE contact_id = ?1 ORDER BY id DESC";
    let limited = "SELECT id FROM contacts LIMIT ?1";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let mut store = Store::open(&path).unwrap();
    store
        .write(|db| {
            assert_eq!(reprepares(db, ordered, 0..5), 0);
            assert_eq!(reprepares(db, limited, 1..6), 0);
            Ok::<_, StoreError>(())
        })
        .unwrap();
    let readers = ReadPool::new(&path);
    readers
        .read(|db| {
            assert_eq!(reprepares(db, ordered, 0..5), 0);
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_window_starts_at_the_newest_inbound_message_not_at_an_outbound_one() {
    let phone = contact("+27821234567");
    let at = |s: &str| -> Timestamp { s.parse().unwrap() };
    let inbound = |db: &Db<'_>, key: &str, channel: Channel, when: Timestamp| -> Result<(), StoreError> {
        let id = db.find_or_add_contact(&phone, None, when)?;
        let message = Inbound {
            channel,
            key: key.into(),
            from: phone.clone(),
            from_addr: "whatsapp:+27821234567".into(),
            to_addr: "whatsapp:+14155238886".into(),
            text: "hi".into(),
            media: Vec::new(),
            profile_name: None,
            reply_to: None,
            tap: None,
            raw: "[]".into(),
        };
        db.insert_inbound(&message, id, when).map(|_| ())
    };
    let mut store = Store::open_in_memory().unwrap();
    let facts = store
        .write(|db| {
            assert_eq!(db.contact_facts(&phone)?.last_inbound_at, None, "never wrote");
            inbound(db, "SM1", Channel::Twilio, at("2025-01-19T08:00:00Z"))?;
            inbound(db, "wamid.2", Channel::Meta, at("2025-01-19T09:00:00Z"))?;
            db.enqueue(&outbound_text("Your order is ready"), at("2025-01-19T10:00:00Z"))?;
            db.contact_facts(&phone)
        })
        .unwrap();
    assert_eq!(facts.last_inbound_at, Some(at("2025-01-19T09:00:00Z")));
    assert_eq!(facts.last_channel, Some(Channel::Meta), "the channel it last wrote on");
}

#[test]
fn a_contact_learns_its_user_id_and_is_found_by_either_address() {
    let mut store = Store::open_in_memory().unwrap();
    store
        .write(|db| {
            let by_number = db.find_or_add_contact(&contact("+27821234567"), None, now())?;
            let both = ContactRef {
                user_id: Some("ZA.abc".into()),
                ..contact("+27821234567")
            };
            assert_eq!(db.find_or_add_contact(&both, None, now())?, by_number);
            assert_eq!(db.find_contact(&ContactRef::user_id("ZA.abc"))?, Some(by_number));
            let hidden = db.find_or_add_contact(&ContactRef::user_id("ZA.xyz"), Some("Ava"), now())?;
            assert_ne!(hidden, by_number);
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

#[test]
fn a_stop_from_a_user_id_suppresses_that_contact() {
    let mut store = Store::open_in_memory().unwrap();
    let hidden = ContactRef::user_id("ZA.xyz");
    store
        .write(|db| {
            db.record_consent(&ConsentChange {
                who: &hidden,
                action: ConsentAction::OptOut,
                keyword: "stop",
                message_sid: "wamid.1",
                at: now(),
            })?;
            assert!(db.is_suppressed(&hidden)?);
            assert!(!db.is_suppressed(&contact("+27821234567"))?);
            Ok::<_, StoreError>(())
        })
        .unwrap();
}

#[test]
fn a_reply_does_not_wait_behind_an_uncertain_message_but_a_shop_message_does() {
    let mut store = Store::open_in_memory().unwrap();
    let at: Timestamp = "2025-01-19T10:00:00Z".parse().unwrap();
    let reply = NewOutbound {
        content: Content::Reply {
            body: "Welcome".into(),
            choice: None,
        },
        ..outbound_text("")
    };
    let (uncertain, answer, text) = store
        .write(|db| {
            Ok::<_, StoreError>((
                db.enqueue(&outbound_text("first"), at)?,
                db.enqueue(&reply, at)?,
                db.enqueue(&outbound_text("second"), at)?,
            ))
        })
        .unwrap();
    store
        .conn
        .execute(
            "UPDATE outbox SET state = 'uncertain' WHERE message_id = ?1",
            [uncertain],
        )
        .unwrap();
    let due = |store: &mut Store| {
        store
            .read(|db| db.next_due(at, &[Channel::Twilio]))
            .unwrap()
            .map(|job| job.id)
    };
    assert_eq!(due(&mut store), Some(answer), "the reply goes; the text waits");
    store
        .conn
        .execute("UPDATE outbox SET state = 'sent' WHERE message_id = ?1", [answer])
        .unwrap();
    assert_eq!(due(&mut store), None, "{text} still waits behind the uncertain one");
    assert_eq!(
        store.read(|db| db.next_due(at, &[Channel::Meta])).unwrap(),
        None,
        "other channels' only"
    );
}

#[test]
fn the_inbox_lists_waiting_conversations_first_then_the_newest_with_unread_counts() {
    let mut store = Store::open_in_memory().unwrap();
    let at = |m: i64| -> Timestamp { Timestamp::from_second(1_800_000_000 + m * 60).unwrap() };
    let say = |db: &Db<'_>, who: &str, key: &str, when: Timestamp| -> Result<ContactId, StoreError> {
        let from = contact(who);
        let id = db.find_or_add_contact(&from, Some("Ava"), when)?;
        let message = Inbound {
            channel: Channel::Twilio,
            key: key.into(),
            from,
            from_addr: format!("whatsapp:{who}"),
            to_addr: "whatsapp:+14155238886".into(),
            text: format!("text {key}"),
            media: Vec::new(),
            profile_name: None,
            reply_to: None,
            tap: None,
            raw: "[]".into(),
        };
        db.insert_inbound(&message, id, when)?;
        Ok(id)
    };
    let rows = store
        .write(|db| {
            let a = say(db, "+27820000001", "A1", at(1))?;
            let b = say(db, "+27820000002", "B1", at(2))?;
            say(db, "+27820000003", "C1", at(3))?;
            say(db, "+27820000001", "A2", at(4))?;
            db.save_session(b, &State::Menu { node: "main".into() }, at(2))?;
            db.mark_waiting_for_staff(b, at(2))?;
            let newest_of_a = db.contact_messages(a, 10)?.last().unwrap().id.unwrap();
            db.mark_read(a, newest_of_a)?;
            db.inbox(10, 0)
        })
        .unwrap();
    let order: Vec<(&str, u32)> = rows.iter().map(|r| (r.body.as_str(), r.unread)).collect();
    assert_eq!(
        order,
        [("text B1", 1), ("text A2", 0), ("text C1", 1)],
        "waiting first, then newest"
    );
    assert!(rows[0].waiting_since.is_some());
    let page_two = store.write(|db| db.inbox(1, 1)).unwrap();
    assert_eq!(page_two[0].body, "text A2");
    let found = store.write(|db| db.contact_by_key("+27820000003")).unwrap().unwrap();
    assert_eq!(found.who, contact("+27820000003"));
    assert_eq!(
        store
            .write(|db| db.contact_by_key(&found.id.0.to_string()))
            .unwrap()
            .unwrap()
            .id,
        found.id
    );
}

#[test]
fn the_inbox_query_seeks_the_index_instead_of_scanning_messages() {
    let store = Store::open_in_memory().unwrap();
    let plan: Vec<String> = store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", super::inbox::INBOX_SQL_FOR_PLAN))
        .unwrap()
        .query_map(rusqlite::params![50, 0], |r| r.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let text = plan.join("\n");
    assert!(!text.contains("SCAN m") && !text.contains("SCAN messages"), "{text}");
    assert!(text.contains("messages_by_contact"), "{text}");
}
