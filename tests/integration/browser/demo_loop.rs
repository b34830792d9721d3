//! The demo's whole loop in real headless Chromium, at a laptop's size (both
//! phones side by side) and a phone's (one at a time, by tabs): the customer
//! asks for a person; the owner's phone gets the alert and answers it
//! quoted; the customer's phone shows the answer; the inbox shows it ✓✓
//! read, and an answer from the inbox reaches the phone too; a reload keeps
//! both chats; the failure switch fails a message with its reason, in the
//! chat and in the inbox; the conversation is handed back (from the inbox at
//! one size, with `#done` from the phone at the other) and the bot answers
//! the customer again. Screenshots of each step.

use std::time::{Duration, Instant};

use shopbot::message::{Direction, MessageStatus};
use shopbot::phone::PhoneNumber;
use shopbot::store::Store;

use super::cdp::{browser_or_skip, screenshot_path, Browser};
use super::DemoServer;

const PASSWORD: &str = "demo-owner-password";

/// Whether a bubble in `pane` (`customer` or `owner`) of class `kind`
/// (`bot`, `me`, `sys`) says `text`.
fn bubble_says(pane: &str, kind: &str, text: &str) -> String {
    format!("[...document.querySelectorAll('#{pane} .log .msg.{kind}')].some(b => b.textContent.includes({text:?}))")
}

/// How many bubbles of class `kind` `pane` shows.
fn bubbles(pane: &str, kind: &str) -> String {
    format!("document.querySelectorAll('#{pane} .log .msg.{kind}').length")
}

/// Types `text` into the composer `input` and sends it.
fn send(browser: &mut Browser, input: &str, text: &str) {
    browser.click(input);
    browser.type_and_enter(text);
}

/// The customer's chat starts as `number` (typed into the number field).
fn chat_as(browser: &mut Browser, number: &str) {
    browser.click("#num");
    browser.eval("document.getElementById('num').select()");
    browser.call("Input.insertText", serde_json::json!({ "text": number }));
    browser.click("#text");
    browser.wait_for(
        &bubble_says("customer", "sys", &format!("Chatting as customer {number}")),
        "the customer's new chat",
    );
}

/// On a phone's width, shows the pane `pane` by its tab.
fn show(browser: &mut Browser, narrow: bool, pane: &str) {
    if narrow {
        browser.click(&format!("#tab-{pane}"));
        browser.wait_for(
            &format!("document.getElementById('{pane}').offsetParent !== null"),
            "the pane to show",
        );
    }
}

/// Waits until the shop's message to `number` that says `body` has `status`.
fn wait_for_status(demo: &DemoServer, number: &str, body: &str, status: MessageStatus) {
    let who = shopbot::message::ContactRef::phone(PhoneNumber::parse(number).unwrap());
    let started = Instant::now();
    loop {
        let messages = Store::open(&demo.db)
            .unwrap()
            .read(|db| db.conversation(&who, 50))
            .unwrap();
        let now = messages
            .iter()
            .find(|m| m.direction == Direction::Outbound && m.body.as_deref() == Some(body))
            .and_then(|m| m.status().and_then(|s| s.ladder()));
        if now == Some(status) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{body:?} to {number} never became {status:?} (now {now:?})"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Signs in to the inbox (once per browser) and opens `number`'s conversation.
fn open_conversation(browser: &mut Browser, demo: &DemoServer, number: &str) {
    browser.open(&format!(
        "{}/admin/conversations/{}",
        demo.base,
        number.replace('+', "%2B")
    ));
    if browser.eval("location.pathname") == "/admin/login" {
        browser.click("#password");
        browser.type_and_enter(PASSWORD);
        browser.wait_for("location.pathname === '/admin/'", "the inbox after signing in");
        browser.open(&format!(
            "{}/admin/conversations/{}",
            demo.base,
            number.replace('+', "%2B")
        ));
    }
    browser.wait_for("document.querySelector('ol.thread') !== null", "the conversation");
}

/// The tick and the failure line of the shop's message that says `body`, in the open conversation.
fn inbox_tick(browser: &mut Browser, body: &str) -> (String, String) {
    let found = browser.eval(&format!(
        "(() => {{ const m = [...document.querySelectorAll('li.msg.shop')].find(m => m.textContent.includes({body:?}));
           if (!m) return null; const f = m.querySelector('.failure');
           return [m.querySelector('.ticks').title, f ? f.textContent : ''] }})()"
    ));
    assert!(found.is_array(), "{body:?} is not in the conversation");
    (found[0].as_str().unwrap().into(), found[1].as_str().unwrap().into())
}

