//! Tests of the Meta webhook parser, on payloads shaped like Meta's documented
//! examples (and pywa's fixtures of real webhooks).

use serde_json::{json, Value};

use super::*;

/// A one-entry, one-change webhook around `value`.
fn envelope(value: Value) -> Vec<u8> {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]
    })
    .to_string()
    .into_bytes()
}

/// The value of a change carrying `message` from +27 82 123 4567 (Ava).
fn from_ava(message: Value) -> Vec<u8> {
    envelope(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Ava"}, "wa_id": "27821234567", "user_id": "ZA.1001"}],
        "messages": [message]
    }))
}

/// The only inbound message of a one-message webhook.
fn only(message: Value) -> Inbound {
    let batch = parse(&from_ava(message)).unwrap();
    assert_eq!(batch.inbound.len(), 1, "{batch:?}");
    batch.inbound.into_iter().next().unwrap_or_else(|| unreachable!())
}

fn number(e164: &str) -> Option<PhoneNumber> {
    Some(PhoneNumber::parse(e164).unwrap())
}

const MULTI: &str = r#"{
  "object": "whatsapp_business_account",
  "entry": [
    {"id": "WABA1", "changes": [
      {"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "PNID1"},
        "contacts": [{"profile": {"name": "Ava"}, "wa_id": "27821234567"}],
        "messages": [
          {"from": "27821234567", "id": "wamid.A1", "timestamp": "1749416383", "type": "text", "text": {"body": "hi"}},
          {"from": "27821234567", "id": "wamid.A2", "timestamp": "1749416384", "type": "image",
           "image": {"caption": "cracked", "mime_type": "image/jpeg", "sha256": "x", "id": "MEDIA1"}}
        ],
        "statuses": [
          {"id": "wamid.OUT1", "status": "sent", "timestamp": "1749416385", "recipient_id": "27821234567"},
          {"id": "wamid.OUT1", "status": "delivered", "timestamp": "1749416386", "recipient_id": "27821234567"}
        ]}},
      {"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_name": "x"}}
    ]},
    {"id": "WABA2", "changes": [
      {"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550009999", "phone_number_id": "PNID2"},
        "contacts": [
          {"profile": {"name": "Ben"}, "wa_id": "4915112345678"},
          {"profile": {"name": "Cleo"}, "wa_id": "447700900123", "user_id": "GB.777"}
        ],
        "messages": [
          {"from": "4915112345678", "id": "wamid.B1", "timestamp": "1749416390", "type": "text", "text": {"body": "2"}},
          {"from": "447700900123", "id": "wamid.C1", "timestamp": "1749416391", "type": "interactive",
           "interactive": {"type": "list_reply", "list_reply": {"id": "order_status", "title": "Check order"}}}
        ],
        "statuses": [
          {"id": "wamid.OUT2", "status": "read", "timestamp": "1749416392", "recipient_id": "4915112345678"},
          {"id": "wamid.OUT3", "status": "failed", "timestamp": "1749416393", "recipient_id": "447700900123",
           "errors": [{"code": 131047, "title": "Re-engagement message",
                       "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}]}
        ]}}
    ]}
  ]
}"#;

#[test]
fn every_entry_change_message_and_status_is_read() {
    let batch = parse(MULTI.as_bytes()).unwrap();
    let keys: Vec<&str> = batch.inbound.iter().map(|m| m.key.as_str()).collect();
    assert_eq!(keys, ["wamid.A1", "wamid.A2", "wamid.B1", "wamid.C1"]);
    let statuses: Vec<(&str, &str)> = batch
        .statuses
        .iter()
        .map(|s| (s.key.as_str(), s.status.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("wamid.OUT1", "sent"),
            ("wamid.OUT1", "delivered"),
            ("wamid.OUT2", "read"),
            ("wamid.OUT3", "failed")
        ]
    );
    assert_eq!(batch.ignored.len(), 1, "{:?}", batch.ignored);
    assert!(
        batch.ignored[0].contains("entry[0].changes[1]") && batch.ignored[0].contains("message_template_status_update")
    );

    let cleo = &batch.inbound[3];
    assert_eq!(
        cleo.profile_name.as_deref(),
        Some("Cleo"),
        "the contact that matches, not contacts[0]"
    );
    assert_eq!(
        cleo.from,
        ContactRef {
            phone: number("+447700900123"),
            user_id: Some("GB.777".into())
        }
    );
    assert_eq!(
        (cleo.to_addr.as_str(), cleo.text.as_str(), cleo.tap.as_deref()),
        ("PNID2", "Check order", Some("order_status"))
    );
    assert_eq!(batch.inbound[2].profile_name.as_deref(), Some("Ben"));
    assert_eq!(batch.inbound[0].to_addr, "PNID1");

    let failed = &batch.statuses[3];
    assert_eq!(failed.error_code.as_deref(), Some("131047"));
    let message = failed.error_message.as_deref().unwrap_or_default();
    assert!(
        message.starts_with("Re-engagement message: Message failed to send because more than 24 hours"),
        "{message}"
    );
    assert_eq!(
        (failed.to_addr.as_deref(), failed.from_addr.as_deref()),
        (Some("447700900123"), Some("PNID2"))
    );
    assert_eq!(failed.channel, Channel::Meta);
    assert!(serde_json::from_str::<Value>(&failed.raw).unwrap()["errors"].is_array());
}

