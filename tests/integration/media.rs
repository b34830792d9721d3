//! Media: inbound `NumMedia` / `MediaUrlN` / `MediaContentTypeN` are stored with
//! the message, and the defect report's optional photo is kept with the submission.

use crate::support::{new_sid, whatsapp_params, TestServer};

const CUSTOMER: &str = "+27825550501";
const PHOTO: &str =
    "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/MM1/Media/ME1";

fn photo_params(sid: &str) -> Vec<(String, String)> {
    let mut params = whatsapp_params(sid, CUSTOMER, "");
    for (k, v) in params.iter_mut() {
        match k.as_str() {
            "NumMedia" => *v = "1".into(),
            "MessageType" => *v = "image".into(),
            _ => {}
        }
    }
    params.push(("MediaUrl0".into(), PHOTO.into()));
    params.push(("MediaContentType0".into(), "image/jpeg".into()));
    params
}

/// The answers JSON of this customer's newest submission.
fn newest_answers(server: &TestServer) -> serde_json::Value {
    let conn = rusqlite::Connection::open(&server.db_path).unwrap();
    let json: String = conn
        .query_row("SELECT answers FROM submissions ORDER BY id DESC LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    serde_json::from_str(&json).unwrap()
}

#[test]
fn a_defect_report_keeps_its_photo() {
    let server = TestServer::start();
    server.say(CUSTOMER, "2");
    server.say(CUSTOMER, "1");
    server.say(CUSTOMER, "Cracked casing");
    let sid = new_sid();
    let reply = server.post_signed("/twilio/inbound", &photo_params(&sid)).text();
    assert!(reply.starts_with("✅ Defect Submitted! ID: DEF-"), "{reply}");

    let answers = newest_answers(&server);
    assert_eq!(answers[0]["text"], "Cracked casing");
    assert_eq!(answers[1]["field"], "photo");
    assert_eq!(answers[1]["media"][0]["url"], PHOTO);
    assert_eq!(answers[1]["media"][0]["content_type"], "image/jpeg");

    let (_, message) = server.api_get(&format!("/api/messages/{sid}"));
    assert_eq!(message["media"][0]["url"], PHOTO);
    assert_eq!(message["media"][0]["content_type"], "image/jpeg");
}

#[test]
fn the_photo_is_optional_and_other_text_asks_again() {
    let server = TestServer::start();
    server.say(CUSTOMER, "2");
    server.say(CUSTOMER, "1");
    server.say(CUSTOMER, "Loose screw");
    let again = server.say(CUSTOMER, "no photo sorry").text();
    assert!(again.starts_with("Please send a photo, or reply skip."), "{again}");
    let done = server.say(CUSTOMER, "Skip").text();
    assert!(done.starts_with("✅ Defect Submitted!"), "{done}");
    let answers = newest_answers(&server);
    assert_eq!(answers[0]["text"], "Loose screw");
    assert!(answers[1]["media"].as_array().is_none_or(Vec::is_empty), "{answers}");
}