/// Clicks the "↩ Reply" of the owner's newest bubble about `number`.
fn quote_alert(browser: &mut Browser, number: &str) {
    let alert = bubble_says("owner", "bot", &format!("({number}) asks for a person"));
    browser.wait_for(&alert, "the alert on the owner's phone");
    browser.eval(&format!(
        "[...document.querySelectorAll('#owner .log .msg.bot')].filter(b => b.textContent.includes({:?})).pop()
           .querySelector('.reply-to').id = 'reply-to-alert'",
        format!("({number}) asks for a person")
    ));
    browser.click("#reply-to-alert");
    browser.wait_for(
        "!document.getElementById('quoting').hidden && document.getElementById('quoted').textContent.includes('asks for a person')",
        "the alert quoted above the owner's composer",
    );
}

/// One customer's whole loop at one size.
fn the_loop(chromium: &std::path::Path, demo: &DemoServer, (width, height): (u32, u32), customer: &str) {
    let narrow = width < 900;
    let mut browser = Browser::start(chromium, width, height);
    browser.open(&format!("{}/demo", demo.base));
    chat_as(&mut browser, customer);

    // The customer asks for a person.
    send(&mut browser, "#text", "hi");
    browser.wait_for(&bubble_says("customer", "bot", "Welcome! Select 1-5"), "the menu");
    browser.wait_for(
        "document.querySelectorAll('#customer .log > .options:last-child button').length === 5",
        "the menu's buttons",
    );
    browser.click("#customer .log > .options:last-child button:nth-child(4)");
    browser.wait_for(
        &bubble_says("customer", "bot", "A team member will reply here"),
        "the handoff",
    );

    // The owner's phone gets the alert and answers it, quoted.
    show(&mut browser, narrow, "owner");
    quote_alert(&mut browser, customer);
    let answer = "Hi, this is Sam from the shop. How can I help?";
    send(&mut browser, "#owner-text", answer);
    browser.wait_for(
        &bubble_says("owner", "bot", &format!("→ Demo customer ({customer})")),
        "the owner told who got it",
    );
    assert_eq!(
        browser.eval("[...document.querySelectorAll('#owner .log .msg.me')].pop().querySelector('.quote').textContent.includes('asks for a person')"),
        true,
        "the owner's answer shows the alert it quotes"
    );
    if narrow {
        browser.screenshot(&screenshot_path(&format!("demo-loop-owner-{width}x{height}.png")));
    }

    // The customer's phone shows the answer, and reads it.
    show(&mut browser, narrow, "customer");
    browser.wait_for(
        &bubble_says("customer", "bot", answer),
        "the answer on the customer's phone",
    );
    browser.screenshot(&screenshot_path(&format!("demo-loop-{width}x{height}.png")));
    wait_for_status(demo, customer, answer, MessageStatus::Read);
    browser.assert_clean();

    // The inbox shows it ✓✓ read.
    open_conversation(&mut browser, demo, customer);
    assert_eq!(inbox_tick(&mut browser, answer).0, "read");
    assert_eq!(
        browser.eval("document.querySelector('.badge.person') !== null && document.body.textContent.includes('Hand back to the bot')"),
        true,
        "answered, still with a person, and can be handed back"
    );
    browser.screenshot(&screenshot_path(&format!("demo-loop-inbox-{width}x{height}.png")));
    let from_inbox = "From the inbox: your order ships tomorrow.";
    browser.click("#body");
    browser.call("Input.insertText", serde_json::json!({ "text": from_inbox }));
    browser.click("form.reply button[type=submit]");
    browser.wait_for(
        &format!("document.readyState === 'complete' && document.body.textContent.includes({from_inbox:?})"),
        "the inbox's answer in the thread",
    );

    // A reload of the demo keeps both chats; the inbox's answer arrived too.
    browser.open(&format!("{}/demo", demo.base));
    browser.wait_for(
        &bubble_says("customer", "bot", answer),
        "the customer's chat after a reload",
    );
    browser.wait_for(
        &bubble_says("customer", "bot", from_inbox),
        "the inbox's answer on the customer's phone",
    );
    browser.wait_for(&bubble_says("owner", "me", answer), "the owner's chat after a reload");
    assert_eq!(browser.eval("document.getElementById('num').value"), customer);
    if narrow {
        hand_back_from_the_phone(&mut browser, customer);
    } else {
        fail_a_message(&mut browser, demo, customer);
        hand_back_in_the_inbox(&mut browser, demo, customer);
    }

    // The bot answers the customer again.
    show(&mut browser, narrow, "customer");
    let menus = browser.eval(&bubbles("customer", "bot")).as_u64().unwrap();
    send(&mut browser, "#text", "hi");
    browser.wait_for(
        &format!(
            "{} > {menus} && {}",
            bubbles("customer", "bot"),
            bubble_says("customer", "bot", "Welcome! Select 1-5")
        ),
        "the bot's menu again",
    );
    browser.assert_clean();
}