#[test]
fn a_text_message_becomes_an_inbound() {
    let m = only(json!({
        "from": "27821234567", "id": "wamid.T1", "timestamp": "1", "type": "text",
        "text": {"body": "Hi there"}, "context": {"from": "15550783881", "id": "wamid.ALERT"}
    }));
    assert_eq!(m.channel, Channel::Meta);
    assert_eq!(m.key, "wamid.T1");
    assert_eq!(
        m.from,
        ContactRef {
            phone: number("+27821234567"),
            user_id: Some("ZA.1001".into())
        }
    );
    assert_eq!(
        (m.from_addr.as_str(), m.to_addr.as_str()),
        ("27821234567", "106540352242922")
    );
    assert_eq!((m.text.as_str(), m.media.len()), ("Hi there", 0));
    assert_eq!(m.profile_name.as_deref(), Some("Ava"));
    assert_eq!(m.reply_to.as_deref(), Some("wamid.ALERT"));
    let raw: Value = serde_json::from_str(&m.raw).unwrap();
    assert_eq!(raw["text"]["body"], "Hi there");
}

#[test]
fn media_messages_carry_the_media_id_and_the_caption() {
    for (kind, mime, caption) in [
        ("image", "image/jpeg", Some("Screen is cracked")),
        ("document", "application/pdf", Some("invoice")),
        ("audio", "audio/ogg; codecs=opus", None),
        ("video", "video/mp4", Some("see")),
        ("sticker", "image/webp", None),
    ] {
        let mut object = json!({"mime_type": mime, "sha256": "abc=", "id": format!("M-{kind}")});
        if let Some(caption) = caption {
            object["caption"] = json!(caption);
        }
        let m = only(json!({"from": "27821234567", "id": "wamid.M", "type": kind, kind: object}));
        assert_eq!(m.text, caption.unwrap_or_default(), "{kind}");
        assert_eq!(
            m.media,
            [Media {
                url: String::new(),
                id: Some(format!("M-{kind}")),
                content_type: mime.into()
            }],
            "{kind}"
        );
    }
}

#[test]
fn taps_give_the_title_as_text_and_the_id_as_the_tap() {
    let tap = |interactive: Value| {
        let m =
            only(json!({"from": "27821234567", "id": "wamid.I", "type": "interactive", "interactive": interactive}));
        (m.text, m.tap)
    };
    let button = json!({"type": "button_reply", "button_reply": {"id": "main:defects", "title": "Report defect"}});
    assert_eq!(tap(button), ("Report defect".into(), Some("main:defects".into())));
    let no_id = json!({"type": "button_reply", "button_reply": {"id": "", "title": "Report defect"}});
    assert_eq!(tap(no_id), ("Report defect".into(), None));
    let no_title = json!({"type": "button_reply", "button_reply": {"id": "main:defects"}});
    assert_eq!(tap(no_title), ("main:defects".into(), Some("main:defects".into())));
    let row =
        json!({"type": "list_reply", "list_reply": {"id": "main:schedule", "title": "Schedule", "description": "d"}});
    assert_eq!(tap(row), ("Schedule".into(), Some("main:schedule".into())));
    assert_eq!(
        tap(json!({"type": "nfm_reply", "nfm_reply": {}})),
        (String::new(), None)
    );

    let quick =
        |button: Value| only(json!({"from": "27821234567", "id": "wamid.B", "type": "button", "button": button})).text;
    assert_eq!(
        quick(json!({"payload": "STOP_PROMO", "text": "Stop promotions"})),
        "STOP_PROMO"
    );
    assert_eq!(quick(json!({"text": "Yes"})), "Yes");
}

