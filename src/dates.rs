//! Lenient date parameters: turns a date a person typed into a query
//! parameter into the canonical text an OpenAPI `format: date` or
//! `format: date-time` expects.
//!
//! [`LenientDates::parse`] answers
//!
//! * for [`DateKind::Date`] an RFC 3339 full-date, `2024-01-02`;
//! * for [`DateKind::DateTime`] an RFC 3339 date-time in UTC with `Z` and
//!   whole seconds, `2024-01-02T10:00:00Z`. A fraction of a second appears
//!   only when the text gave a non-zero one; trailing zeros are dropped
//!   (`.500` becomes `.5`, `.000` disappears) and digits past nanoseconds
//!   are cut off.
//!
//! [`canonical_strict`] is the non-lenient path: it accepts only RFC 3339
//! and answers the same canonical forms.
//!
//! # Accepted forms (lenient)
//!
//! Matching ignores ASCII case and surrounding blanks. Commas count as
//! blanks, ordinal suffixes that fit the number are allowed (`2nd`,
//! `23rd`), and a dot after a month or weekday abbreviation is allowed
//! (`Jan. 2`).
//!
//! | form | example |
//! |------|---------|
//! | strict RFC 3339 full-date or date-time | `2024-01-02`, `2024-01-02T10:00:00+02:00` |
//! | ISO date, `-` `/` or `.` separated, year first | `2024-01-02`, `2024-1-2`, `2024/01/02`, `2024.01.02` |
//! | numeric date with the year last, read by [`Dialect`] | `01/04/2024`, `1.4.2024`, `01-04-2024` |
//! | day, month name, year | `2 January 2024`, `2 Jan 2024`, `2-Jan-2024`, `2nd January 2024` |
//! | month name, day, year | `January 2, 2024`, `Jan 2 2024` |
//! | any absolute date after a weekday that must match it | `Friday, 15 March 2024`, `Fri, 15 Mar 2024 10:00:00 GMT` |
//! | `today`, `yesterday`, `tomorrow` | |
//! | a weekday, optionally after `this`, `next` or `last` | `friday`, `next friday`, `last monday` |
//! | a month, or a month and a day with no year, optionally after `this`, `next` or `last` | `April 1`, `1 April`, `next april`, `last december` |
//! | `now` | |
//! | a duration | `3 days ago`, `2 weeks ago`, `-3d`, `2 hours ago`, `3 days` (future), `in 2 days`, `next week`, `last month` |
//!
//! Every form except `now` and durations may be followed by a time of
//! day, optionally after `T` or `at`: `10:00`, `10:00:30`, `10:00:30.25`,
//! `8pm`, `8 pm`, `10:30am`, `6.30pm`. The time may end with an offset:
//! `Z`, `UTC`, `GMT`, `+02:00`, `+0200` or `+02`. Only a time means that
//! time today (`8pm`). Hours run 0 to 23, or 1 to 12 with `am`/`pm`; minutes
//! and seconds must have two digits.
//!
//! Month names are the full English names, the three-letter abbreviations
//! and `sept`. Weekday names are the full names and `mon`, `tue`, `tues`,
//! `wed`, `thu`, `thur`, `thurs`, `fri`, `sat`, `sun`. Duration units are
//! `s`, `sec(s)`, `second(s)`, `m`, `min(s)`, `minute(s)`, `h`, `hour(s)`,
//! `d`, `day(s)`, `w`, `week(s)`, `month(s)`, `y`, `year(s)`, with a count
//! of at most four digits.
//!
//! # Rejected on purpose
//!
//! * any word outside the vocabulary above (`garbage`, `yesterday-ish`,
//!   `3 monkeys ago`), any character other than ASCII letters, digits,
//!   blanks and `- / . : , +`, and any text longer than 100 bytes;
//! * dates that do not exist (`2024-02-30`, `2023-02-29`, `32/01/2024`,
//!   `13/13/2024`) and times out of range (`25:00`, `13pm`, `10:60`);
//! * a bare number, including the ISO 8601 basic form `20240102`: an
//!   eight-digit number is as likely an id or a count as a date, and
//!   OpenAPI uses the extended form anyway. A bare year (`2024`) is
//!   rejected too;
//! * numeric dates without a year (`01/04`) and years with fewer than four
//!   digits (`01/04/24`, `2 January 24`), because the century would be a
//!   guess;
//! * a time after `now` or a duration (`3 days ago 10:00`);
//! * results outside the years 0000 to 9999.
//!
//! # Time zones
//!
//! Text without an offset is read as a wall-clock time in
//! [`LenientDates::zone`]. With a named zone, daylight saving time is
//! honoured: a wall-clock time the clocks skip (Paris, `2024-03-31 02:30`)
//! is an error, and one that happens twice (Paris, `2024-10-27 02:30`)
//! means the earlier instant. A [`DateKind::DateTime`] given only a date
//! means midnight in the zone (so it fails in the rare zones that skip
//! midnight). A [`DateKind::Date`] given a date-time takes the calendar
//! date of that instant in the zone (`2024-01-02T23:30:00Z` read in
//! `+02:00` is `2024-01-03`); the instant must exist, so a skipped
//! wall-clock time is an error here too.
//!
//! # Relative forms
//!
//! `now` anchors every relative form. Day names (`today`, `yesterday`,
//! `tomorrow`, weekdays, year-less month names) work on the calendar date
//! of `now` in the zone and, without a time, mean midnight there.
//! Weekdays: a bare weekday or `this friday` is the first such day on or
//! after today; `next friday` is the first such day after today (so on a
//! Friday it is a week away); `last friday` is the latest such day before
//! today. This reading does not depend on [`Dialect`].
//!
//! `now` and durations are instants: `now` is truncated to whole seconds;
//! seconds, minutes, hours, days and weeks are exact (a day is 24 hours);
//! months and years move the calendar month in UTC and keep the time of
//! day, clamping to the month's end (31 March less one month is
//! 29 February). A [`DateKind::Date`] takes the date of that instant in the
//! zone. A duration without `ago` or a minus sign points to the future.
//!
//! # What `interim` does and what this module adds
//!
//! The `interim` crate computes `today`/`yesterday`/`tomorrow`, the
//! year-less month forms (`April 1`, `next april`, `last december`) and
//! every duration (`3 days ago`, `-3d`, `next week`). This module hands it
//! only phrases that match those shapes exactly, because on its own it
//! ignores text after a time, rolls `25:00` and `13pm` over to the next
//! day, reads `2 January 24` as the year 24, reads `2024` as 1 January, and
//! accepts any word that starts like a unit (`3 monkeys ago`).
//!
//! This module adds: strict RFC 3339 with leap seconds, all absolute dates
//! and times of day (with range checks and a clear message), `2024/01/02`,
//! `Jan 2 2024` without a comma, dotted dates, ordinals, `in 2 days`,
//! `now` as an instant, weekdays (because `interim` answers today for
//! `last friday` on a Friday, and two weeks ahead for `next friday` in its
//! UK dialect), zones with daylight saving time, and the canonical output.

use std::fmt;

use chrono::{
    DateTime, Datelike, Days, FixedOffset, LocalResult, Months, NaiveDate, NaiveDateTime,
    NaiveTime, TimeDelta, TimeZone, Timelike, Utc, Weekday,
};
#[cfg(feature = "time-zones")]
use chrono_tz::Tz;
use interim::Interval;

/// Which OpenAPI format the value must end up in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateKind {
    /// `format: date`, an RFC 3339 full-date such as `2024-01-02`.
    Date,
    /// `format: date-time`, an RFC 3339 date-time such as `2024-01-02T10:00:00Z`.
    DateTime,
}

/// How ambiguous numeric dates like 01/04/2024 are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dialect {
    /// `01/04/2024` is 1 April 2024.
    #[default]
    DayFirst,
    /// `01/04/2024` is 4 January 2024.
    MonthFirst,
}

