//! Engine unit tests: whole conversations through [`step`] with no I/O at all.

use super::*;

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(1_737_290_000 + secs).unwrap()
}

/// Feeds one text message and returns the step plus the session to feed next.
fn send(menu: &Menu, session: Option<&Session>, text: &str, at: Timestamp) -> (Step, Session) {
    let step = step(menu, session, Inbound::text(text), at);
    let next = Session {
        state: step.state.clone(),
        updated_at: at,
    };
    (step, next)
}

fn said(step: &Step) -> String {
    step.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Say(s) => Some(s.clone()),
            Output::Show(choice) => Some(choice.numbered()),
            Output::Do(_) => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn effects(step: &Step) -> Vec<&Effect> {
    step.outputs
        .iter()
        .filter_map(|o| match o {
            Output::Do(e) => Some(e),
            Output::Say(_) | Output::Show(_) => None,
        })
        .collect()
}

#[test]
fn hi_shows_the_main_menu() {
    let menu = Menu::example();
    let (step, _) = send(&menu, None, "Hi ", t(0));
    assert!(said(&step).starts_with("Welcome! Select 1-5\n1 Check Order Status"));
    assert_eq!(step.state, State::Menu { node: "main".into() });
}

#[test]
fn defect_report_walks_to_a_submit_effect_right_after_the_description() {
    let menu = Menu::example();
    let (_, s) = send(&menu, None, "hi", t(0));
    let (step, s) = send(&menu, Some(&s), "2", t(1));
    assert!(said(&step).contains("1 Report a defect\n2 View defect history"));
    let (step, s) = send(&menu, Some(&s), "1", t(2));
    assert_eq!(said(&step), "Please describe the defect:");
    let (step, s) = send(&menu, Some(&s), "  Screen is cracked ", t(3));
    let [Effect::Submit {
        form,
        prefix,
        answers,
        confirmation,
    }] = effects(&step)[..]
    else {
        panic!("expected one submit, got {:?}", step.outputs)
    };
    assert_eq!((form.as_str(), prefix.as_str()), ("defect_report", "DEF"));
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].text, "Screen is cracked");
    assert_eq!(confirmation, "✅ Defect Submitted! ID: {id}");
    assert_eq!(s.state, State::Menu { node: "main".into() });
}

/// One message with text and media.
fn send_media(menu: &Menu, session: &Session, text: &str, media: &[Media], at: Timestamp) -> (Step, Session) {
    let step = step(
        menu,
        Some(session),
        Inbound {
            text,
            media,
            known_order: false,
            tap: None,
        },
        at,
    );
    let next = Session {
        state: step.state.clone(),
        updated_at: at,
    };
    (step, next)
}

#[test]
fn a_photo_with_the_description_is_kept_and_one_without_text_is_kept_for_it() {
    let menu = Menu::example();
    let photo = [Media::at_url("https://api.twilio.com/m/1", "image/jpeg")];
    let (_, s) = send(&menu, None, "2", t(0));
    let (_, s) = send(&menu, Some(&s), "1", t(1));
    let (step, _) = send_media(&menu, &s, "Hinge broke", &photo, t(2));
    assert!(matches!(&effects(&step)[..], [Effect::Submit { answers, .. }] if answers[0].media == photo));

    let (step, waiting) = send_media(&menu, &s, "", &photo, t(2));
    assert!(effects(&step).is_empty());
    assert_eq!(said(&step), "📷 Photo received.\nPlease describe the defect:");
    let second = [Media::at_url("https://api.twilio.com/m/2", "image/jpeg")];
    let (_, waiting) = send_media(&menu, &waiting, " ", &second, t(3));
    let (step, _) = send(&menu, Some(&waiting), "Hinge broke", t(4));
    let both = [photo[0].clone(), second[0].clone()];
    assert!(
        matches!(&effects(&step)[..], [Effect::Submit { answers, .. }] if answers[0].media == both),
        "{:?}",
        step.outputs
    );
}

#[test]
fn cancel_inside_a_form_cancels_it_and_shows_the_menu() {
    let menu = Menu::example();
    let (_, s) = send(&menu, None, "2", t(0));
    let (_, s) = send(&menu, Some(&s), "1", t(1));
    let (step, s) = send(&menu, Some(&s), " Cancel", t(2));
    assert!(effects(&step).is_empty());
    assert!(
        said(&step).starts_with("Cancelled: nothing was submitted.\nWelcome!"),
        "{}",
        said(&step)
    );
    assert_eq!(s.state, State::Menu { node: "main".into() });
}