#[test]
fn reactions_and_system_notices_never_reach_the_bot() {
    let reaction = json!({"from": "27821234567", "id": "wamid.R", "type": "reaction",
                          "reaction": {"message_id": "wamid.OUT1", "emoji": "👍"}});
    let system = json!({"from": "27821234567", "id": "wamid.S", "type": "system",
                        "system": {"body": "changed number", "type": "user_changed_number"}});
    for (message, what) in [(reaction, "reaction"), (system, "system notice")] {
        let batch = parse(&from_ava(message)).unwrap();
        assert!(batch.inbound.is_empty(), "{batch:?}");
        assert_eq!(batch.ignored.len(), 1);
        assert!(batch.ignored[0].contains(what), "{:?}", batch.ignored);
    }
}

#[test]
fn other_kinds_arrive_empty_so_the_menu_is_shown_again() {
    let kinds = [
        json!({"type": "location", "location": {"latitude": 12.25, "longitude": 43.9, "name": "Shop"}}),
        json!({"type": "contacts", "contacts": [{"name": {"formatted_name": "Bob"}, "phones": [{"phone": "+1 555"}]}]}),
        json!({"type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown"}]}),
        json!({"type": "order", "order": {"catalog_id": "1", "product_items": []}}),
        json!({"type": "something_new_in_2027", "something_new_in_2027": {"x": 1}}),
        json!({"type": "interactive"}),
        json!({}),
    ];
    for mut message in kinds {
        message["from"] = json!("27821234567");
        message["id"] = json!("wamid.K");
        let m = only(message.clone());
        assert_eq!((m.text.as_str(), m.media.len()), ("", 0), "{message}");
        assert_eq!(m.from.phone, number("+27821234567"));
    }
}

#[test]
fn a_sender_known_only_by_bsuid_is_a_contact() {
    let body = envelope(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "PNID"},
        "contacts": [{"profile": {"name": "Hidden", "username": "@hidden"}, "user_id": "US.13491208655302741918"}],
        "messages": [{"from_user_id": "US.13491208655302741918", "id": "wamid.U1", "type": "text", "text": {"body": "hi"}}]
    }));
    let batch = parse(&body).unwrap();
    let m = &batch.inbound[0];
    assert_eq!(m.from, ContactRef::user_id("US.13491208655302741918"));
    assert_eq!(m.from_addr, "US.13491208655302741918");
    assert_eq!(m.profile_name.as_deref(), Some("Hidden"));
    assert_eq!(m.from.display(), "US.13491208655302741918");
}

#[test]
fn a_bsuid_only_on_the_contact_entry_is_used() {
    let body = envelope(json!({
        "metadata": {"phone_number_id": "PNID"},
        "contacts": [{"profile": {"name": "Nameless"}, "user_id": "BR.1502576394655843"}],
        "messages": [{"id": "wamid.U2", "type": "text", "text": {"body": "oi"}}]
    }));
    let m = &parse(&body).unwrap().inbound[0];
    assert_eq!(m.from, ContactRef::user_id("BR.1502576394655843"));
    assert_eq!(m.from_addr, "BR.1502576394655843");
}

#[test]
fn messages_without_an_id_or_a_sender_are_kept_whole_with_a_reason() {
    let body = envelope(json!({
        "metadata": {"phone_number_id": "PNID"},
        "contacts": [{"profile": {"name": "A"}, "wa_id": "27821234567"}, {"profile": {"name": "B"}, "wa_id": "123"}],
        "messages": [
            {"from": "27821234567", "type": "text", "text": {"body": "no id"}},
            {"id": "wamid.NOFROM", "type": "text", "text": {"body": "no sender"}},
            {"from": "not-a-number", "id": "wamid.BADFROM", "type": "text", "text": {"body": "x"}},
            {"from": "27821234567", "id": "wamid.OK", "type": "text", "text": {"body": "fine"}},
            "not an object",
            42
        ]
    }));
    let batch = parse(&body).unwrap();
    assert_eq!(batch.inbound.len(), 1);
    assert_eq!(batch.inbound[0].key, "wamid.OK");
    let reasons: Vec<&str> = batch.unusable.iter().map(|u| u.reason.as_str()).collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(reasons[0].contains("messages[0]") && reasons[0].contains("without an id"));
    assert!(reasons[1].contains("wamid.NOFROM") && reasons[1].contains("no usable sender (no from, and 2 contacts"));
    assert!(reasons[2].contains("wamid.BADFROM"));
    assert!(batch.unusable[1].raw.contains("no sender"), "kept whole");
    assert_eq!(batch.unusable[4].raw, "42");
    assert!(batch.ignored.is_empty(), "{:?}", batch.ignored);
}