impl Dialect {
    /// Reads `day-first` or `month-first`, ignoring ASCII case.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("day-first") {
            Some(Self::DayFirst)
        } else if text.eq_ignore_ascii_case("month-first") {
            Some(Self::MonthFirst)
        } else {
            None
        }
    }
}

/// The time zone a date without an offset is read in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Zone {
    /// Coordinated Universal Time.
    #[default]
    Utc,
    /// A fixed offset from UTC, without daylight saving time.
    Fixed(FixedOffset),
    /// An IANA zone such as `Europe/Paris`, with its daylight saving rules (feature
    /// `time-zones`, which carries the zone database).
    #[cfg(feature = "time-zones")]
    Named(Tz),
}

impl Zone {
    /// Reads `UTC` or `Z` (any case), an offset `+02:00`, `-0530` or `+02`
    /// (hours up to 23, minutes up to 59), or an IANA name such as
    /// `Europe/Paris` (exact case; with the `time-zones` feature only).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("utc") || text.eq_ignore_ascii_case("z") {
            return Some(Self::Utc);
        }
        if let Some(body) = text.strip_prefix('+') {
            return offset_of(1, body.as_bytes()).map(Self::Fixed);
        }
        if let Some(body) = text.strip_prefix('-') {
            return offset_of(-1, body.as_bytes()).map(Self::Fixed);
        }
        #[cfg(feature = "time-zones")]
        return text.parse::<Tz>().ok().map(Self::Named);
        #[cfg(not(feature = "time-zones"))]
        None
    }

    /// The wall-clock time of `at` in this zone.
    fn local(&self, at: DateTime<Utc>) -> NaiveDateTime {
        match self {
            Self::Utc => at.naive_utc(),
            Self::Fixed(offset) => at.with_timezone(offset).naive_local(),
            #[cfg(feature = "time-zones")]
            Self::Named(tz) => at.with_timezone(tz).naive_local(),
        }
    }

    /// The instant a wall-clock time in this zone names: the earlier one
    /// when the clocks go back, an error when they skip it.
    fn resolve(&self, local: NaiveDateTime) -> Result<DateTime<Utc>, String> {
        let found = match self {
            Self::Utc => return Ok(local.and_utc()),
            Self::Fixed(offset) => offset
                .from_local_datetime(&local)
                .map(|at| at.with_timezone(&Utc)),
            #[cfg(feature = "time-zones")]
            Self::Named(tz) => tz
                .from_local_datetime(&local)
                .map(|at| at.with_timezone(&Utc)),
        };
        match found {
            LocalResult::Single(at) => Ok(at),
            LocalResult::Ambiguous(first, second) => Ok(first.min(second)),
            LocalResult::None => Err(format!(
                "the local time {} does not exist in {self} (the clocks skip it)",
                local.format("%Y-%m-%d %H:%M")
            )),
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Utc => f.write_str("UTC"),
            Self::Fixed(offset) => write!(f, "{offset}"),
            #[cfg(feature = "time-zones")]
            Self::Named(tz) => f.write_str(tz.name()),
        }
    }
}

/// Reads dates the way a person types them; see the module documentation
/// for every accepted form.
#[derive(Clone, Debug, Default)]
pub struct LenientDates {
    /// How numeric dates with the year last are read.
    pub dialect: Dialect,
    /// The zone for text without an offset, and for "today".
    pub zone: Zone,
}

impl LenientDates {
    /// Parses what a person types; answers the canonical text: `2024-01-02` for Date,
    /// RFC 3339 in UTC with `Z` and whole seconds (`2024-01-02T10:00:00Z`, fractions kept only if given) for DateTime.
    /// `now` anchors relative forms ("yesterday", "3 days ago", "next friday 8pm").
    pub fn parse(
        &self,
        text: &str,
        kind: DateKind,
        now: DateTime<Utc>,
    ) -> Result<String, DateError> {
        self.read(text, now)
            .and_then(|reading| finish(reading, kind, &self.zone))
            .map_err(|problem| fail(&problem, lenient_expectation(kind)))
    }

    fn read(&self, text: &str, now: DateTime<Utc>) -> Result<Reading, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the value is empty".into());
        }
        if text.len() > MAX_LEN {
            return Err(format!("the value is longer than {MAX_LEN} bytes"));
        }
        if let Some(found) = strict_date_time(text.as_bytes()) {
            return found.map(|(at, leap)| Reading::Instant(at, leap));
        }
        if let Some(found) = strict_date(text.as_bytes()) {
            return found.map(Reading::Day);
        }
        let tokens = tokenize(text)?;
        for token in &tokens {
            if let Tok::Word(word) = token
                && !known_word(word)
            {
                let shown: String = word.chars().take(20).collect();
                return Err(format!("the word `{shown}` is not understood"));
            }
        }
        match tokens.as_slice() {
            [] => return Err("the value has no date in it".into()),
            [Tok::Num(_)] => {
                return Err(
                    "a bare number is not read as a date (write `2024-01-02`, not `20240102`)"
                        .into(),
                );
            }
            _ => {}
        }
        let (date_part, raw_time) = split_time(&tokens);
        let time = raw_time.map(RawTime::check).transpose()?;
        match (self.read_date(date_part, now)?, time) {
            (Anchor::Day(day), None) => Ok(Reading::Day(day)),
            (Anchor::Day(day), Some(time)) => {
                let local = day.and_time(time.time);
                Ok(match time.offset {
                    Some(offset) => Reading::Offset(local, offset),
                    None => Reading::Local(local),
                })
            }
            (Anchor::Instant(at), None) => Ok(Reading::Instant(at, false)),
            (Anchor::Instant(_), Some(_)) => {
                Err("a time of day cannot follow `now` or a duration such as `3 days ago`".into())
            }
        }
    }

    fn read_date(&self, tokens: &[Tok], now: DateTime<Utc>) -> Result<Anchor, String> {
        let local_now = self.zone.local(now);
        let today = local_now.date();
        if tokens.is_empty() {
            return Ok(Anchor::Day(today));
        }
        if let Some(found) = self.absolute(tokens) {
            return found.map(Anchor::Day);
        }
        if let [Tok::Word(first), rest @ ..] = tokens
            && let Some(named) = weekday_of(first)
            && let Some(found) = self.absolute(rest)
        {
            let day = found?;
            if day.weekday() != named {
                return Err(format!(
                    "{} is a {}, not a {}",
                    day.format("%Y-%m-%d"),
                    weekday_name(day.weekday()),
                    weekday_name(named)
                ));
            }
            return Ok(Anchor::Day(day));
        }
        if let Some((direction, named)) = weekday_phrase(tokens) {
            return weekday_date(today, direction, named)
                .map(Anchor::Day)
                .ok_or_else(|| "the weekday falls outside the calendar".into());
        }
        if let [Tok::Word(word)] = tokens
            && word == "now"
        {
            return Ok(Anchor::Instant(now.with_nanosecond(0).unwrap_or(now)));
        }
        if is_day_word(tokens) || is_month_phrase(tokens) {
            let dialect = match self.dialect {
                Dialect::DayFirst => interim::Dialect::Uk,
                Dialect::MonthFirst => interim::Dialect::Us,
            };
            return interim::parse_date_string(&render(tokens), local_now.and_utc(), dialect)
                .map(|at| Anchor::Day(at.date_naive()))
                .map_err(|_| "that day does not exist in the month named".into());
        }
        if let Some(text) = duration_text(tokens) {
            let interval = interim::parse_duration(&text)
                .map_err(|_| String::from("the duration could not be read"))?;
            return shift(now.with_nanosecond(0).unwrap_or(now), interval)
                .map(Anchor::Instant)
                .ok_or_else(|| "the duration reaches outside the calendar".into());
        }
        let short_year = tokens
            .iter()
            .any(|t| matches!(t, Tok::Sym('/' | '.' | '-')))
            || tokens
                .iter()
                .any(|t| matches!(t, Tok::Word(w) if month_of(w).is_some()));
        if short_year && !tokens.iter().any(|t| matches!(t, Tok::Num(n) if four(n))) {
            return Err("the value is not a recognised date (years need four digits)".into());
        }
        Err("the value is not a recognised date".into())
    }

    /// Absolute calendar dates; `None` when the tokens have another shape.
    fn absolute(&self, tokens: &[Tok]) -> Option<Result<NaiveDate, String>> {
        use Tok::{Num, Sym, Word};
        let (year, month, day) = match tokens {
            [Num(y), Sym(a), Num(m), Sym(b), Num(d)]
                if a == b && DATE_SEPARATORS.contains(a) && four(y) && short(m) && short(d) =>
            {
                (num(y), num(m), num(d))
            }
            [Num(p), Sym(a), Num(q), Sym(b), Num(y)]
                if a == b && DATE_SEPARATORS.contains(a) && short(p) && short(q) && four(y) =>
            {
                match self.dialect {
                    Dialect::DayFirst => (num(y), num(q), num(p)),
                    Dialect::MonthFirst => (num(y), num(p), num(q)),
                }
            }
            [Num(d), Word(m), Num(y)] | [Num(d), Sym('-'), Word(m), Sym('-'), Num(y)]
                if short(d) && four(y) =>
            {
                (num(y), month_of(m)?, num(d))
            }
            [Word(m), Num(d), Num(y)] if short(d) && four(y) => (num(y), month_of(m)?, num(d)),
            _ => return None,
        };
        Some(calendar_date(year, month, day))
    }
}