#[test]
fn history_is_an_effect_and_returns_to_the_main_menu() {
    let menu = Menu::example();
    let (_, s) = send(&menu, None, "2", t(0));
    let (step, s) = send(&menu, Some(&s), "2", t(1));
    assert!(matches!(effects(&step)[..], [Effect::ListSubmissions { limit: 5, .. }]));
    assert_eq!(s.state, State::Menu { node: "main".into() });
}

#[test]
fn menu_from_inside_a_form_submits_nothing() {
    let menu = Menu::example();
    let (_, s) = send(&menu, None, "2", t(0));
    let (_, s) = send(&menu, Some(&s), "1", t(1));
    assert!(matches!(s.state, State::Form { .. }));
    for word in ["MENU", "0", "hi"] {
        let (step, next) = send(&menu, Some(&s), word, t(2));
        assert!(effects(&step).is_empty(), "{word} submitted something");
        assert_eq!(next.state, State::Menu { node: "main".into() });
        assert!(said(&step).starts_with("Welcome!"));
    }
}

#[test]
fn unknown_input_repeats_the_current_menu_with_a_hint() {
    let menu = Menu::example();
    let (_, s) = send(&menu, None, "2", t(0));
    let (step, s2) = send(&menu, Some(&s), "banana", t(1));
    let text = said(&step);
    assert!(
        text.starts_with("Sorry, I didn't understand that.\nDefects: select 1-2"),
        "{text}"
    );
    assert_eq!(s2.state, s.state);
    let (step, _) = send(&menu, Some(&s), "7", t(1));
    assert!(said(&step).starts_with("Sorry"));
}

#[test]
fn a_first_message_that_is_not_a_choice_gets_the_menu_without_a_hint() {
    let menu = Menu::example();
    let (step, _) = send(&menu, None, "good morning", t(0));
    assert!(said(&step).starts_with("Welcome!"));
}

#[test]
fn lookup_asks_then_looks_up_the_trimmed_number() {
    let menu = Menu::example();
    let (step, s) = send(&menu, None, "1", t(0));
    assert!(said(&step).starts_with("Please enter your order number"));
    let (step, s) = send(&menu, Some(&s), " #A1001 ", t(1));
    assert!(matches!(&effects(&step)[..], [Effect::LookupOrder { number, .. }] if number == "A1001"));
    assert_eq!(
        s.state,
        State::Lookup {
            node: "order_status".into()
        }
    );
}

#[test]
fn schedule_is_info_and_help_is_a_handoff() {
    let menu = Menu::example();
    let (step, _) = send(&menu, None, "3", t(0));
    assert!(said(&step).contains("Production schedule"));
    let (step, s) = send(&menu, None, "4", t(0));
    assert!(matches!(effects(&step)[..], [Effect::Handoff]));
    assert!(said(&step).contains("team member"));
    assert_eq!(s.state, State::WithPerson { acknowledged: false });
}

#[test]
fn with_a_person_the_bot_acknowledges_once_then_stays_quiet_until_a_menu_word() {
    let menu = Menu::example();
    let (_, s) = send(&menu, None, "4", t(0));
    let (step, s) = send(&menu, Some(&s), "My order is late", t(1));
    assert_eq!(
        said(&step),
        "Thanks, we have your message. A team member will answer here."
    );
    assert!(effects(&step).is_empty());
    for text in ["It is A1002", "2", "hello?"] {
        let (step, next) = send(&menu, Some(&s), text, t(2));
        assert!(step.outputs.is_empty(), "{text}: {:?}", step.outputs);
        assert_eq!(next.state, State::WithPerson { acknowledged: true });
    }
    let (step, s) = send(&menu, Some(&s), "menu", t(3));
    assert!(said(&step).starts_with("Welcome!"));
    assert_eq!(s.state, State::Menu { node: "main".into() });
    // An idle conversation with a person starts over too.
    let (_, waiting) = send(&menu, None, "4", t(0));
    let (step, _) = send(&menu, Some(&waiting), "anyone?", t(2 * 3600));
    assert!(said(&step).starts_with("Welcome!"));
}

#[test]
fn after_a_lookup_a_bare_menu_number_goes_back_to_the_menu_unless_it_is_an_order() {
    let menu = Menu::example();
    let (_, s) = send(&menu, None, "1", t(0));
    let (step, s) = send(&menu, Some(&s), "A1002", t(1));
    assert!(matches!(effects(&step)[..], [Effect::LookupOrder { .. }]));
    let (step, next) = send(&menu, Some(&s), "2", t(2));
    assert!(said(&step).starts_with("Defects: select 1-2"), "{}", said(&step));
    assert_eq!(next.state, State::Menu { node: "defects".into() });
    let known = super::step(
        &menu,
        Some(&s),
        Inbound {
            text: "2",
            media: &[],
            known_order: true,
            tap: None,
        },
        t(2),
    );
    assert!(matches!(&effects(&known)[..], [Effect::LookupOrder { number, .. }] if number == "2"));
    let (step, _) = send(&menu, Some(&s), "12345", t(2));
    assert!(
        matches!(effects(&step)[..], [Effect::LookupOrder { .. }]),
        "not a menu number"
    );
}