#[test]
fn statuses_map_onto_the_neutral_ladder() {
    let body = envelope(json!({
        "metadata": {"phone_number_id": "PNID"},
        "statuses": [
            {"id": "wamid.1", "status": "DELIVERED", "recipient_id": "27821234567"},
            {"id": "wamid.2", "status": "played", "recipient_id": "27821234567"},
            {"id": "wamid.3", "status": "read", "recipient_user_id": "US.1"},
            {"id": "wamid.4", "status": "failed", "errors": [
                {"code": 130472, "message": "User's number is part of an experiment"}]},
            {"id": "wamid.5", "status": "failed", "errors": [
                {"code": "131026", "error_data": {"details": "Message undeliverable"}}]},
            {"status": "sent"},
            {"id": "wamid.6"}
        ]
    }));
    let batch = parse(&body).unwrap();
    let words: Vec<&str> = batch.statuses.iter().map(|s| s.status.as_str()).collect();
    assert_eq!(words, ["delivered", "played", "read", "failed", "failed"]);
    assert_eq!(batch.statuses[2].to_addr.as_deref(), Some("US.1"));
    assert_eq!(batch.statuses[0].error_code, None);
    assert_eq!(batch.statuses[3].error_code.as_deref(), Some("130472"));
    assert_eq!(
        batch.statuses[3].error_message.as_deref(),
        Some("User's number is part of an experiment")
    );
    assert_eq!(batch.statuses[4].error_code.as_deref(), Some("131026"));
    assert_eq!(
        batch.statuses[4].error_message.as_deref(),
        Some("Message undeliverable")
    );
    assert_eq!(batch.unusable.len(), 2, "{:?}", batch.unusable);
    assert!(batch.unusable[0].reason.contains("a status without an id"));
    assert!(batch.unusable[1].reason.contains("wamid.6 has no status word"));
}

#[test]
fn bad_json_and_non_objects_are_errors() {
    assert!(matches!(parse(b"{\"object\": "), Err(WebhookError::NotJson(_))));
    assert!(matches!(parse(b""), Err(WebhookError::NotJson(_))));
    assert!(matches!(parse(&[0xff, 0xfe]), Err(WebhookError::NotJson(_))));
    assert_eq!(parse(b"[1, 2]"), Err(WebhookError::NotAnObject("an array")));
    assert_eq!(parse(b"\"hi\""), Err(WebhookError::NotAnObject("a string")));
    let err = parse(b"nope").unwrap_err().to_string();
    assert!(err.starts_with("the body is not valid JSON"), "{err}");
}

#[test]
fn other_objects_fields_and_shapes_are_ignored_not_errors() {
    let page = parse(br#"{"object":"page","entry":[{"changes":[{"field":"messages","value":{}}]}]}"#).unwrap();
    assert!(page.inbound.is_empty() && page.ignored[0].contains("\"page\""));
    let none = parse(b"{}").unwrap();
    assert_eq!(none.ignored, ["no object (expected \"whatsapp_business_account\")"]);
    let odd = parse(br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"calls","value":{}},{"field":"messages"},{"field":"messages","value":{"metadata":{}}}]}, 7, {"changes": "x"}]}"#).unwrap();
    assert_eq!(odd.ignored.len(), 3, "{:?}", odd.ignored);
    let errors = envelope(json!({"metadata": {"phone_number_id": "P"},
        "errors": [{"code": 131000, "title": "Something went wrong", "error_data": {"details": "try later"}}]}));
    let reported = parse(&errors).unwrap();
    assert_eq!(
        reported.ignored,
        ["entry[0].changes[0]: Meta reported error 131000: Something went wrong: try later"]
    );
}