/// Strict RFC 3339 check/canonicalization for the non-lenient path: full-date or date-time; answers the canonical form (date-time converted to UTC `Z`).
///
/// [`DateKind::Date`] accepts only a full-date (`2024-01-02`);
/// [`DateKind::DateTime`] accepts only a date-time with seconds and an
/// offset (`2024-01-02T10:00:00+02:00`, `T` and `Z` in either case). A leap
/// second is accepted only where it can occur, at 23:59:60 UTC. Fractions
/// follow the rules in the module documentation. Nothing is trimmed.
pub fn canonical_strict(text: &str, kind: DateKind) -> Result<String, DateError> {
    let bytes = text.as_bytes();
    let found = match kind {
        DateKind::Date => strict_date(bytes).map(|found| found.and_then(format_date)),
        DateKind::DateTime => strict_date_time(bytes)
            .map(|found| found.and_then(|(at, leap)| format_instant(at, leap))),
    };
    let expected = match kind {
        DateKind::Date => "an RFC 3339 full-date such as `2024-01-02`",
        DateKind::DateTime => "an RFC 3339 date-time such as `2024-01-02T10:00:00Z`",
    };
    match found {
        Some(Ok(canonical)) => Ok(canonical),
        Some(Err(problem)) => Err(fail(&problem, expected)),
        None if text.is_empty() => Err(fail("the value is empty", expected)),
        None => Err(fail(
            "the value does not have the RFC 3339 layout",
            expected,
        )),
    }
}

/// Why a value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateError {
    /// Lowercase explanation that names what was expected with an example,
    /// e.g. "expected a date such as `2024-01-02`, `2 January 2024` or `3 days ago`".
    pub detail: String,
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for DateError {}

/// Longest text the lenient parser looks at, in bytes.
const MAX_LEN: usize = 100;

const DATE_SEPARATORS: [char; 3] = ['-', '/', '.'];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

const WEEKDAY_SHORT: [(&str, Weekday); 10] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("tues", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("thur", Weekday::Thu),
    ("thurs", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

/// Units `interim` reads exactly as named (it matches on prefixes, so the
/// list keeps it from reading `monkeys` as months).
const UNITS: [&str; 24] = [
    "s", "sec", "secs", "second", "seconds", "m", "min", "mins", "minute", "minutes", "h", "hour",
    "hours", "d", "day", "days", "w", "week", "weeks", "month", "months", "y", "year", "years",
];

const OTHER_WORDS: [&str; 16] = [
    "today",
    "yesterday",
    "tomorrow",
    "now",
    "this",
    "next",
    "last",
    "ago",
    "in",
    "at",
    "t",
    "am",
    "pm",
    "z",
    "utc",
    "gmt",
];

fn lenient_expectation(kind: DateKind) -> &'static str {
    match kind {
        DateKind::Date => "a date such as `2024-01-02`, `2 January 2024` or `3 days ago`",
        DateKind::DateTime => {
            "a date-time such as `2024-01-02T10:00:00Z`, `2 January 2024 10:00` or `yesterday`"
        }
    }
}

fn fail(problem: &str, expected: &str) -> DateError {
    DateError {
        detail: format!("{problem}; expected {expected}"),
    }
}

/// What the text named, before it is put into the requested kind.
enum Reading {
    /// A calendar date without a time.
    Day(NaiveDate),
    /// A wall-clock time in the configured zone.
    Local(NaiveDateTime),
    /// A wall-clock time at an offset the text gave.
    Offset(NaiveDateTime, FixedOffset),
    /// An instant; the flag marks a leap second (kept as `:59` inside).
    Instant(DateTime<Utc>, bool),
}

/// The date part of a lenient text.
enum Anchor {
    Day(NaiveDate),
    Instant(DateTime<Utc>),
}

fn finish(reading: Reading, kind: DateKind, zone: &Zone) -> Result<String, String> {
    match kind {
        DateKind::Date => format_date(match reading {
            Reading::Day(day) => day,
            Reading::Local(local) => zone.local(zone.resolve(local)?).date(),
            Reading::Offset(local, offset) => zone.local(at_offset(local, offset)?).date(),
            Reading::Instant(at, _) => zone.local(at).date(),
        }),
        DateKind::DateTime => {
            let (at, leap) = match reading {
                Reading::Day(day) => (zone.resolve(day.and_time(NaiveTime::MIN))?, false),
                Reading::Local(local) => (zone.resolve(local)?, false),
                Reading::Offset(local, offset) => (at_offset(local, offset)?, false),
                Reading::Instant(at, leap) => (at, leap),
            };
            format_instant(at, leap)
        }
    }
}

fn at_offset(local: NaiveDateTime, offset: FixedOffset) -> Result<DateTime<Utc>, String> {
    offset
        .from_local_datetime(&local)
        .single()
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| "the date-time falls outside the calendar".into())
}

fn check_year(year: i32) -> Result<(), String> {
    if (0..=9999).contains(&year) {
        Ok(())
    } else {
        Err("the result falls outside the years 0000 to 9999".into())
    }
}

fn format_date(day: NaiveDate) -> Result<String, String> {
    check_year(day.year())?;
    let mut out = String::with_capacity("2024-01-02".len());
    push_date(&mut out, day.year(), day.month(), day.day());
    Ok(out)
}

fn format_instant(at: DateTime<Utc>, leap: bool) -> Result<String, String> {
    check_year(at.year())?;
    let second = if leap { 60 } else { at.second() };
    let mut out = String::with_capacity("2024-01-02T10:00:00.123456789Z".len());
    push_date(&mut out, at.year(), at.month(), at.day());
    out.push('T');
    push_digits(&mut out, at.hour(), 2);
    out.push(':');
    push_digits(&mut out, at.minute(), 2);
    out.push(':');
    push_digits(&mut out, second, 2);
    let nanos = at.nanosecond() % 1_000_000_000;
    if nanos != 0 {
        out.push('.');
        // Nine digits without the trailing zeros.
        let mut nanos = nanos;
        let mut width = 9;
        while nanos.is_multiple_of(10) {
            nanos /= 10;
            width -= 1;
        }
        push_digits(&mut out, nanos, width);
    }
    out.push('Z');
    Ok(out)
}

/// `YYYY-MM-DD`, for a year `check_year` accepted.
fn push_date(out: &mut String, year: i32, month: u32, day: u32) {
    push_digits(out, year.unsigned_abs(), 4);
    out.push('-');
    push_digits(out, month, 2);
    out.push('-');
    push_digits(out, day, 2);
}

