//! The owner's inbox in real headless Chromium: sign in, open the conversation
//! waiting for a person, send a reply, see it in the thread with its tick; no
//! console errors; screenshots at a phone's size and a laptop's.

use std::time::Duration;

use shopbot::auth;

use super::cdp::{browser_or_skip, screenshot_path, Browser};
use crate::support::TestServer;
use crate::twilio_mock::MockTwilio;

const PASSWORD: &str = "shop-owner-secret";

#[test]
fn the_owner_answers_a_waiting_customer_in_a_real_browser() {
    let Some(chromium) = browser_or_skip("the inbox in a browser") else {
        return;
    };
    let mock = MockTwilio::start();
    // The session cookie is Secure (public_base_url is https); Chromium keeps
    // Secure cookies for http://127.0.0.1, a secure context.
    let server = TestServer::start_with(&format!("api_base_url = \"{}\"\n", mock.url));
    set_password(&server);
    assert_eq!(server.say("+27825559101", "hi").status, 200);
    server.say("+27825559101", "1");
    server.say("+27825559101", "A1002");
    for (number, text) in [("+27825559102", "hi"), ("+27825559103", "2")] {
        server.say(number, text);
    }
    server.say("+27825559104", "4");
    server.say("+27825559104", "My order A1042 has not arrived, can someone help?");

    for (width, height) in [(390, 844), (1280, 800)] {
        let mut browser = Browser::start(&chromium, width, height);
        browser.open(&format!("{}/admin/", server.http));
        assert_eq!(browser.eval("location.pathname"), "/admin/login");
        browser.click("#password");
        browser.type_and_enter(PASSWORD);
        browser.wait_for("location.pathname === '/admin/'", "the inbox after signing in");
        browser.wait_for("document.readyState === 'complete'", "the inbox to load");
        let first = browser.eval("document.querySelector('ul.inbox li').textContent");
        let first = first.as_str().unwrap();
        if width == 390 {
            assert!(first.contains("waiting for you"), "waiting first: {first}");
        } else {
            assert!(
                first.contains("You: Hi, Sam here (390px)"),
                "answered, so no longer waiting: {first}"
            );
        }
        browser.screenshot(&screenshot_path(&format!("inbox-{width}x{height}.png")));

        browser.click("ul.inbox li a");
        browser.wait_for(
            "location.pathname.startsWith('/admin/conversations/')",
            "the conversation",
        );
        browser.wait_for("document.readyState === 'complete'", "the conversation to load");
        browser.click("#body");
        let reply = format!("Hi, Sam here ({width}px): it ships tomorrow.");
        browser.call("Input.insertText", serde_json::json!({"text": reply}));
        browser.click("form.reply button[type=submit]");
        browser.wait_for(
            &format!("document.body.textContent.includes({reply:?})"),
            "the reply in the thread",
        );
        browser.wait_for("document.readyState === 'complete'", "the page after sending");
        // The reply reached the mock, so reload until the sent tick shows.
        let sent = mock.wait_for(if width == 390 { 1 } else { 2 }, Duration::from_secs(20));
        assert!(
            sent.iter().any(|r| r.get("Body") == Some(reply.as_str())),
            "reached Twilio"
        );
        let mut ticked = false;
        for _ in 0..40 {
            browser.eval("location.reload()");
            browser.wait_for("document.readyState === 'complete'", "the reload");
            let tick = browser.eval("(() => { const t = [...document.querySelectorAll('.msg.shop .ticks')].pop(); return t ? t.title : ''; })()");
            if tick == "sent" {
                ticked = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(ticked, "the reply shows its sent tick");
        browser.screenshot(&screenshot_path(&format!("conversation-{width}x{height}.png")));
        browser.assert_clean();
    }
}

/// Sets the owner's password.
fn set_password(server: &TestServer) {
    let hash = auth::hash_password(PASSWORD).unwrap();
    server
        .store()
        .write(|db| db.set_owner_password(&hash, jiff::Timestamp::now()))
        .unwrap();
}

/// A browser of this size, signed in to `server`'s inbox and showing it.
fn signed_in(chromium: &std::path::Path, server: &TestServer, width: u32, height: u32) -> Browser {
    let mut browser = Browser::start(chromium, width, height);
    browser.open(&format!("{}/admin/login", server.http));
    browser.click("#password");
    browser.type_and_enter(PASSWORD);
    browser.wait_for(
        "location.pathname === '/admin/' && document.readyState === 'complete'",
        "the inbox after signing in",
    );
    browser
}

#[test]
fn a_new_message_shows_in_the_open_inbox_without_a_reload_and_in_the_title() {
    let Some(chromium) = browser_or_skip("the inbox's live updates") else {
        return;
    };
    let server = TestServer::start();
    set_password(&server);
    server.say("+27825559201", "hi");
    let mut browser = signed_in(&chromium, &server, 1280, 800);
    browser.wait_for("document.title.startsWith('(1) ')", "the unread count in the title");
    assert_eq!(browser.eval("document.querySelectorAll('ul.inbox li').length"), 1);
    server.say("+27825559202", "Is the shop open on Saturday?");
    browser.wait_for(
        "document.querySelectorAll('ul.inbox li').length === 2 && document.title.startsWith('(2) ')",
        "the new conversation to appear by itself",
    );
    assert!(
        browser.errors.is_empty(),
        "console errors (a CSP violation shows here): {:?}",
        browser.errors
    );
}

#[test]
fn the_owner_uploads_an_orders_spreadsheet_from_a_real_browser() {
    let Some(chromium) = browser_or_skip("the orders upload in a browser") else {
        return;
    };
    let server = TestServer::start();
    set_password(&server);
    let sheet = server.db_path.with_file_name("orders \"May\".csv");
    std::fs::write(
        &sheet,
        "\u{feff}Order Number,Status,Phone,Note,Updated\r\nD200,Ready for collection,,Front desk,2026-11-27\r\n\
         D201,,,,\r\nD202,Shipped,+27825559120,Courier TCG99,2026-11-26\r\n",
    )
    .unwrap();
    let mut browser = signed_in(&chromium, &server, 390, 844);
    browser.click("nav a[href='/admin/orders']");
    browser.wait_for("location.pathname === '/admin/orders'", "the orders page");
    browser.wait_for("document.readyState === 'complete'", "the orders page to load");
    let document = browser.call("DOM.getDocument", serde_json::json!({}));
    let input = browser.call(
        "DOM.querySelector",
        serde_json::json!({"nodeId": document["root"]["nodeId"], "selector": "#file"}),
    );
    browser.call(
        "DOM.setFileInputFiles",
        serde_json::json!({"nodeId": input["nodeId"], "files": [sheet.to_str().unwrap()]}),
    );
    browser.click("form.upload button[type=submit]");
    browser.wait_for("document.body.textContent.includes('2 added')", "the import's report");
    let report = browser.eval("document.querySelector('section.report').textContent");
    let report = report.as_str().unwrap();
    assert!(report.contains("Line 3: order D201 has no status"), "{report}");
    let rows = browser.eval("document.querySelectorAll('table.submissions tbody tr').length");
    assert_eq!(rows, 2);
    browser.screenshot(&screenshot_path("orders-390x844.png"));
    assert!(browser.errors.is_empty(), "console errors: {:?}", browser.errors);
}

/// Whether the element `selector` is wholly inside the viewport.
fn in_view(browser: &mut Browser, selector: &str) -> bool {
    let js = format!(
        "(() => {{ const r = document.querySelector({selector:?}).getBoundingClientRect();
           return r.top >= 0 && r.bottom <= window.innerHeight; }})()"
    );
    browser.eval(&js) == serde_json::Value::Bool(true)
}