#[test]
fn an_idle_conversation_starts_over() {
    let menu = Menu::example();
    let (_, s) = send(&menu, None, "2", t(0));
    let (_, s) = send(&menu, Some(&s), "1", t(1));
    let (step, _) = send(&menu, Some(&s), "hello there", t(2 * 3600));
    assert!(effects(&step).is_empty(), "a stale form must not submit");
    assert!(said(&step).starts_with("Welcome!"));
}

#[test]
fn a_state_naming_a_removed_node_starts_over() {
    let menu = Menu::example();
    let stale = Session {
        state: State::Form {
            node: "gone".into(),
            question: 0,
            answers: vec![],
            media: vec![],
        },
        updated_at: t(0),
    };
    let (step, s) = send(&menu, Some(&stale), "text", t(1));
    assert!(said(&step).starts_with("Welcome!"));
    assert_eq!(s.state, State::Menu { node: "main".into() });
}

#[test]
fn a_text_question_insists_on_text() {
    let menu = Menu::example();
    let (_, s) = send(&menu, None, "2", t(0));
    let (_, s) = send(&menu, Some(&s), "1", t(1));
    let (step, s2) = send(&menu, Some(&s), "   ", t(2));
    assert!(effects(&step).is_empty());
    assert_eq!(said(&step), "Please reply with some text.\nPlease describe the defect:");
    assert_eq!(s2.state, s.state);
}

#[test]
fn an_optional_photo_question_takes_media_or_skip() {
    let menu = Menu::from_toml(
        r#"
        start = "f"
        [nodes.f]
        kind = "form"
        prefix = "DEF"
        confirmation = "ok {id}"
        questions = [
          { field = "description", ask = "Describe it:" },
          { field = "photo", ask = "Send a photo or reply skip.", accept = "optional_photo" },
        ]
        "#,
        &[crate::message::Channel::Twilio.text_limit()],
    )
    .unwrap();
    let (_, s) = send(&menu, None, "f", t(0));
    let (_, s) = send(&menu, Some(&s), "broken", t(1));
    let (step, _) = send(&menu, Some(&s), "later", t(2));
    assert!(said(&step).starts_with("Please send a photo, or reply skip."));
    let (step, _) = send(&menu, Some(&s), "SKIP", t(2));
    assert!(matches!(&effects(&step)[..], [Effect::Submit { answers, .. }] if answers[1].media.is_empty()));
    let media = [Media::at_url("https://api.twilio.com/x", "image/jpeg")];
    let photo = super::step(
        &menu,
        Some(&s),
        Inbound {
            text: "",
            media: &media,
            known_order: false,
            tap: None,
        },
        t(2),
    );
    assert!(matches!(&effects(&photo)[..], [Effect::Submit { answers, .. }] if answers[1].media == media));
}

#[test]
fn customer_text_passes_through_untouched() {
    let menu = Menu::example();
    let (_, s) = send(&menu, None, "2", t(0));
    let (_, s) = send(&menu, Some(&s), "1", t(1));
    let nasty = "<b>&amp; ]]> 🙂👍🏽";
    let (step, _) = send(&menu, Some(&s), nasty, t(2));
    assert!(matches!(&effects(&step)[..], [Effect::Submit { answers, .. }] if answers[0].text == nasty));
}

fn tap(menu: &Menu, session: &Session, id: &str, at: Timestamp) -> Step {
    let input = Inbound {
        tap: Some(id),
        ..Inbound::text("a title")
    };
    step(menu, Some(session), input, at)
}

#[test]
fn a_menu_is_a_choice_with_stable_ids_and_numbers_as_before() {
    let menu = Menu::example();
    let (step, _) = send(&menu, None, "hi", t(0));
    let [Output::Show(choice)] = step.outputs.as_slice() else {
        panic!("{:?}", step.outputs);
    };
    assert_eq!(choice.node, "main");
    assert_eq!(choice.options.len(), 5);
    assert!(choice.options.iter().all(|o| o.id.starts_with("main:")));
    assert_eq!(choice.numbered(), render::menu(&menu, "main"));
}