/// `n` zero-padded to `width` digits: every date parameter is written back in its canonical
/// form, so not through `format!`.
fn push_digits(out: &mut String, n: u32, width: usize) {
    crate::params::push_padded_digits(out, u64::from(n), width);
}

/// A number from 1 to 9 ASCII digits.
fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() || bytes.len() > 9 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        bytes
            .iter()
            .fold(0, |n, digit| n * 10 + u32::from(digit - b'0')),
    )
}

/// Nanoseconds from the digits after a decimal point (extra digits cut off).
fn fraction_nanos(fraction: &[u8]) -> u32 {
    (0..9).fold(0, |n, i| {
        n * 10 + fraction.get(i).map_or(0, |digit| u32::from(digit - b'0'))
    })
}

/// An offset body such as `02:00`, `0200` or `02` (sign already taken).
fn offset_of(sign: i32, body: &[u8]) -> Option<FixedOffset> {
    let (hours, minutes): (&[u8], &[u8]) = match body.len() {
        2 => (body, b"00"),
        4 => body.split_at(2),
        5 if body[2] == b':' => (&body[..2], &body[3..]),
        _ => return None,
    };
    let (hours, minutes) = (digits(hours)?, digits(minutes)?);
    offset_from(sign, hours, minutes).ok()
}

fn offset_from(sign: i32, hours: u32, minutes: u32) -> Result<FixedOffset, String> {
    if hours > 23 || minutes > 59 {
        return Err(format!(
            "the offset {hours:02}:{minutes:02} is out of range"
        ));
    }
    let seconds = i32::try_from(hours * 3600 + minutes * 60).unwrap_or(i32::MAX);
    FixedOffset::east_opt(sign * seconds).ok_or_else(|| "the offset is out of range".into())
}

fn calendar_date(year: u32, month: u32, day: u32) -> Result<NaiveDate, String> {
    if !(1..=12).contains(&month) {
        return Err(format!("month {month} does not exist"));
    }
    let name = MONTHS.get(month as usize - 1).copied().unwrap_or("");
    i32::try_from(year)
        .ok()
        .and_then(|year| NaiveDate::from_ymd_opt(year, month, day))
        .ok_or_else(|| format!("day {day} does not exist in {name} {year:04}"))
}

/// `YYYY-MM-DD`; `None` when the layout differs.
fn strict_date(bytes: &[u8]) -> Option<Result<NaiveDate, String>> {
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let year = digits(&bytes[..4])?;
    let month = digits(&bytes[5..7])?;
    let day = digits(&bytes[8..])?;
    Some(calendar_date(year, month, day))
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `None` when the layout differs.
fn strict_date_time(bytes: &[u8]) -> Option<Result<(DateTime<Utc>, bool), String>> {
    if bytes.len() < 20
        || !matches!(bytes[10], b'T' | b't')
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let day = strict_date(&bytes[..10])?;
    let hour = digits(&bytes[11..13])?;
    let minute = digits(&bytes[14..16])?;
    let second = digits(&bytes[17..19])?;
    let mut rest = &bytes[19..];
    let mut nanos = 0;
    if let [b'.', tail @ ..] = rest {
        let count = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if count == 0 {
            return None;
        }
        nanos = fraction_nanos(&tail[..count]);
        rest = &tail[count..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => offset_from(1, 0, 0),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let sign = if *sign == b'-' { -1 } else { 1 };
            offset_from(sign, digits(&[*h1, *h2])?, digits(&[*m1, *m2])?)
        }
        _ => return None,
    };
    Some(strict_instant(day, hour, minute, second, nanos, offset))
}

fn strict_instant(
    day: Result<NaiveDate, String>,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    offset: Result<FixedOffset, String>,
) -> Result<(DateTime<Utc>, bool), String> {
    let day = day?;
    let offset = offset?;
    check_clock(hour, minute, second.min(59))?;
    if second > 60 {
        return Err(format!("second {second} is out of range"));
    }
    let leap = second == 60;
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second.min(59), nanos)
        .ok_or_else(|| String::from("the time is out of range"))?;
    let at = at_offset(day.and_time(time), offset)?;
    if leap && (at.hour(), at.minute()) != (23, 59) {
        return Err("a leap second can only be 23:59:60 in utc".into());
    }
    Ok((at, leap))
}

fn check_clock(hour: u32, minute: u32, second: u32) -> Result<(), String> {
    if hour > 23 {
        Err(format!("hour {hour} is out of range"))
    } else if minute > 59 {
        Err(format!("minute {minute} is out of range"))
    } else if second > 59 {
        Err(format!("second {second} is out of range"))
    } else {
        Ok(())
    }
}

/// One piece of lenient text.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    /// ASCII digits as typed.
    Num(String),
    /// ASCII letters, lowercased.
    Word(String),
    /// One of `- / . : +`.
    Sym(char),
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let mut tokens: Vec<Tok> = Vec::new();
    let mut chars = text.chars().peekable();
    // Whether the next character touches the previous token.
    let mut glued = false;
    while let Some(c) = chars.next() {
        if matches!(c, ' ' | '\t' | ',') {
            glued = false;
            continue;
        }
        if c.is_ascii_digit() || c.is_ascii_alphabetic() {
            let mut piece = String::from(c.to_ascii_lowercase());
            while let Some(&next) = chars.peek() {
                if next.is_ascii_digit() != c.is_ascii_digit() || !next.is_ascii_alphanumeric() {
                    break;
                }
                piece.push(next.to_ascii_lowercase());
                chars.next();
            }
            if c.is_ascii_digit() {
                tokens.push(Tok::Num(piece));
            } else if let (true, Some(Tok::Num(number)), true) = (
                glued,
                tokens.last(),
                ["st", "nd", "rd", "th"].contains(&piece.as_str()),
            ) {
                if ordinal_suffix(number) != piece {
                    return Err(format!("`{number}{piece}` is not an ordinal"));
                }
            } else {
                tokens.push(Tok::Word(piece));
            }
        } else if matches!(c, '-' | '/' | '.' | ':' | '+') {
            let abbreviation = matches!(tokens.last(), Some(Tok::Word(w))
                if month_of(w).is_some() || weekday_of(w).is_some());
            if !(c == '.' && glued && abbreviation) {
                tokens.push(Tok::Sym(c));
            }
        } else if c.is_ascii_graphic() {
            return Err(format!("the character `{c}` is not allowed"));
        } else {
            return Err(format!(
                "the character U+{:04X} is not allowed",
                u32::from(c)
            ));
        }
        glued = true;
    }
    Ok(tokens)
}

fn ordinal_suffix(number: &str) -> &'static str {
    let last_two = number.len().saturating_sub(2);
    let value = digits(&number.as_bytes()[last_two..]).unwrap_or(0);
    match (value % 100, value % 10) {
        (11..=13, _) => "th",
        (_, 1) => "st",
        (_, 2) => "nd",
        (_, 3) => "rd",
        _ => "th",
    }
}

fn known_word(word: &str) -> bool {
    month_of(word).is_some()
        || weekday_of(word).is_some()
        || UNITS.contains(&word)
        || OTHER_WORDS.contains(&word)
}

fn month_of(word: &str) -> Option<u32> {
    let position = MONTHS
        .iter()
        .position(|name| *name == word || (word.len() == 3 && name.starts_with(word)))
        .or_else(|| (word == "sept").then_some(8))?;
    u32::try_from(position + 1).ok()
}

fn weekday_of(word: &str) -> Option<Weekday> {
    WEEKDAYS
        .iter()
        .chain(WEEKDAY_SHORT.iter())
        .find(|(name, _)| *name == word)
        .map(|(_, day)| *day)
}

fn weekday_name(day: Weekday) -> &'static str {
    WEEKDAYS
        .iter()
        .find(|(_, named)| *named == day)
        .map_or("", |(name, _)| name)
}

fn short(number: &str) -> bool {
    (1..=2).contains(&number.len())
}

