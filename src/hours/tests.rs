//! Opening hours: open and closed, the next opening said as a person would,
//! closed dates, ranges that meet, and the Europe/Berlin DST days.

use jiff::civil::date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::*;

fn shop(days: [Option<&str>; 7], closed: &[&str], zone: &str) -> Hours {
    let closed: Vec<String> = closed.iter().map(|d| d.to_string()).collect();
    Hours::new(days, &closed, TimeZone::get(zone).unwrap()).unwrap()
}

fn weekdays() -> Hours {
    let day = Some("08:00-12:00,13:00-17:00");
    shop(
        [day, day, day, day, day, Some("09:00-13:00"), None],
        &["2026-12-25"],
        "Africa/Johannesburg",
    )
}

/// `YYYY-MM-DD HH:MM` in `zone`.
fn at(text: &str, zone: &str) -> Timestamp {
    let dt: jiff::civil::DateTime = text.parse().unwrap();
    dt.to_zoned(TimeZone::get(zone).unwrap()).unwrap().timestamp()
}

fn jhb(text: &str) -> Timestamp {
    at(text, "Africa/Johannesburg")
}

fn next(hours: &Hours, now: Timestamp, language: &str) -> String {
    let when = hours.next_open(now).expect("opens again");
    hours.say_when(&when, now, language)
}

#[test]
fn open_and_closed_with_a_lunch_break() {
    let hours = weekdays();
    // 2026-12-07 is a Monday.
    assert!(!hours.is_open(jhb("2026-12-07 07:59")));
    assert!(hours.is_open(jhb("2026-12-07 08:00")));
    assert_eq!(
        hours
            .open_until(jhb("2026-12-07 10:00"))
            .unwrap()
            .strftime("%H:%M")
            .to_string(),
        "12:00"
    );
    assert!(!hours.is_open(jhb("2026-12-07 12:30")));
    assert_eq!(next(&hours, jhb("2026-12-07 12:30"), "en"), "today at 13:00");
    assert_eq!(hours.today(jhb("2026-12-07 12:30")), "08:00-12:00, 13:00-17:00");
}

#[test]
fn the_next_opening_reads_as_a_person_would_say_it() {
    let hours = weekdays();
    assert_eq!(next(&hours, jhb("2026-12-11 22:00"), "en"), "tomorrow at 09:00");
    assert_eq!(next(&hours, jhb("2026-12-12 14:00"), "en"), "Monday at 08:00");
    assert_eq!(next(&hours, jhb("2026-12-12 14:00"), "de"), "Montag um 08:00");
    assert_eq!(next(&hours, jhb("2026-12-07 06:00"), "de"), "heute um 08:00");
    // Friday 25 December is closed: from Thursday evening, Saturday it is.
    assert_eq!(next(&hours, jhb("2026-12-24 18:00"), "en"), "Saturday at 09:00");
    assert_eq!(hours.today(jhb("2026-12-25 10:00")), "closed");
}

#[test]
fn an_opening_more_than_a_week_away_names_its_date_as_each_language_writes_it() {
    let day = Some("08:00-17:00");
    let closed = ["2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31", "2027-01-01"];
    let hours = shop([day, day, day, day, day, None, None], &closed, "Africa/Johannesburg");
    let saturday = jhb("2026-12-26 14:00");
    assert_eq!(next(&hours, saturday, "en"), "Monday 4 January at 08:00");
    assert_eq!(next(&hours, saturday, "de"), "Montag, 4. Januar um 08:00");
}

#[test]
fn all_day_ranges_that_meet_are_one_opening() {
    let all = Some("00:00-24:00");
    let hours = shop([all, all, None, None, None, None, None], &[], "UTC");
    // Monday 2026-12-07 10:00 UTC: open until Wednesday's midnight.
    let until = hours.open_until(at("2026-12-07 10:00", "UTC")).unwrap();
    assert_eq!(until.date(), date(2026, 12, 9));
    assert_eq!(until.strftime("%H:%M").to_string(), "00:00");
}

#[test]
fn a_shop_open_day_and_night_answers_at_once() {
    let all = Some("00:00-24:00");
    let hours = shop([all; 7], &[], "UTC");
    let now = at("2026-12-07 10:00", "UTC");
    assert!(hours.is_open(now));
    let until = hours.open_until(now).unwrap();
    assert_eq!(
        until.date(),
        date(2027, 2, 6),
        "followed for 60 days, not to the end of time"
    );
    assert_eq!(hours.next_open(now).map(|z| z.date()), Some(date(2026, 12, 8)));
}

#[test]
fn berlin_daylight_saving_days_are_handled_as_a_person_expects() {
    let sunday = "01:00-05:00";
    let hours = shop([None, None, None, None, None, None, Some(sunday)], &[], "Europe/Berlin");
    // 29 March 2026: 02:00 CET jumps to 03:00 CEST. Open 01:00 CET (00:00Z)
    // to 05:00 CEST (03:00Z): three real hours.
    assert!(hours.is_open("2026-03-29T00:30:00Z".parse().unwrap()));
    assert!(hours.is_open("2026-03-29T02:59:00Z".parse().unwrap()));
    assert!(!hours.is_open("2026-03-29T03:00:00Z".parse().unwrap()));
    // 25 October 2026: 03:00 CEST falls back to 02:00 CET. Open 01:00 CEST
    // (23:00Z the day before) to 05:00 CET (04:00Z): five real hours.
    assert!(hours.is_open("2026-10-24T23:30:00Z".parse().unwrap()));
    assert!(hours.is_open("2026-10-25T03:59:00Z".parse().unwrap()));
    assert!(!hours.is_open("2026-10-25T04:00:00Z".parse().unwrap()));
    // A range that starts in the skipped hour starts as late as the gap is
    // long: 02:30 does not exist, the range opens at 03:30 CEST (01:30Z).
    let gap = shop(
        [None, None, None, None, None, None, Some("02:30-06:00")],
        &[],
        "Europe/Berlin",
    );
    assert!(!gap.is_open("2026-03-29T01:00:00Z".parse().unwrap()));
    assert!(gap.is_open("2026-03-29T01:45:00Z".parse().unwrap()));
    let opens = gap.next_open("2026-03-28T20:00:00Z".parse().unwrap()).unwrap();
    assert_eq!(opens.timestamp(), "2026-03-29T01:30:00Z".parse::<Timestamp>().unwrap());
}

#[test]
fn bad_hours_name_the_key_and_the_fix() {
    let problems = Hours::new(
        [
            Some("8-17"),
            Some("17:00-08:00"),
            Some("08:00-12:00,11:00-13:00"),
            None,
            None,
            None,
            None,
        ],
        &["25 Dec".to_string()],
        TimeZone::UTC,
    )
    .unwrap_err();
    let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["[hours] mon", "[hours] tue", "[hours] wed", "[hours] closed"]);
    assert!(
        problems[0].1.contains("\"8\" in \"8-17\" is not a time"),
        "{problems:?}"
    );
    assert!(problems[1].1.contains("ends before it starts"), "{problems:?}");
    assert!(problems[2].1.contains("overlaps"), "{problems:?}");
    assert!(problems[3].1.contains("write it like \"2026-12-25\""), "{problems:?}");
}
