//! Tests of the Graph API request bodies and answer handling.

use serde_json::json;

use super::*;
use crate::phone::PhoneNumber;

fn ava() -> ContactRef {
    ContactRef::phone(PhoneNumber::parse("+27821234567").unwrap())
}

fn text_content(body: &str, media: &[&str]) -> Content {
    Content::Text {
        body: body.into(),
        media_urls: media.iter().map(|u| u.to_string()).collect(),
    }
}

fn verdict_of(e: &SendError) -> Option<Refused> {
    match e {
        SendError::Rejected { verdict, .. } => Some(*verdict),
        _ => None,
    }
}

#[test]
fn the_messages_url_has_version_and_phone_number_id() {
    let client = GraphClient::new(
        "https://graph.facebook.com/",
        "v25.0",
        "1234567890",
        Secret::new("EAAtoken"),
    );
    assert_eq!(
        client.messages_url(),
        "https://graph.facebook.com/v25.0/1234567890/messages"
    );
    assert!(!format!("{client:?}").contains("EAAtoken"));
}

#[test]
fn text_goes_to_the_phone_digits_without_link_preview() {
    let bodies = request_body(&ava(), &text_content("Your order is ready", &[])).unwrap();
    assert_eq!(
        bodies,
        [json!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": "27821234567",
            "type": "text", "text": {"body": "Your order is ready", "preview_url": false}
        })]
    );
    let reply = request_body(
        &ava(),
        &Content::Reply {
            body: "Welcome!".into(),
            choice: None,
        },
    )
    .unwrap();
    assert_eq!(reply[0]["text"], json!({"body": "Welcome!", "preview_url": false}));
}

#[test]
fn media_is_one_image_per_url_with_the_caption_on_the_first() {
    let bodies = request_body(
        &ava(),
        &text_content("Photos", &["https://x.test/a.jpg", "https://x.test/b.jpg"]),
    )
    .unwrap();
    assert_eq!(bodies.len(), 2);
    assert_eq!(bodies[0]["type"], "image");
    assert_eq!(
        bodies[0]["image"],
        json!({"link": "https://x.test/a.jpg", "caption": "Photos"})
    );
    assert_eq!(bodies[1]["image"], json!({"link": "https://x.test/b.jpg"}));
    assert_eq!(bodies[1]["to"], "27821234567");
    let bare = request_body(&ava(), &text_content("", &["https://x.test/a.jpg"])).unwrap();
    assert_eq!(bare[0]["image"], json!({"link": "https://x.test/a.jpg"}));
}

#[test]
fn a_meta_template_has_body_parameters_in_order() {
    let content = Content::Template(Template::numbered(
        Channel::Meta,
        "order_ready",
        Some("en_US"),
        ["Ava".to_string(), "18473".to_string()],
    ));
    let body = &request_body(&ava(), &content).unwrap()[0];
    assert_eq!(body["type"], "template");
    assert_eq!(
        body["template"],
        json!({
            "name": "order_ready", "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [
                {"type": "text", "text": "Ava"}, {"type": "text", "text": "18473"}]}]
        })
    );
    let plain = Content::Template(Template::numbered(Channel::Meta, "hello_world", Some("en_US"), []));
    let body = &request_body(&ava(), &plain).unwrap()[0];
    assert_eq!(
        body["template"],
        json!({"name": "hello_world", "language": {"code": "en_US"}})
    );
}

#[test]
fn a_bsuid_only_contact_is_sent_to_by_recipient() {
    let hidden = ContactRef::user_id("US.13491208655302741918");
    let body = &request_body(&hidden, &text_content("hi", &[])).unwrap()[0];
    assert_eq!(body["recipient"], "US.13491208655302741918");
    assert!(body.get("to").is_none(), "{body}");
    let both = ContactRef {
        phone: ava().phone,
        user_id: Some("ZA.1".into()),
    };
    let body = &request_body(&both, &text_content("hi", &[])).unwrap()[0];
    assert_eq!(body["to"], "27821234567");
    assert!(body.get("recipient").is_none(), "{body}");
}

#[test]
fn what_meta_cannot_send_is_refused_for_good_before_any_call() {
    let twilio = Content::Template(Template::numbered(Channel::Twilio, "HX123", None, []));
    let nobody = ContactRef {
        phone: None,
        user_id: Some(" ".into()),
    };
    for (to, content) in [
        (ava(), twilio),
        (nobody, text_content("hi", &[])),
        (ava(), text_content(" ", &[])),
    ] {
        let err = request_body(&to, &content).unwrap_err();
        assert_eq!(verdict_of(&err), Some(Refused::Final), "{err:?}");
        assert!(matches!(
            err,
            SendError::Rejected {
                http_status: 0,
                channel: Channel::Meta,
                ..
            }
        ));
    }
    let err = request_body(
        &ava(),
        &Content::Template(Template::numbered(Channel::Twilio, "HX9", None, [])),
    );
    assert!(
        err.unwrap_err().to_string().contains("\"HX9\" is a template of twilio"),
        "the refusal says why"
    );
}

