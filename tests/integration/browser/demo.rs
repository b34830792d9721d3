//! The browser chat simulator (`/demo`) in real headless Chromium at a phone's
//! size: the seed's conversation typed and sent as a person would, the sample
//! photo attached with the description, no console errors, a screenshot; then
//! the owner signs in to the inbox and sees that photo in the conversation.

use super::cdp::{browser_or_skip, screenshot_path, Browser};
use super::DemoServer;

/// How many bot bubbles the visible conversation shows.
const BOT_BUBBLES: &str = "document.querySelectorAll('#customer .log .msg.bot').length";
/// The text of the newest bot bubble.
const LAST_BOT: &str =
    "[...document.querySelectorAll('#customer .log .msg.bot')].map(b => b.textContent).join('\\n---\\n')";

/// Sends `text` from the composer and waits for the bot's answer; its text.
fn say(browser: &mut Browser, text: &str) -> String {
    let before = browser.eval(BOT_BUBBLES).as_u64().unwrap();
    browser.click("#text");
    browser.type_and_enter(text);
    browser.wait_for(&format!("{BOT_BUBBLES} > {before}"), &format!("an answer to {text:?}"));
    let all = browser.eval(LAST_BOT).as_str().unwrap().to_string();
    all.rsplit("\n---\n").next().unwrap_or_default().to_string()
}

#[test]
fn the_demo_page_walks_the_seed_transcript_with_a_photo_in_a_real_browser() {
    let Some(chromium) = browser_or_skip("the demo page in a browser") else {
        return;
    };
    let demo = DemoServer::start(true);
    let base = demo.base.clone();

    let mut browser = Browser::start(&chromium, 390, 844);
    browser.open(&format!("{base}/"));
    assert_eq!(browser.eval("location.pathname"), "/demo", "/ leads to the chat");

    assert!(say(&mut browser, "hi").contains("Welcome! Select 1-5"));
    assert!(say(&mut browser, "2").contains("1 Report a defect"));
    assert!(say(&mut browser, "1").contains("Please describe the defect:"));
    let confirmation = say(&mut browser, "Screen is cracked");
    assert!(confirmation.contains("✅ Defect Submitted! ID: DEF-"), "{confirmation}");

    // The photo path: attach the sample photo, then describe the defect.
    say(&mut browser, "2");
    say(&mut browser, "1");
    browser.click("#photo");
    assert_eq!(
        browser.eval("document.getElementById('attached').hidden"),
        false,
        "the photo shows as attached"
    );
    let with_photo = say(&mut browser, "Hinge cracked, see photo");
    assert!(with_photo.contains("Defect Submitted! ID: DEF-"), "{with_photo}");
    browser.wait_for(
        "(() => { const i = document.querySelector('#customer .log .msg.me img.thumb'); return !!i && i.complete && i.naturalWidth > 0; })()",
        "the sample photo to show in the customer's bubble",
    );
    assert_eq!(
        browser.eval("document.getElementById('attached').hidden"),
        true,
        "sent with one message only"
    );

    let shot = screenshot_path("demo-390x844.png");
    browser.screenshot(&shot);
    assert!(browser.errors.is_empty(), "console errors: {:?}", browser.errors);
    assert!(
        browser.failed_requests.is_empty(),
        "failed requests: {:?}",
        browser.failed_requests
    );
    eprintln!("screenshot: {}", shot.display());

    // The owner sees the same photo in the inbox.
    demo.set_password("demo-owner");
    browser.open(&format!("{base}/admin/"));
    browser.click("#password");
    browser.type_and_enter("demo-owner");
    browser.wait_for("location.pathname === '/admin/'", "the inbox after signing in");
    browser.wait_for("document.readyState === 'complete'", "the inbox to load");
    browser.click("ul.inbox li a");
    browser.wait_for(
        "(() => { const i = document.querySelector('li.msg.customer a.photo img'); return !!i && i.complete && i.naturalWidth > 0; })()",
        "the customer's photo in the owner's thread",
    );
    assert!(
        browser
            .eval("document.querySelector('details.forms summary').textContent")
            .as_str()
            == Some("Forms filled in (2)"),
        "the two defect reports above the thread"
    );
    browser.screenshot(&screenshot_path("inbox-forms-390x844.png"));
    browser.eval("document.querySelector('a.photo img').scrollIntoView()");
    browser.screenshot(&screenshot_path("inbox-photo-390x844.png"));
    assert!(browser.errors.is_empty(), "console errors: {:?}", browser.errors);
}

/// The buttons of the newest menu in the visible conversation.
const LAST_OPTIONS: &str =
    "[...document.querySelectorAll('#customer .log > .options:last-child button')].map(b => b.textContent)";

#[test]
fn the_demo_page_shows_a_menu_as_buttons_and_a_tap_opens_the_next_menu() {
    let Some(chromium) = browser_or_skip("the demo page's buttons in a browser") else {
        return;
    };
    let demo = DemoServer::start(false);
    let mut browser = Browser::start(&chromium, 390, 844);
    browser.open(&format!("{}/demo", demo.base));
    assert!(say(&mut browser, "hi").contains("Welcome! Select 1-5"));
    browser.wait_for(
        &format!("{LAST_OPTIONS}.length === 5"),
        "five options to tap under the main menu",
    );
    let options = browser.eval(LAST_OPTIONS);
    assert_eq!(options[1], "Report Defect", "{options}");

    let before = browser.eval(BOT_BUBBLES).as_u64().unwrap();
    browser.click("#customer .log > .options:last-child button:nth-child(2)");
    browser.wait_for(&format!("{BOT_BUBBLES} > {before}"), "the answer to the tap");
    let answer = browser
        .eval(LAST_BOT)
        .as_str()
        .unwrap()
        .rsplit("\n---\n")
        .next()
        .unwrap()
        .to_string();
    assert!(answer.contains("Defects: select 1-2"), "{answer}");
    browser.wait_for(&format!("{LAST_OPTIONS}.length === 2"), "the defect menu's two options");
    let mine = browser.eval("[...document.querySelectorAll('#customer .log .msg.me')].pop().textContent");
    assert!(
        mine.as_str().unwrap().starts_with("Report Defect"),
        "the tap shows as the customer's message: {mine}"
    );

    let shot = screenshot_path("demo-buttons-390x844.png");
    browser.screenshot(&shot);
    eprintln!("screenshot: {}", shot.display());
    assert!(browser.errors.is_empty(), "console errors: {:?}", browser.errors);
    assert!(
        browser.failed_requests.is_empty(),
        "failed requests: {:?}",
        browser.failed_requests
    );
}