fn four(number: &str) -> bool {
    number.len() == 4
}

/// The value of at most nine digits (longer text is never passed here).
fn num(number: &str) -> u32 {
    digits(number.as_bytes()).unwrap_or(u32::MAX)
}

fn is_direction(word: &str) -> bool {
    matches!(word, "this" | "next" | "last")
}

/// A time of day as typed, before range checks.
struct RawTime {
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// `Some(true)` for pm.
    pm: Option<bool>,
    offset: Option<(i32, u32, u32)>,
}

/// A checked time of day.
struct TimeOfDay {
    time: NaiveTime,
    offset: Option<FixedOffset>,
}

impl RawTime {
    fn check(self) -> Result<TimeOfDay, String> {
        let hour = match self.pm {
            Some(_) if !(1..=12).contains(&self.hour) => {
                return Err(format!("hour {} cannot be used with am or pm", self.hour));
            }
            Some(pm) => self.hour % 12 + if pm { 12 } else { 0 },
            None => self.hour,
        };
        check_clock(hour, self.minute, self.second)?;
        let time = NaiveTime::from_hms_nano_opt(hour, self.minute, self.second, self.nanos)
            .ok_or_else(|| String::from("the time is out of range"))?;
        let offset = self
            .offset
            .map(|(sign, hours, minutes)| offset_from(sign, hours, minutes))
            .transpose()?;
        Ok(TimeOfDay { time, offset })
    }
}

/// Splits off the first tail of the tokens that is a whole time of day.
fn split_time(tokens: &[Tok]) -> (&[Tok], Option<RawTime>) {
    for start in 0..tokens.len() {
        if let Some(time) = time_shape(&tokens[start..]) {
            return (&tokens[..start], Some(time));
        }
    }
    (tokens, None)
}

fn two_digits(token: Option<&Tok>) -> Option<u32> {
    match token {
        Some(Tok::Num(n)) if n.len() == 2 => Some(num(n)),
        _ => None,
    }
}

fn meridiem(token: Option<&Tok>) -> Option<bool> {
    match token {
        Some(Tok::Word(w)) if w == "am" => Some(false),
        Some(Tok::Word(w)) if w == "pm" => Some(true),
        _ => None,
    }
}