#[test]
fn a_success_needs_a_message_id() {
    let ok = r#"{"messaging_product":"whatsapp","contacts":[{"input":"27821234567","wa_id":"27821234567"}],"messages":[{"id":"wamid.HBgL"}]}"#;
    assert_eq!(
        parse_answer(200, ok),
        Ok(Sent {
            key: "wamid.HBgL".into(),
            status: MessageStatus::Sent
        })
    );
    for body in [r#"{"messages":[{"id":""}]}"#, r#"{"messages":[]}"#, "{}", "<html>", ""] {
        let err = parse_answer(200, body).unwrap_err();
        assert!(matches!(err, SendError::Unknown(Channel::Meta, _)), "{body}: {err:?}");
    }
}

fn graph(code: i64) -> String {
    json!({"error": {"message": format!("(#{code}) Title"), "type": "OAuthException", "code": code,
                      "error_data": {"messaging_product": "whatsapp", "details": "Some details"},
                      "fbtrace_id": "AbCdEf"}})
    .to_string()
}

#[test]
fn graph_codes_decide_the_verdict() {
    let cases = [
        (400, graph(131047), Refused::WindowClosed),
        (400, graph(130429), Refused::RateLimited),
        (400, graph(131056), Refused::RateLimited),
        (400, graph(80007), Refused::RateLimited),
        (403, graph(4), Refused::RateLimited),
        (429, String::new(), Refused::RateLimited),
        (500, graph(131000), Refused::ServerError),
        (503, graph(1), Refused::ServerError),
        (502, graph(2), Refused::ServerError),
        (502, "<html>Bad gateway</html>".into(), Refused::ServerError),
        (401, graph(190), Refused::Final),
        (400, graph(100), Refused::Final),
        (400, graph(131026), Refused::Final),
        (404, "not found".into(), Refused::Final),
    ];
    for (status, body, expected) in cases {
        assert_eq!(
            verdict_of(&classify_error(status, &body)),
            Some(expected),
            "{status} {body}"
        );
    }
}

#[test]
fn the_error_keeps_code_message_details_and_trace() {
    let err = classify_error(400, &graph(131047));
    let SendError::Rejected {
        code,
        message,
        http_status,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((code.as_deref(), *http_status), (Some("131047"), 400));
    assert_eq!(message, "(#131047) Title: Some details (fbtrace_id AbCdEf)");
    assert_eq!(err.code_and_message().0, "131047");
    let string_code = classify_error(400, r#"{"error":{"code":"131056","message":"pair"}}"#);
    assert_eq!(verdict_of(&string_code), Some(Refused::RateLimited));
}

#[test]
fn an_unparsable_error_body_keeps_its_first_200_characters() {
    let body = format!("<html>{}</html>", "x".repeat(500));
    let SendError::Rejected { code, message, .. } = classify_error(502, &body) else {
        panic!("a refusal")
    };
    assert_eq!(code, None);
    assert_eq!(message.chars().count(), 200);
    assert!(message.starts_with("<html>xxx"));
    let SendError::Rejected { message, .. } = classify_error(400, r#"{"error":"nope"}"#) else {
        panic!("a refusal")
    };
    assert_eq!(message, r#"{"error":"nope"}"#);
}

/// A Graph stand-in answering each request in turn from `answers`.
fn serving(answers: Vec<(u16, &'static str)>) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    std::thread::spawn(move || {
        for (status, body) in answers {
            let Ok(request) = server.recv() else { return };
            let _ = request.respond(tiny_http::Response::from_string(body).with_status_code(status));
        }
    });
    url
}

#[test]
fn a_later_image_failing_after_the_first_went_out_is_uncertain() {
    let url = serving(vec![(200, r#"{"messages":[{"id":"wamid.FIRST"}]}"#), (500, "{}")]);
    let client = GraphClient::new(&url, "v25.0", "PNID", Secret::new("EAAtoken"));
    let err = client
        .send(
            &ava(),
            &text_content("two", &["https://x.test/a.jpg", "https://x.test/b.jpg"]),
        )
        .unwrap_err();
    let SendError::Unknown(Channel::Meta, why) = &err else {
        panic!("{err:?}")
    };
    assert!(why.contains("wamid.FIRST") && why.contains("part 2 failed"), "{why}");
    assert!(!why.contains("EAAtoken"));
}

#[test]
fn every_image_going_out_gives_the_first_key() {
    let url = serving(vec![
        (200, r#"{"messages":[{"id":"wamid.ONE"}]}"#),
        (200, r#"{"messages":[{"id":"wamid.TWO"}]}"#),
    ]);
    let client = GraphClient::new(&url, "v25.0", "PNID", Secret::new("EAAtoken"));
    let sent = client
        .send(
            &ava(),
            &text_content("two", &["https://x.test/a.jpg", "https://x.test/b.jpg"]),
        )
        .unwrap();
    assert_eq!(sent.key, "wamid.ONE");
}
