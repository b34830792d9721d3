//! Media: inbound `NumMedia` / `MediaUrlN` / `MediaContentTypeN` are stored with
//! the message, and a photo sent with the description (or before it) is kept
//! with the submission; an optional photo question stays possible.

use crate::support::{new_sid, whatsapp_params, TestServer};

const CUSTOMER: &str = "+27825550501";
const PHOTO: &str =
    "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/MM1/Media/ME1";

/// An image message with `caption` as its text.
fn photo_params(sid: &str, caption: &str) -> Vec<(String, String)> {
    let mut params = whatsapp_params(sid, CUSTOMER, caption);
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

/// The answers of the newest submission, as the admin API shows them.
fn newest_answers(server: &TestServer) -> serde_json::Value {
    let (_, answer) = server.api_get("/api/submissions?limit=500");
    let items = answer["submissions"].as_array().unwrap();
    items
        .iter()
        .max_by_key(|s| s["id"].as_str().unwrap().to_string())
        .unwrap()["answers"]
        .clone()
}

#[test]
fn a_photo_sent_with_the_description_is_kept_with_the_submission() {
    let server = TestServer::start();
    server.say(CUSTOMER, "2");
    server.say(CUSTOMER, "1");
    let sid = new_sid();
    let reply = server
        .post_signed("/twilio/inbound", &photo_params(&sid, "Cracked casing"))
        .text();
    assert!(reply.starts_with("✅ Defect Submitted! ID: DEF-"), "{reply}");

    let answers = newest_answers(&server);
    assert_eq!(answers[0]["text"], "Cracked casing");
    assert_eq!(answers[0]["media"][0]["url"], PHOTO);
    assert_eq!(answers[0]["media"][0]["content_type"], "image/jpeg");

    let (_, message) = server.api_get(&format!("/api/messages/{sid}"));
    assert_eq!(message["media"][0]["url"], PHOTO);
    assert_eq!(message["media"][0]["content_type"], "image/jpeg");
}

#[test]
fn a_photo_without_a_caption_is_kept_and_the_description_asked_again() {
    let server = TestServer::start();
    server.say(CUSTOMER, "2");
    server.say(CUSTOMER, "1");
    let again = server
        .post_signed("/twilio/inbound", &photo_params(&new_sid(), ""))
        .text();
    assert_eq!(again, "📷 Photo received.\nPlease describe the defect:");
    let done = server.say(CUSTOMER, "Loose screw").text();
    assert!(done.starts_with("✅ Defect Submitted!"), "{done}");
    let answers = newest_answers(&server);
    assert_eq!(answers[0]["text"], "Loose screw");
    assert_eq!(answers[0]["media"][0]["url"], PHOTO, "{answers}");
}

#[test]
fn a_menu_can_still_ask_for_an_optional_photo() {
    let dir = tempfile::tempdir().unwrap();
    let menu = dir.path().join("menu.toml");
    std::fs::write(
        &menu,
        r#"
start = "report"
[nodes.report]
kind = "form"
prefix = "DEF"
confirmation = "✅ Defect Submitted! ID: {id}"
questions = [
  { field = "description", ask = "Please describe the defect:" },
  { field = "photo", ask = "📷 Send a photo of the defect, or reply skip.", accept = "optional_photo" },
]
"#,
    )
    .unwrap();
    let server = TestServer::start_with(&format!(
        "[menu]\npath = \"{}\"\n",
        menu.display().to_string().replace('\\', "/")
    ));
    server.say(CUSTOMER, "hi");
    assert_eq!(
        server.say(CUSTOMER, "Loose screw").text(),
        "📷 Send a photo of the defect, or reply skip."
    );
    let again = server.say(CUSTOMER, "no photo sorry").text();
    assert!(again.starts_with("Please send a photo, or reply skip."), "{again}");
    let done = server
        .post_signed("/twilio/inbound", &photo_params(&new_sid(), ""))
        .text();
    assert!(done.starts_with("✅ Defect Submitted!"), "{done}");
    let answers = newest_answers(&server);
    assert_eq!(answers[0]["text"], "Loose screw");
    assert_eq!(answers[1]["media"][0]["url"], PHOTO);
}