/// A time of day that uses all the tokens.
fn time_shape(tokens: &[Tok]) -> Option<RawTime> {
    let mut at = usize::from(matches!(tokens.first(), Some(Tok::Word(w)) if w == "t" || w == "at"));
    let hour = match tokens.get(at) {
        Some(Tok::Num(n)) if short(n) => num(n),
        _ => return None,
    };
    at += 1;
    let mut time = RawTime {
        hour,
        minute: 0,
        second: 0,
        nanos: 0,
        pm: None,
        offset: None,
    };
    match tokens.get(at) {
        Some(Tok::Sym(':')) => {
            time.minute = two_digits(tokens.get(at + 1))?;
            at += 2;
            if tokens.get(at) == Some(&Tok::Sym(':')) {
                time.second = two_digits(tokens.get(at + 1))?;
                at += 2;
                if tokens.get(at) == Some(&Tok::Sym('.')) {
                    match tokens.get(at + 1) {
                        Some(Tok::Num(fraction)) => {
                            time.nanos = fraction_nanos(fraction.as_bytes())
                        }
                        _ => return None,
                    }
                    at += 2;
                }
            }
            time.pm = meridiem(tokens.get(at));
            at += usize::from(time.pm.is_some());
        }
        Some(Tok::Sym('.')) => {
            time.minute = two_digits(tokens.get(at + 1))?;
            time.pm = Some(meridiem(tokens.get(at + 2))?);
            at += 3;
        }
        next => {
            time.pm = Some(meridiem(next)?);
            at += 1;
        }
    }
    time.offset = match tokens.get(at..).unwrap_or(&[]) {
        [] => None,
        [Tok::Word(w)] if matches!(w.as_str(), "z" | "utc" | "gmt") => Some((1, 0, 0)),
        [Tok::Sym(sign @ ('+' | '-')), rest @ ..] => {
            let sign = if *sign == '-' { -1 } else { 1 };
            match rest {
                [Tok::Num(h), Tok::Sym(':'), Tok::Num(m)] if h.len() == 2 && m.len() == 2 => {
                    Some((sign, num(h), num(m)))
                }
                [Tok::Num(hm)] if hm.len() == 4 => Some((sign, num(&hm[..2]), num(&hm[2..]))),
                [Tok::Num(h)] if h.len() == 2 => Some((sign, num(h), 0)),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(time)
}

/// `friday`, `this friday`, `next friday`, `last friday`.
fn weekday_phrase(tokens: &[Tok]) -> Option<(&str, Weekday)> {
    match tokens {
        [Tok::Word(day)] => Some(("this", weekday_of(day)?)),
        [Tok::Word(direction), Tok::Word(day)] if is_direction(direction) => {
            Some((direction.as_str(), weekday_of(day)?))
        }
        _ => None,
    }
}

fn weekday_date(today: NaiveDate, direction: &str, named: Weekday) -> Option<NaiveDate> {
    let (from, to) = (
        today.weekday().num_days_from_monday(),
        named.num_days_from_monday(),
    );
    let ahead = (7 + to - from) % 7;
    let behind = (7 + from - to) % 7;
    match direction {
        "next" => today.checked_add_days(Days::new(if ahead == 0 { 7 } else { ahead }.into())),
        "last" => today.checked_sub_days(Days::new(if behind == 0 { 7 } else { behind }.into())),
        _ => today.checked_add_days(Days::new(ahead.into())),
    }
}

fn is_day_word(tokens: &[Tok]) -> bool {
    matches!(tokens, [Tok::Word(w)] if matches!(w.as_str(), "today" | "yesterday" | "tomorrow"))
}

/// `april`, `next april`, `april 1`, `1 april`, `last april 1`.
fn is_month_phrase(tokens: &[Tok]) -> bool {
    let body = match tokens {
        [Tok::Word(direction), rest @ ..] if is_direction(direction) => rest,
        _ => tokens,
    };
    match body {
        [Tok::Word(month)] => month_of(month).is_some(),
        [Tok::Word(month), Tok::Num(day)] | [Tok::Num(day), Tok::Word(month)] => {
            month_of(month).is_some() && short(day)
        }
        _ => false,
    }
}

/// The text `interim` gets for a duration; `None` for other shapes.
fn duration_text(tokens: &[Tok]) -> Option<String> {
    use Tok::{Num, Sym, Word};
    let unit = |word: &String| UNITS.contains(&word.as_str());
    let count = |n: &String| n.len() <= 4;
    match tokens {
        [Num(n), Word(u)] if count(n) && unit(u) => Some(format!("{n} {u}")),
        [Num(n), Word(u), Word(ago)] if count(n) && unit(u) && ago == "ago" => {
            Some(format!("{n} {u} ago"))
        }
        [Sym('-'), Num(n), Word(u)] if count(n) && unit(u) => Some(format!("-{n} {u}")),
        [Word(direction), Word(u)] if is_direction(direction) && unit(u) => {
            Some(format!("{direction} {u}"))
        }
        [Word(word), Num(n), Word(u)] if word == "in" && count(n) && unit(u) => {
            Some(format!("{n} {u}"))
        }
        _ => None,
    }
}

fn render(tokens: &[Tok]) -> String {
    tokens
        .iter()
        .map(|token| match token {
            Tok::Num(text) | Tok::Word(text) => text.clone(),
            Tok::Sym(c) => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Moves an instant by an interval; see "Relative forms" in the module docs.
fn shift(now: DateTime<Utc>, interval: Interval) -> Option<DateTime<Utc>> {
    match interval {
        Interval::Seconds(seconds) => {
            now.checked_add_signed(TimeDelta::try_seconds(i64::from(seconds))?)
        }
        Interval::Days(days) => now.checked_add_signed(TimeDelta::try_days(i64::from(days))?),
        Interval::Months(months) if months >= 0 => {
            now.checked_add_months(Months::new(months.unsigned_abs()))
        }
        Interval::Months(months) => now.checked_sub_months(Months::new(months.unsigned_abs())),
    }
}

/// Read from config files as `day-first` or `month-first`.
impl<'de> serde::Deserialize<'de> for Dialect {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Dialect::parse(&text)
            .ok_or_else(|| serde::de::Error::unknown_variant(&text, &["day-first", "month-first"]))
    }
}

/// Read from config files as `UTC`, an offset (`+02:00`) or a zone name (`Europe/Paris`).
impl<'de> serde::Deserialize<'de> for Zone {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Zone::parse(&text).ok_or_else(|| {
            let names = if cfg!(feature = "time-zones") {
                "or a name such as `Europe/Paris`"
            } else {
                "or, with oasgate's `time-zones` feature, a name such as `Europe/Paris`"
            };
            serde::de::Error::custom(format!(
                "`{text}` is not a time zone: expected `UTC`, an offset such as `+02:00`, {names}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The canonical forms are written digit by digit; `format!` with padding is the meaning.
    #[test]
    fn canonical_forms_are_what_padded_formatting_writes() {
        let mut checked = 0;
        for year in [0, 1, 9, 10, 99, 100, 999, 1000, 1970, 2024, 9999] {
            for (month, day) in [(1, 1), (2, 29), (12, 31)] {
                let Some(date) = NaiveDate::from_ymd_opt(year, month, day) else {
                    continue;
                };
                assert_eq!(
                    format_date(date).unwrap(),
                    format!("{year:04}-{month:02}-{day:02}")
                );
                for (hour, minute, second) in [(0, 0, 0), (9, 5, 7), (23, 59, 59)] {
                    for nanos in [0, 1, 10, 120_000_000, 123_456_789, 500_000_000, 999_999_999] {
                        let at = date
                            .and_hms_nano_opt(hour, minute, second, nanos)
                            .unwrap()
                            .and_utc();
                        let fraction = if nanos == 0 {
                            String::new()
                        } else {
                            format!(".{}", format!("{nanos:09}").trim_end_matches('0'))
                        };
                        for leap in [false, true] {
                            let second = if leap { 60 } else { second };
                            assert_eq!(
                                format_instant(at, leap).unwrap(),
                                format!(
                                    "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}Z"
                                )
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(checked > 600, "{checked}");
    }

    const D: DateKind = DateKind::Date;
    const DT: DateKind = DateKind::DateTime;
    /// A Friday.
    const NOW: &str = "2024-03-15T12:00:00Z";

    /// One row: the text, the kind, the reader's settings, `now`, and the
    /// canonical answer (`None` for a refusal).
    struct Case {
        input: &'static str,
        kind: DateKind,
        dialect: Dialect,
        zone: &'static str,
        now: &'static str,
        want: Option<&'static str>,
    }

    const fn ok(input: &'static str, kind: DateKind, want: &'static str) -> Case {
        Case {
            input,
            kind,
            dialect: Dialect::DayFirst,
            zone: "UTC",
            now: NOW,
            want: Some(want),
        }
    }

    const fn bad(input: &'static str, kind: DateKind) -> Case {
        Case {
            input,
            kind,
            dialect: Dialect::DayFirst,
            zone: "UTC",
            now: NOW,
            want: None,
        }
    }

    impl Case {
        const fn us(self) -> Self {
            Self {
                dialect: Dialect::MonthFirst,
                ..self
            }
        }
        const fn zone(self, zone: &'static str) -> Self {
            Self { zone, ..self }
        }
        const fn at(self, now: &'static str) -> Self {
            Self { now, ..self }
        }
    }

    fn instant(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("bad test instant {text}: {e}"))
    }

    /// Checks the shape every refusal must have.
    fn well_formed(error: &DateError) -> Result<(), String> {
        let detail = &error.detail;
        let starts_lower = detail.chars().next().is_some_and(|c| !c.is_uppercase());
        if starts_lower && detail.contains("; expected ") && detail.contains('`') {
            Ok(())
        } else {
            Err(format!("badly worded error {detail:?}"))
        }
    }

    /// Runs every row, then fails once, naming each failing row.
    fn run(table: &str, cases: &[Case], answer: impl Fn(&Case) -> Result<String, DateError>) {
        let mut failures = Vec::new();
        for (row, case) in cases.iter().enumerate() {
            let got = answer(case);
            let problem = match (&got, case.want) {
                (Ok(text), Some(want)) if text == want => None,
                (Err(error), None) => well_formed(error).err(),
                _ => Some(format!("got {got:?}, want {:?}", case.want)),
            };
            if let Some(problem) = problem {
                failures.push(format!(
                    "{table} row {row} {:?} ({:?}, {:?}, {}, now {}): {problem}",
                    case.input, case.kind, case.dialect, case.zone, case.now
                ));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    fn lenient(case: &Case) -> Result<String, DateError> {
        let zone = Zone::parse(case.zone).unwrap_or_else(|| panic!("bad zone {}", case.zone));
        let dates = LenientDates {
            dialect: case.dialect,
            zone,
        };
        dates.parse(case.input, case.kind, instant(case.now))
    }

    const LENIENT: &[Case] = &[
        // Strict RFC 3339 passes through; date-times go to UTC.
        ok("2024-01-02", D, "2024-01-02"),
        ok("2024-01-02", DT, "2024-01-02T00:00:00Z"),
        ok("2024-01-02T10:00:00Z", DT, "2024-01-02T10:00:00Z"),
        ok("2024-01-02T10:00:00+02:00", DT, "2024-01-02T08:00:00Z"),
        ok("2024-01-02t10:00:00.250z", DT, "2024-01-02T10:00:00.25Z"),
        ok("  2024-01-02T10:00:00Z  ", DT, "2024-01-02T10:00:00Z"),
        ok("1998-12-31T23:59:60Z", DT, "1998-12-31T23:59:60Z"),
        ok("2024-01-02T10:00:00+02:00", DT, "2024-01-02T08:00:00Z").zone("Europe/Paris"),
        // ISO forms without seconds or offset, read in the zone.
        ok("2024-01-02T10:00", DT, "2024-01-02T10:00:00Z"),
        ok("2024-01-02 10:00", DT, "2024-01-02T10:00:00Z"),
        ok("2024-01-02T10:00:30", DT, "2024-01-02T10:00:30Z"),
        ok("2024-01-02 10:00:30.5", DT, "2024-01-02T10:00:30.5Z"),
        ok(
            "2024-01-02 10:00:30.1234567891",
            DT,
            "2024-01-02T10:00:30.123456789Z",
        ),
        ok("2024-01-02 10:00:30.000", DT, "2024-01-02T10:00:30Z"),
        ok("2024-01-02T10:00", DT, "2024-01-02T09:00:00Z").zone("Europe/Paris"),
        ok("2024-01-02 10:00", DT, "2024-01-02T15:30:00Z").zone("-0530"),
        ok("2024-01-02 10:00Z", DT, "2024-01-02T10:00:00Z").zone("Europe/Paris"),
        ok("2024-01-02 10:00 +0200", DT, "2024-01-02T08:00:00Z"),
        ok("2024-01-02 10:00 -05", DT, "2024-01-02T15:00:00Z"),
        ok("2024-01-02 10:00 UTC", DT, "2024-01-02T10:00:00Z").zone("+02:00"),
        ok("2024-1-2", D, "2024-01-02"),
        ok("2024.01.02", D, "2024-01-02"),
        // Month names.
        ok("2 January 2024", D, "2024-01-02"),
        ok("2 January 2024", DT, "2024-01-02T00:00:00Z"),
        ok("January 2, 2024", D, "2024-01-02"),
        ok("Jan 2 2024 10:00", DT, "2024-01-02T10:00:00Z"),
        ok("Jan 2 2024 10:00", D, "2024-01-02"),
        ok("2 Jan 2024", D, "2024-01-02"),
        ok("2-Jan-2024", D, "2024-01-02"),
        ok("Jan. 2nd, 2024", D, "2024-01-02"),
        ok("23rd sept 2024", D, "2024-09-23"),
        ok("11th NOVEMBER 2024", D, "2024-11-11"),
        ok("2 January 2024 8pm", DT, "2024-01-02T20:00:00Z"),
        ok("2 January 2024 at 8:30 pm", DT, "2024-01-02T20:30:00Z"),
        ok("2 January 2024 6.30am", DT, "2024-01-02T06:30:00Z"),
        ok("2 January 2024 12am", DT, "2024-01-02T00:00:00Z"),
        ok("2 January 2024 12pm", DT, "2024-01-02T12:00:00Z"),
        ok("Friday, 15 March 2024", D, "2024-03-15"),
        ok("Fri, 15 Mar 2024 10:00:00 GMT", DT, "2024-03-15T10:00:00Z"),
        // Year first is never ambiguous.
        ok("2024/01/02", D, "2024-01-02"),
        ok("2024/01/02", D, "2024-01-02").us(),
        // The dialect decides numeric dates with the year last.
        ok("01/04/2024", D, "2024-04-01"),
        ok("01/04/2024", D, "2024-01-04").us(),
        ok("1.4.2024", D, "2024-04-01"),
        ok("1.4.2024", D, "2024-01-04").us(),
        ok("01-04-2024", D, "2024-04-01"),
        ok("31/12/2024 23:59", DT, "2024-12-31T23:59:00Z"),
        ok("12/31/2024", D, "2024-12-31").us(),
        // Relative forms; NOW is Friday 2024-03-15 12:00 UTC.
        ok("today", D, "2024-03-15"),
        ok("Today", DT, "2024-03-15T00:00:00Z"),
        ok("today", DT, "2024-03-14T23:00:00Z").zone("Europe/Paris"),
        ok("yesterday", D, "2024-03-14"),
        ok("tomorrow", D, "2024-03-16"),
        ok("yesterday 10:00", DT, "2024-03-14T09:00:00Z").zone("Europe/Paris"),
        ok("now", DT, "2024-03-15T12:00:00Z"),
        ok("now", DT, "2024-03-15T12:00:00Z").at("2024-03-15T12:00:00.987Z"),
        ok("now", D, "2024-03-15"),
        ok("now", D, "2024-03-16").zone("+14:00"),
        ok("3 days ago", D, "2024-03-12"),
        ok("3 days ago", DT, "2024-03-12T12:00:00Z"),
        ok("2 weeks ago", D, "2024-03-01"),
        ok("2 hours ago", DT, "2024-03-15T10:00:00Z"),
        ok("2 hours ago", D, "2024-03-14").at("2024-03-15T01:00:00Z"),
        ok("3d ago", D, "2024-03-12"),
        ok("-3 days", D, "2024-03-12"),
        ok("3 days", D, "2024-03-18"),
        ok("in 2 days", D, "2024-03-17"),
        ok("in 2 days", DT, "2024-03-17T12:00:00Z"),
        ok("in 90 mins", DT, "2024-03-15T13:30:00Z"),
        ok("next week", D, "2024-03-22"),
        ok("last month", DT, "2024-02-15T12:00:00Z"),
        ok("1 month ago", DT, "2024-02-29T12:00:00Z").at("2024-03-31T12:00:00Z"),
        ok("last year", D, "2023-03-15"),
        ok("next friday 8pm", DT, "2024-03-22T20:00:00Z"),
        ok("next friday 8pm", DT, "2024-03-22T20:00:00Z").us(),
        ok("next friday", D, "2024-03-22").at("2024-03-20T12:00:00Z"),
        ok("friday", D, "2024-03-15"),
        ok("this friday", D, "2024-03-15"),
        ok("last friday", D, "2024-03-08"),
        ok("last monday", D, "2024-03-11"),
        ok("last monday", DT, "2024-03-11T00:00:00Z"),
        ok("next monday", D, "2024-03-18"),
        ok("sunday", D, "2024-03-17"),
        ok("8pm", DT, "2024-03-15T20:00:00Z"),
        ok("10:00", DT, "2024-03-15T09:00:00Z").zone("Europe/Paris"),
        ok("April 1", D, "2024-04-01"),
        ok("1 april", D, "2024-04-01"),
        ok("next january", D, "2025-01-01"),
        ok("last december", D, "2023-12-01"),
        ok("april 1 10:00", DT, "2024-04-01T10:00:00Z"),
        // Date kind given a date-time takes the date in the zone.
        ok("2024-01-02T23:30:00Z", D, "2024-01-03").zone("+02:00"),
        ok("2024-01-02T01:30:00Z", D, "2024-01-01").zone("America/New_York"),
        ok("2024-01-02 23:30", D, "2024-01-02").zone("+02:00"),
        ok("2024-01-02 23:30 +00:00", D, "2024-01-03").zone("+02:00"),
        // Named zones and daylight saving time.
        ok("2024-07-01 10:00", DT, "2024-07-01T08:00:00Z").zone("Europe/Paris"),
        ok("2024-01-01 10:00", DT, "2024-01-01T09:00:00Z").zone("Europe/Paris"),
        ok("2024-07-01", DT, "2024-06-30T22:00:00Z").zone("Europe/Paris"),
        ok("2024-10-27 02:30", DT, "2024-10-27T00:30:00Z").zone("Europe/Paris"),
        ok("2024-10-27 03:30", DT, "2024-10-27T02:30:00Z").zone("Europe/Paris"),
        ok("2024-03-31 03:00", DT, "2024-03-31T01:00:00Z").zone("Europe/Paris"),
        bad("2024-03-31 02:30", DT).zone("Europe/Paris"),
        bad("2024-03-31 02:30", D).zone("Europe/Paris"),
        // Refusals.
        bad("", D),
        bad("   ", DT),
        bad(",", D),
        bad("garbage", D),
        bad("garbage", DT),
        bad("32/01/2024", D),
        bad("32/01/2024", D).us(),
        bad("2024-02-30", D),
        bad("2024-02-30 10:00", DT),
        bad("2023-02-29", D),
        bad("2023-02-29", DT),
        bad("13/13/2024", D),
        bad("13/13/2024", D).us(),
        bad("01/13/2024", D),
        bad("yesterday-ish", D),
        bad("20240102", D),
        bad("2024", D),
        bad("3", D),
        bad("01/04", D),
        bad("01/04/24", D),
        bad("2 January 24", D),
        bad("2 January 2024 25:00", DT),
        bad("2024-01-02 24:00", DT),
        bad("2024-01-02 10:60", DT),
        bad("2024-01-02 10:00:60", DT),
        bad("2024-01-02 10:5", DT),
        bad("2024-01-02 13pm", DT),
        bad("2024-01-02 0am", DT),
        bad("2024-01-02 10:00 +24:00", DT),
        bad("2024-01-02 10:00 garbage", DT),
        bad("10:00am garbage", DT),
        bad("2024-01-02 10:00 17", DT),
        bad("3 monkeys ago", D),
        bad("3 days ago 10:00", DT),
        bad("now 10:00", DT),
        bad("in 2 days ago", D),
        bad("in -2 days", D),
        bad("12345 days ago", D),
        bad("Monday, 15 March 2024", D),
        bad("1nd January 2024", D),
        bad("april 31", D),
        bad("friday friday", D),
        bad("2024-01-02T10:00:00+02:00 extra", DT),
        bad("9999 years", D),
        bad("9999-12-31T23:00:00-05:00", DT),
        bad("0000-01-01 00:30", DT).zone("+01:00"),
        bad("2024‐01‐02", D),
        bad("２０２４-01-02", D),
        bad("2024-01-02\0", D),
        bad("yesterday\n10:00", DT),
    ];

    // Many rows read in `Europe/Paris`.
    #[cfg(feature = "time-zones")]
    #[test]
    fn lenient_table() {
        run("lenient", LENIENT, lenient);
    }

    const STRICT: &[Case] = &[
        ok("2024-01-02", D, "2024-01-02"),
        ok("0000-01-01", D, "0000-01-01"),
        ok("2024-02-29", D, "2024-02-29"),
        ok("2024-01-02T10:00:00Z", DT, "2024-01-02T10:00:00Z"),
        ok("2024-01-02t10:00:00z", DT, "2024-01-02T10:00:00Z"),
        ok("2024-01-02T10:00:00+02:00", DT, "2024-01-02T08:00:00Z"),
        ok("2024-01-01T23:30:00-01:00", DT, "2024-01-02T00:30:00Z"),
        ok("2024-01-02T10:00:00-00:00", DT, "2024-01-02T10:00:00Z"),
        ok("2024-01-02T10:00:00.5Z", DT, "2024-01-02T10:00:00.5Z"),
        ok("2024-01-02T10:00:00.500Z", DT, "2024-01-02T10:00:00.5Z"),
        ok("2024-01-02T10:00:00.000Z", DT, "2024-01-02T10:00:00Z"),
        ok(
            "2024-01-02T10:00:00.1234567891Z",
            DT,
            "2024-01-02T10:00:00.123456789Z",
        ),
        ok("9999-12-31T23:59:59Z", DT, "9999-12-31T23:59:59Z"),
        ok("1998-12-31T23:59:60Z", DT, "1998-12-31T23:59:60Z"),
        ok(
            "1998-12-31T15:59:60.123-08:00",
            DT,
            "1998-12-31T23:59:60.123Z",
        ),
        bad("", D),
        bad("", DT),
        bad("2024-01-02", DT),
        bad("2024-01-02T10:00:00Z", D),
        bad(" 2024-01-02", D),
        bad("2024-1-2", D),
        bad("2024/01/02", D),
        bad("2024-02-30", D),
        bad("2023-02-29", D),
        bad("2024-13-01", D),
        bad("2024-00-01", D),
        bad("2024-01-00", D),
        bad("+2024-01-02", D),
        bad("２０２４-01-02", D),
        bad("2 January 2024", D),
        bad("today", D),
        bad("2024-01-02 10:00:00Z", DT),
        bad("2024-01-02T10:00Z", DT),
        bad("2024-01-02T10:00:00", DT),
        bad("2024-01-02T10:00:00+0200", DT),
        bad("2024-01-02T10:00:00.Z", DT),
        bad("2024-01-02T24:00:00Z", DT),
        bad("2024-01-02T10:60:00Z", DT),
        bad("2024-01-02T10:00:00+24:00", DT),
        bad("2024-02-30T10:00:00Z", DT),
        bad("1998-12-31T23:59:61Z", DT),
        bad("1998-12-31T23:58:60Z", DT),
        bad("1998-12-31T22:59:60Z", DT),
        bad("0000-01-01T00:00:00+01:00", DT),
        bad("9999-12-31T23:00:00-05:00", DT),
    ];

    #[test]
    fn strict_table() {
        run("strict", STRICT, |case| {
            canonical_strict(case.input, case.kind)
        });
    }

    #[test]
    fn zone_and_dialect_table() {
        #[cfg(feature = "time-zones")]
        let paris = Some(Zone::Named(chrono_tz::Europe::Paris));
        #[cfg(not(feature = "time-zones"))]
        let paris = None;
        let east = |seconds| FixedOffset::east_opt(seconds).map(Zone::Fixed);
        let zones: &[(&str, Option<Zone>)] = &[
            ("UTC", Some(Zone::Utc)),
            ("utc", Some(Zone::Utc)),
            ("Z", Some(Zone::Utc)),
            ("+02:00", east(7200)),
            ("-0530", east(-19800)),
            ("+02", east(7200)),
            ("Europe/Paris", paris),
            ("europe/paris", None),
            ("+24:00", None),
            ("+2:00", None),
            ("+02:60", None),
            ("+٠٢:00", None),
            ("Mars/Olympus", None),
            ("", None),
        ];
        let mut failures = Vec::new();
        for (row, (text, want)) in zones.iter().enumerate() {
            let got = Zone::parse(text);
            if got != *want {
                failures.push(format!(
                    "zone row {row} {text:?}: got {got:?}, want {want:?}"
                ));
            }
        }
        let dialects: &[(&str, Option<Dialect>)] = &[
            ("day-first", Some(Dialect::DayFirst)),
            ("Month-First", Some(Dialect::MonthFirst)),
            ("us", None),
            ("", None),
        ];
        for (row, (text, want)) in dialects.iter().enumerate() {
            let got = Dialect::parse(text);
            if got != *want {
                failures.push(format!(
                    "dialect row {row} {text:?}: got {got:?}, want {want:?}"
                ));
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
        assert_eq!(Dialect::default(), Dialect::DayFirst);
        let defaults = LenientDates::default();
        assert_eq!(
            (defaults.dialect, defaults.zone),
            (Dialect::DayFirst, Zone::Utc)
        );
    }

    /// Odd inputs never panic, and whatever is accepted is already canonical.
    #[test]
    fn odd_inputs_never_panic() {
        let pieces = [
            "2024",
            "1",
            "01",
            "31",
            "13",
            "0",
            "00",
            "60",
            "24",
            "99",
            "9999",
            "12345",
            "-",
            "/",
            ".",
            ":",
            "+",
            ",",
            " ",
            "t",
            "z",
            "am",
            "pm",
            "jan",
            "friday",
            "next",
            "last",
            "in",
            "ago",
            "days",
            "today",
            "now",
            "1st",
            "ä",
            "\0",
            "\u{202e}",
            "\u{1F600}",
        ];
        let mut inputs: Vec<String> = vec![
            "x".repeat(10_000),
            "1".repeat(10_000),
            "2024-01-02".repeat(50),
            "2024-01-02T10:00:00.".to_string() + &"9".repeat(5_000) + "Z",
            "-".repeat(101),
            "\u{FEFF}2024-01-02".into(),
            "2024-01-02\u{00A0}10:00".into(),
            "9999-12-31T23:59:59-23:59".into(),
            "0000-01-01T00:00:00+23:59".into(),
            "4294967295/4294967295/4294967295".into(),
            "99:99:99.999999999999".into(),
            "ｔｏｄａｙ".into(),
        ];
        for a in pieces {
            for b in pieces {
                inputs.push(format!("{a}{b}"));
                for c in pieces {
                    inputs.push(format!("{a}{b}{c}"));
                    inputs.push(format!("{a} {b} {c}"));
                }
            }
        }
        let mut seed: u64 = 0x5eed;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..6 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let pick = usize::try_from(seed >> 33).unwrap_or(0) % pieces.len();
                text.push_str(pieces[pick]);
            }
            inputs.push(text);
        }
        let readers = [
            LenientDates::default(),
            LenientDates {
                dialect: Dialect::MonthFirst,
                zone: Zone::parse("Europe/Paris").unwrap_or_default(),
            },
        ];
        let nows = [instant(NOW), instant("9999-12-31T23:59:59Z")];
        let mut accepted = 0;
        for input in &inputs {
            for kind in [D, DT] {
                if let Ok(out) = canonical_strict(input, kind) {
                    assert_eq!(canonical_strict(&out, kind).as_ref(), Ok(&out), "{input:?}");
                }
                for reader in &readers {
                    for now in nows {
                        match reader.parse(input, kind, now) {
                            Ok(out) => {
                                accepted += 1;
                                assert_eq!(
                                    canonical_strict(&out, kind).as_ref(),
                                    Ok(&out),
                                    "{input:?} gave a non-canonical answer"
                                );
                            }
                            Err(error) => {
                                if let Err(problem) = well_formed(&error) {
                                    panic!("{input:?}: {problem}");
                                }
                            }
                        }
                    }
                }
            }
        }
        assert!(accepted > 1_000, "only {accepted} odd inputs were accepted");
    }
}