#[test]
fn a_conversation_opens_at_its_newest_message_with_the_reply_box_in_view_and_only_its_own_news() {
    let Some(chromium) = browser_or_skip("a conversation's opening and news") else {
        return;
    };
    let server = TestServer::start();
    set_password(&server);
    let (long, other) = ("+27825559301", "+27825559302");
    for text in ["hi", "1", "A1002", "0", "3", "0", "2", "0", "1", "A1042", "0", "4"] {
        server.say(long, text);
    }
    server.say(long, "Can someone call me about A1042?");
    server.say(other, "hi"); // newer: the long conversation is no longer the newest
    let mut browser = signed_in(&chromium, &server, 390, 844);
    let card = format!(
        "(() => [...document.querySelectorAll('ul.inbox li a')].find(a => a.textContent.includes('{}')))()",
        &long[1..]
    );
    let href = browser.eval(&format!("{card}.getAttribute('href')"));
    assert!(href.as_str().unwrap().ends_with("#reply"), "{href}");
    browser.eval(&format!("{card}.click()"));
    browser.wait_for(
        "location.pathname.startsWith('/admin/conversations/') && document.readyState === 'complete'",
        "the conversation",
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        browser.eval("window.scrollY").as_f64().unwrap() > 1000.0,
        "scrolled down to the end"
    );
    assert!(in_view(&mut browser, "#body"), "the reply box is in view");
    assert!(
        in_view(&mut browser, "ol.thread > li:last-child"),
        "the newest message is in view"
    );
    browser.screenshot(&screenshot_path("conversation-opens-at-newest-390x844.png"));

    // News in another conversation is not news here; news in this one is.
    server.say(other, "1");
    std::thread::sleep(Duration::from_millis(6500)); // past a poll (every 5 s)
    assert_eq!(
        browser.eval("document.getElementById('news').hidden"),
        true,
        "no banner"
    );
    server.say(long, "Hello?");
    browser.wait_for(
        "!document.getElementById('news').hidden",
        "the banner for this conversation",
    );

    // Sending confirms, in view, with a link to the message.
    // A mark on the old page: the reload is done when a page without it is loaded.
    browser.eval("window.beforeReload = true; location.reload()");
    browser.wait_for(
        "!window.beforeReload && document.readyState === 'complete' && !!document.getElementById('body')",
        "the reload",
    );
    browser.eval("document.getElementById('body').value = 'Calling you now.'");
    browser.eval("document.querySelector('form.reply').submit()");
    browser.wait_for(
        "location.search.includes('done=sent') && document.readyState === 'complete'",
        "the page after sending",
    );
    let link = browser.eval("document.querySelector('#reply .notice.done a').getAttribute('href')");
    let id = link.as_str().unwrap().trim_start_matches('#').to_string();
    assert!(id.starts_with('m'), "{link}");
    let linked = browser.eval(&format!("document.getElementById({id:?}).textContent"));
    assert!(linked.as_str().unwrap().contains("Calling you now."), "{linked}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        in_view(&mut browser, "#reply .notice.done"),
        "the confirmation is in view"
    );
    browser.screenshot(&screenshot_path("conversation-sent-390x844.png"));
    assert!(browser.errors.is_empty(), "console errors: {:?}", browser.errors);
}