/// The failure switch: the owner's next message fails, with its reason on
/// the customer's phone and in the inbox; the switch turns itself off.
fn fail_a_message(browser: &mut Browser, demo: &DemoServer, customer: &str) {
    browser.click("#dev summary");
    browser.click("#fail");
    let lost = "Are you still there? (this one fails)";
    send(browser, "#owner-text", lost);
    browser.wait_for(
        &bubble_says("customer", "sys.failed", "A message from the shop did not arrive"),
        "the failure on the customer's phone",
    );
    browser.wait_for("!document.getElementById('fail').checked", "the switch off again");
    browser.screenshot(&screenshot_path("demo-loop-failed-1280x800.png"));
    open_conversation(browser, demo, customer);
    let (tick, why) = inbox_tick(browser, lost);
    assert_eq!(tick, "not delivered");
    assert!(why.contains("Not delivered (code 30008): Unknown error"), "{why}");
}

/// "Hand back to the bot" in the inbox.
fn hand_back_in_the_inbox(browser: &mut Browser, demo: &DemoServer, customer: &str) {
    open_conversation(browser, demo, customer);
    browser.click("form[action$='/resolve'] button");
    browser.wait_for(
        "document.readyState === 'complete' && !document.body.textContent.includes('Hand back to the bot')",
        "the conversation back with the bot",
    );
    browser.open(&format!("{}/demo", demo.base));
}

/// `#done` from the owner's phone.
fn hand_back_from_the_phone(browser: &mut Browser, customer: &str) {
    show(browser, true, "owner");
    browser.click("#owner .chips button:nth-child(2)");
    browser.wait_for(
        &bubble_says(
            "owner",
            "bot",
            &format!("Demo customer ({customer}) is back with the bot"),
        ),
        "the hand-back confirmed on the owner's phone",
    );
}

#[test]
fn the_demo_shows_the_whole_loop_from_customer_to_owners_phone_to_inbox_and_back() {
    let Some(chromium) = browser_or_skip("the demo's whole loop in a browser") else {
        return;
    };
    for (size, customer) in [((1280, 800), "+27820000001"), ((390, 844), "+27820000002")] {
        let demo = DemoServer::start(true);
        demo.set_password(PASSWORD);
        the_loop(&chromium, &demo, size, customer);
    }
}
