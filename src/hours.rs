//! Opening hours (`[hours]`): each weekday's ranges of shop time, whole
//! closed dates, all in `[shop] timezone`. A pure leaf: whether the shop is
//! open at an instant, until when, and when it next opens, said the way a
//! person would ("today at 13:00", "tomorrow at 08:00", "Monday at 08:00").
//!
//! Daylight-saving days are right because every range is turned into
//! instants on its own date: a time that does not exist that day (in the
//! hour the clocks skip) is moved forward by the length of the gap, so
//! `02:30` on the night Berlin goes from 02:00 CET to 03:00 CEST is 03:30
//! CEST (01:30Z), and a time that happens twice (in the hour the clocks
//! repeat) is its first occurrence, as jiff's "compatible" disambiguation
//! (and RFC 5545) do. A range that starts in the gap therefore opens as late
//! as the gap is long; one across the repeated hour lasts as long as it
//! really does.

use std::collections::BTreeSet;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};

/// How many days ahead [`Hours::next_open`] looks (a shop closed longer is
/// "closed for now").
const LOOK_AHEAD_DAYS: i32 = 60;

/// One opening range of a day: from `start` to `end` (`None`: midnight at
/// the end of the day, written `24:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    start: Time,
    end: Option<Time>,
}

/// The shop's opening hours.
#[derive(Debug, Clone, PartialEq)]
pub struct Hours {
    /// Monday first.
    days: [Vec<Range>; 7],
    closed: BTreeSet<Date>,
    tz: TimeZone,
}