#[test]
fn at_360_px_a_submission_id_stays_on_one_line_and_every_unread_badge_sits_at_the_right() {
    let Some(chromium) = browser_or_skip("the inbox at 360 px") else {
        return;
    };
    let server = TestServer::start();
    set_password(&server);
    for text in ["hi", "2", "1", "The screen arrived cracked in two places"] {
        server.say("+27825559401", text);
    }
    server.say("+27825559402", "4"); // waiting: a card with the "waiting" pill
    server.say("+27825559403", "hi"); // and one without
    let mut browser = signed_in(&chromium, &server, 360, 740);
    let rights: Vec<f64> = browser
        .eval("[...document.querySelectorAll('ul.inbox .badge.unread')].map(b => b.getBoundingClientRect().right)")
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_f64().unwrap())
        .collect();
    assert_eq!(rights.len(), 3, "{rights:?}");
    assert!(
        rights.iter().all(|r| (r - rights[0]).abs() < 1.0),
        "one column: {rights:?}"
    );
    browser.screenshot(&screenshot_path("inbox-360x740.png"));
    browser.open(&format!("{}/admin/submissions", server.http));
    let lines = browser.eval(
        "(() => { const td = document.querySelector('td.public-id');
           const line = parseFloat(getComputedStyle(td).lineHeight) || 22;
           return Math.round(td.getBoundingClientRect().height / line); })()",
    );
    assert!(lines.as_f64().unwrap() <= 1.0 + 0.5, "the ID wraps onto {lines} lines");
    assert!(
        browser.eval("document.documentElement.scrollWidth <= window.innerWidth") == serde_json::Value::Bool(true),
        "no sideways scrolling at 360 px"
    );
    browser.screenshot(&screenshot_path("submissions-360x740.png"));
    assert!(browser.errors.is_empty(), "console errors: {:?}", browser.errors);
}

#[test]
fn the_owner_sets_a_reports_status_from_a_real_browser() {
    let Some(chromium) = browser_or_skip("a report's status in a browser") else {
        return;
    };
    let server = TestServer::start();
    set_password(&server);
    for (number, text) in [
        ("+27825559301", "Screen is cracked across the top left corner"),
        ("+27825559302", "Hinge squeaks"),
    ] {
        server.say(number, "2");
        server.say(number, "1");
        server.say(number, text);
    }
    for (width, height, status) in [(390, 844, "in_progress"), (1280, 800, "done")] {
        let mut browser = signed_in(&chromium, &server, width, height);
        browser.click("nav a[href='/admin/submissions']");
        browser.wait_for(
            "location.pathname === '/admin/submissions' && document.readyState === 'complete'",
            "the submissions page",
        );
        browser.eval(&format!(
            "document.querySelector('form.status select').value = '{status}'; \
             document.querySelector('form.status textarea').value = ''"
        ));
        browser.click("form.status textarea");
        let note = format!("Parts ordered ({width}px)");
        browser.call("Input.insertText", serde_json::json!({"text": note}));
        browser.click("form.status button[type=submit]");
        browser.wait_for(
            "document.body.textContent.includes(' saved: customers are not told')",
            "the page saying what the save did",
        );
        browser.wait_for("document.readyState === 'complete'", "the page after saving");
        let shown = browser.eval("document.querySelector('form.status select').value");
        assert_eq!(shown, status);
        browser.screenshot(&screenshot_path(&format!("submissions-{width}x{height}.png")));
        assert!(browser.errors.is_empty(), "console errors: {:?}", browser.errors);
    }
    server.say("+27825559302", "2");
    let history = server.say("+27825559302", "2").text();
    assert!(
        history.contains(": done (") && history.contains("💬 Parts ordered (1280px)"),
        "{history}"
    );
}