#[test]
fn a_tap_does_what_its_option_says_even_from_an_earlier_menu() {
    let menu = Menu::example();
    let (_, s) = send(&menu, None, "hi", t(0));
    let (step, s) = send(&menu, Some(&s), "2", t(1));
    let Some(Output::Show(defects)) = step.outputs.first() else {
        panic!("{:?}", step.outputs);
    };
    let report = defects.options[0].id.clone();
    let main_schedule = render::choice(&menu, "main").unwrap().options[2].id.clone();
    // Tapping the main menu's option while at the defects menu.
    let step_schedule = tap(&menu, &s, &main_schedule, t(2));
    let typed_at_main = send(
        &menu,
        Some(&Session {
            state: State::Menu { node: "main".into() },
            updated_at: t(1),
        }),
        "3",
        t(2),
    )
    .0;
    assert_eq!(step_schedule, typed_at_main);
    assert!(
        !said(&step_schedule).contains(&menu.texts.unknown),
        "{}",
        said(&step_schedule)
    );
    // The defects menu's own option, tapped: the form starts.
    let step = tap(&menu, &s, &report, t(3));
    assert_eq!(said(&step), "Please describe the defect:");
}

#[test]
fn an_unknown_tap_says_unknown_and_shows_the_current_menu_again() {
    let menu = Menu::example();
    let (_, s) = send(&menu, None, "hi", t(0));
    let (_, s) = send(&menu, Some(&s), "2", t(1));
    for id in ["defects:gone", "nonsense", "", "main:", ":::"] {
        let step = tap(&menu, &s, id, t(2));
        let text = said(&step);
        assert!(text.starts_with(&menu.texts.unknown), "{id:?}: {text}");
        assert!(text.ends_with(&render::menu(&menu, "defects")), "{id:?}: {text}");
        assert_eq!(step.state, s.state);
    }
}

#[test]
fn typing_a_label_chooses_like_its_number() {
    let menu = Menu::example();
    let (_, s) = send(&menu, None, "hi", t(0));
    let label = render::choice(&menu, "main").unwrap().options[1].label.to_uppercase();
    let (by_label, _) = send(&menu, Some(&s), &format!("  {label} "), t(1));
    let (by_number, _) = send(&menu, Some(&s), "2", t(1));
    assert_eq!(by_label, by_number);
}

#[test]
fn a_handoff_while_closed_says_away_and_still_waits_for_a_person() {
    let menu = Menu::example();
    let (_, s) = send(&menu, None, "hi", t(0));
    let (open, _) = send(&menu, Some(&s), "4", t(1));
    assert!(open.hands_off());
    let closed = open.clone().while_closed("We're closed now. We open Monday at 08:00.");
    assert_eq!(closed.state, open.state);
    assert!(
        said(&closed).starts_with("We're closed now. We open Monday at 08:00."),
        "{}",
        said(&closed)
    );
    assert_eq!(effects(&closed), effects(&open));
    let (menu_step, _) = send(&menu, Some(&s), "2", t(1));
    assert!(!menu_step.hands_off());
    assert_eq!(menu_step.clone().while_closed("x"), menu_step, "only a handoff changes");
}

/// A menu whose options lead to the same node twice (and to a node whose
/// name looks like a disambiguated id).
const SAME_TARGET_TWICE: &str = r#"start = "main"
[nodes.main]
kind = "menu"
text = "Pick"
options = [
  { label = "Opening hours", goto = "info" },
  { label = "Where are you?", goto = "info" },
  { label = "Other", goto = "info#2" },
]
[nodes.info]
kind = "info"
text = "We are here."
[nodes."info#2"]
kind = "info"
text = "Somewhere else."
"#;

#[test]
fn options_to_the_same_node_get_ids_unique_in_their_menu_and_each_tap_works() {
    let menu = Menu::from_toml(SAME_TARGET_TWICE, &[]).unwrap();
    let ids: Vec<String> = render::choice(&menu, "main")
        .unwrap()
        .options
        .into_iter()
        .map(|o| o.id)
        .collect();
    // The first keeps `node:goto` (what earlier menus sent); a repeat gets
    // the next free `#n`; an option's own `node:goto` is never taken from it.
    assert_eq!(ids, ["main:info", "main:info#3", "main:info#2"]);
    let (_, s) = send(&menu, None, "hi", t(0));
    for (id, expected) in [
        (&ids[0], "We are here."),
        (&ids[1], "We are here."),
        (&ids[2], "Somewhere else."),
    ] {
        let said = said(&tap(&menu, &s, id, t(1)));
        assert!(said.starts_with(expected), "{id}: {said}");
    }
}