/// The weekday keys of `[hours]`, Monday first.
pub const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Hours {
    /// Hours from each day's text (`None`: closed that day), the closed dates
    /// and the shop's time zone. Errors name the key and the fix.
    pub fn new(days: [Option<&str>; 7], closed: &[String], tz: TimeZone) -> Result<Hours, Vec<(String, String)>> {
        let mut problems = Vec::new();
        let mut parsed: [Vec<Range>; 7] = Default::default();
        for (i, text) in days.iter().enumerate() {
            if let Some(text) = text {
                match parse_day(text) {
                    Ok(ranges) => parsed[i] = ranges,
                    Err(why) => problems.push((format!("[hours] {}", DAY_KEYS[i]), why)),
                }
            }
        }
        let mut dates = BTreeSet::new();
        for date in closed {
            match date.trim().parse::<Date>() {
                Ok(date) => {
                    dates.insert(date);
                }
                Err(_) => problems.push((
                    "[hours] closed".into(),
                    format!("{date:?} is not a date; write it like \"2026-12-25\""),
                )),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Hours {
            days: parsed,
            closed: dates,
            tz,
        })
    }

    /// The instants `date`'s ranges cover (none on a closed date).
    fn spans(&self, date: Date) -> Vec<(Timestamp, Timestamp)> {
        if self.closed.contains(&date) {
            return Vec::new();
        }
        self.days[weekday_index(date.weekday())]
            .iter()
            .filter_map(|range| {
                let start = self.instant(date, range.start)?;
                let end = match range.end {
                    Some(end) => self.instant(date, end)?,
                    None => self.instant(date.tomorrow().ok()?, Time::midnight())?,
                };
                (start < end).then_some((start, end))
            })
            .collect()
    }

    /// `time` on `date` in the shop's zone (see the module doc for DST).
    fn instant(&self, date: Date, time: Time) -> Option<Timestamp> {
        date.to_datetime(time)
            .to_zoned(self.tz.clone())
            .ok()
            .map(|z| z.timestamp())
    }

    /// The shop's date at `at`.
    fn date_at(&self, at: Timestamp) -> Date {
        at.to_zoned(self.tz.clone()).date()
    }

    /// The end of the range that covers `at`, if one does.
    fn range_end(&self, at: Timestamp) -> Option<Timestamp> {
        let today = self.date_at(at);
        let yesterday = today.yesterday().ok();
        yesterday
            .into_iter()
            .chain([today])
            .flat_map(|date| self.spans(date))
            .find(|(start, until)| *start <= at && at < *until)
            .map(|(_, until)| until)
    }

    /// Until when the shop is open at `at`; `None` when it is closed then.
    /// Ranges that meet (13:00-24:00 and 00:00-08:00 of the next day) are one
    /// opening, followed at most [`LOOK_AHEAD_DAYS`] days (a shop open day
    /// and night is open "until" then).
    pub fn open_until(&self, at: Timestamp) -> Option<Zoned> {
        let mut end = self.range_end(at)?;
        for _ in 0..LOOK_AHEAD_DAYS {
            match self
                .spans(self.date_at(end))
                .into_iter()
                .find(|(start, _)| *start == end)
            {
                Some((_, until)) => end = until,
                None => break,
            }
        }
        Some(end.to_zoned(self.tz.clone()))
    }

    /// Whether the shop is open at `at`.
    pub fn is_open(&self, at: Timestamp) -> bool {
        self.range_end(at).is_some()
    }

    /// When the shop next opens after `at` (`None`: not within 60 days).
    pub fn next_open(&self, at: Timestamp) -> Option<Zoned> {
        let today = self.date_at(at);
        (0..=LOOK_AHEAD_DAYS)
            .filter_map(|n| today.checked_add(n.days()).ok())
            .flat_map(|date| self.spans(date))
            .map(|(start, _)| start)
            .find(|start| *start > at)
            .map(|start| start.to_zoned(self.tz.clone()))
    }

    /// `at`'s day's hours as written ("08:00-12:00, 13:00-17:00", or "closed").
    pub fn today(&self, at: Timestamp) -> String {
        let date = self.date_at(at);
        let ranges = &self.days[weekday_index(date.weekday())];
        if self.closed.contains(&date) || ranges.is_empty() {
            return "closed".into();
        }
        ranges
            .iter()
            .map(|r| {
                let end = r
                    .end
                    .map_or_else(|| "24:00".to_string(), |t| t.strftime("%H:%M").to_string());
                format!("{}-{end}", r.start.strftime("%H:%M"))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `when` said from `at`'s point of view in `language` (English for one
    /// not known): "today at 13:00", "tomorrow at 08:00", "Monday at 08:00",
    /// and past a week "Monday 4 January at 08:00" ("Montag, 4. Januar um 08:00").
    pub fn say_when(&self, when: &Zoned, at: Timestamp, language: &str) -> String {
        let words = Words::of(language);
        let today = self.date_at(at);
        let time = when.strftime("%H:%M").to_string();
        let days = today.until(when.date()).map(|s| s.get_days()).unwrap_or(i32::MAX);
        let day = words.days[weekday_index(when.weekday())];
        match days {
            0 => format!("{} {} {time}", words.today, words.at),
            1 => format!("{} {} {time}", words.tomorrow, words.at),
            2..=6 => format!("{day} {} {time}", words.at),
            _ => {
                let month = words.months[usize::from(when.month().unsigned_abs()) - 1];
                format!("{} {} {time}", (words.date)(day, when.day(), month), words.at)
            }
        }
    }
}

/// The words [`Hours::say_when`] uses.
struct Words {
    today: &'static str,
    tomorrow: &'static str,
    at: &'static str,
    days: [&'static str; 7],
    months: [&'static str; 12],
    /// A weekday, a day of the month and a month as one date.
    date: fn(&str, i8, &str) -> String,
}

impl Words {
    fn of(language: &str) -> Words {
        match language {
            "de" => Words {
                today: "heute",
                tomorrow: "morgen",
                at: "um",
                days: [
                    "Montag",
                    "Dienstag",
                    "Mittwoch",
                    "Donnerstag",
                    "Freitag",
                    "Samstag",
                    "Sonntag",
                ],
                months: [
                    "Januar",
                    "Februar",
                    "März",
                    "April",
                    "Mai",
                    "Juni",
                    "Juli",
                    "August",
                    "September",
                    "Oktober",
                    "November",
                    "Dezember",
                ],
                date: |day, n, month| format!("{day}, {n}. {month}"),
            },
            _ => Words {
                today: "today",
                tomorrow: "tomorrow",
                at: "at",
                days: [
                    "Monday",
                    "Tuesday",
                    "Wednesday",
                    "Thursday",
                    "Friday",
                    "Saturday",
                    "Sunday",
                ],
                months: [
                    "January",
                    "February",
                    "March",
                    "April",
                    "May",
                    "June",
                    "July",
                    "August",
                    "September",
                    "October",
                    "November",
                    "December",
                ],
                date: |day, n, month| format!("{day} {n} {month}"),
            },
        }
    }
}

fn weekday_index(day: Weekday) -> usize {
    usize::try_from(day.to_monday_zero_offset()).unwrap_or_default()
}

/// `"08:00-12:00,13:00-17:00"`, `"00:00-24:00"`; ranges in order, not overlapping.
fn parse_day(text: &str) -> Result<Vec<Range>, String> {
    let mut ranges: Vec<Range> = Vec::new();
    for part in text.split(',').map(str::trim) {
        let fix = "write ranges like \"08:00-17:00\" or \"08:00-12:00,13:00-17:00\" (\"00:00-24:00\": all day)";
        let (start, end) = part
            .split_once('-')
            .ok_or_else(|| format!("{part:?} is not a range; {fix}"))?;
        let start = parse_time(start.trim()).ok_or_else(|| format!("{start:?} in {part:?} is not a time; {fix}"))?;
        let end = match end.trim() {
            "24:00" => None,
            other => Some(parse_time(other).ok_or_else(|| format!("{other:?} in {part:?} is not a time; {fix}"))?),
        };
        if end.is_some_and(|end| end <= start) {
            return Err(format!(
                "{part:?} ends before it starts; a range stays within its day ({fix})"
            ));
        }
        if let Some(previous) = ranges.last() {
            if previous.end.is_none_or(|end| start < end) {
                return Err(format!("{part:?} overlaps the range before it; list ranges in order"));
            }
        }
        ranges.push(Range { start, end });
    }
    Ok(ranges)
}

/// `HH:MM`, 00:00 to 23:59.
fn parse_time(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

#[cfg(test)]
mod tests;
