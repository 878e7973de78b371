//! When a mailbox may send: warm-up caps, calendar days, sending windows, gaps between
//! sends and follow-up due dates.
//!
//! Sending tools get time wrong in public: caps counted per UTC day instead of the
//! mailbox's day, windows that open an hour early or late after a daylight-saving change,
//! follow-ups that drift by an hour. Every rule here therefore works on civil dates and
//! times in an explicit time zone (jiff) and turns them into UTC instants in exactly one
//! place, [`resolve`]'s DST policy:
//!
//! - a local time skipped by a spring-forward gap means the first instant after the gap
//!   (02:30 on a day that jumps from 02:00 to 03:00 opens at 03:00), because that is the
//!   first moment the local clock has passed the requested time;
//! - a local time repeated by a fall-back fold means its earlier instant, so a window opens
//!   at the first 02:30, not an hour later.
//!
//! Nothing here reads the clock: callers pass `now`, so the live worker and `forecast`
//! (a simulated clock) run the same rules, and tests can stand on any DST day.

use std::fmt;
use std::time::Duration;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{Span, Timestamp};

/// Why a schedule setting could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScheduleError {
    /// A window day is not "mon".."sun" or a full English day name.
    UnknownDay(String),
    /// A window time is not "HH:MM" (00:00–23:59; "24:00" only as an end).
    BadTime(String),
    /// A window lists no days, so it would never open.
    NoDays,
    /// A window's start equals its end, so it would never open.
    EmptyWindow,
    /// A window's start is after its end (it would span midnight).
    SpansMidnight,
    /// A gap is not "SECONDS" or "MIN-MAX" in whole seconds.
    BadGap(String),
    /// A gap's minimum is above its maximum.
    GapMinAboveMax,
    /// A warm-up is not "START:STEP" in whole numbers.
    BadWarmup(String),
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleError::UnknownDay(day) => {
                write!(
                    f,
                    "unknown day {day:?} (expected mon, tue, wed, thu, fri, sat or sun)"
                )
            }
            ScheduleError::BadTime(time) => write!(f, "invalid time {time:?} (expected HH:MM, e.g. 09:00)"),
            ScheduleError::NoDays => f.write_str("no days given, so the window never opens"),
            ScheduleError::EmptyWindow => f.write_str("start equals end, so the window never opens"),
            ScheduleError::SpansMidnight => {
                f.write_str("start is after end; windows spanning midnight are not supported")
            }
            ScheduleError::BadGap(gap) => {
                write!(
                    f,
                    "invalid gap {gap:?} (expected SECONDS or MIN-MAX, e.g. 90-180)"
                )
            }
            ScheduleError::GapMinAboveMax => f.write_str("gap minimum is above its maximum"),
            ScheduleError::BadWarmup(warmup) => {
                write!(f, "invalid warm-up {warmup:?} (expected START:STEP, e.g. 15:2)")
            }
        }
    }
}

impl std::error::Error for ScheduleError {}

/// A new mailbox's ramp: `start` sends on its first day, `step` more each following day,
/// until the mailbox's daily cap. Providers judge a sender by its history, so a fresh
/// mailbox that sends its full cap on day one looks like a spammer's throwaway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Warmup {
    pub start: u32,
    pub step: u32,
}

impl Warmup {
    /// Reads `START:STEP` as `inroad mailbox add --warmup` takes it, e.g. "15:2".
    pub fn parse(text: &str) -> Result<Warmup, ScheduleError> {
        let bad = || ScheduleError::BadWarmup(text.to_string());
        let (start, step) = text.split_once(':').ok_or_else(bad)?;
        Ok(Warmup {
            start: digits(start.trim()).ok_or_else(bad)?,
            step: digits(step.trim()).ok_or_else(bad)?,
        })
    }
}

/// Today's cap for a mailbox: `min(cap, start + step × days since the first send)`, or
/// `start` before the first send (the ramp begins when sending does, not when the mailbox
/// was added). Days are calendar days in the mailbox's time zone (see [`mailbox_day`]).
pub fn daily_cap(cap: u32, warmup: Option<Warmup>, first_send_day: Option<Date>, today: Date) -> u32 {
    let Some(warmup) = warmup else { return cap };
    let days = first_send_day.map_or(0, |first| today.duration_since(first).as_secs().max(0) / 86_400);
    let days = u32::try_from(days).unwrap_or(u32::MAX);
    cap.min(warmup.start.saturating_add(warmup.step.saturating_mul(days)))
}

/// The calendar day `now` falls on in the mailbox's time zone. Caps are counted per this
/// day because that is the day the mailbox's provider and its owner see.
pub fn mailbox_day(now: Timestamp, tz: &TimeZone) -> Date {
    tz.to_datetime(now).date()
}

/// The instants a calendar day covers in `tz`: start inclusive, end exclusive. A
/// daylight-saving day is 23 or 25 hours long, so a day is never assumed to be 24 hours.
pub fn day_bounds(date: Date, tz: &TimeZone) -> (Timestamp, Timestamp) {
    (
        start_of_day(date, tz),
        date.tomorrow()
            .map_or(Timestamp::MAX, |next| start_of_day(next, tz)),
    )
}

fn start_of_day(date: Date, tz: &TimeZone) -> Timestamp {
    resolve(tz, date.to_datetime(Time::midnight()))
}

/// The instant a civil datetime in `tz` stands for, under this module's DST policy: a time
/// in a gap becomes the first instant after the gap, a time in a fold its earlier instant.
/// Datetimes beyond jiff's range (years near ±9999) saturate.
fn resolve(tz: &TimeZone, dt: DateTime) -> Timestamp {
    let instant = match tz.to_ambiguous_timestamp(dt).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(dt),
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(dt),
        // Read with the later offset, a skipped time is an instant just before the jump; the
        // jump itself is the first instant at which the local clock shows a later time.
        AmbiguousOffset::Gap { after, .. } => after.to_timestamp(dt).map(|before_jump| {
            tz.following(before_jump)
                .next()
                .map_or(before_jump, |t| t.timestamp())
        }),
    };
    instant.unwrap_or(if dt.date().year() < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// Weekly sending hours in local time: on the listed days, from `start` (inclusive) to
/// `end` (exclusive). Which time zone is the caller's choice: the lead's when known, else
/// the mailbox's, else the campaign's.
///
/// A day's window is the instant interval from its resolved start to its resolved end (see
/// the module docs for DST), so on a fall-back day a window never opens twice, and a window
/// that lies wholly inside a skipped hour does not open that day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub days: Vec<Weekday>,
    pub start: Time,
    /// [`Time::MAX`] stands for "24:00": the window runs to the end of the day.
    pub end: Time,
}

impl Window {
    /// Reads a window as campaign files and the CLI write it: days as "mon".."sun" or full
    /// names (any case, duplicates ignored), times as "HH:MM". An end of "24:00" runs to
    /// midnight. Windows spanning midnight are rejected rather than guessed at: write two
    /// days' worth of hours explicitly instead.
    pub fn parse(days: &[&str], start: &str, end: &str) -> Result<Window, ScheduleError> {
        let mut parsed = Vec::new();
        for day in days {
            let weekday = parse_weekday(day).ok_or_else(|| ScheduleError::UnknownDay(day.to_string()))?;
            if !parsed.contains(&weekday) {
                parsed.push(weekday);
            }
        }
        if parsed.is_empty() {
            return Err(ScheduleError::NoDays);
        }
        let start_time = parse_time(start, false).ok_or_else(|| ScheduleError::BadTime(start.to_string()))?;
        let end_time = parse_time(end, true).ok_or_else(|| ScheduleError::BadTime(end.to_string()))?;
        match start_time.cmp(&end_time) {
            std::cmp::Ordering::Equal => Err(ScheduleError::EmptyWindow),
            std::cmp::Ordering::Greater => Err(ScheduleError::SpansMidnight),
            std::cmp::Ordering::Less => Ok(Window {
                days: parsed,
                start: start_time,
                end: end_time,
            }),
        }
    }

    /// The instants the window is open on `date` in `tz` (start inclusive, end exclusive),
    /// or `None` if it does not open that day. The planner uses the close to know how much
    /// of today is left.
    pub fn open_interval(&self, date: Date, tz: &TimeZone) -> Option<(Timestamp, Timestamp)> {
        if !self.days.contains(&date.weekday()) {
            return None;
        }
        let open = resolve(tz, date.to_datetime(self.start));
        let close = if self.end == Time::MAX {
            day_bounds(date, tz).1
        } else {
            resolve(tz, date.to_datetime(self.end))
        };
        (open < close).then_some((open, close))
    }

    /// Whether the window is open at `now` in `tz`.
    pub fn contains(&self, now: Timestamp, tz: &TimeZone) -> bool {
        self.open_interval(mailbox_day(now, tz), tz)
            .is_some_and(|(open, close)| open <= now && now < close)
    }

    /// `now` if the window is open, else the next instant it opens; `None` only for a
    /// window without days.
    pub fn next_open(&self, now: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        let mut date = mailbox_day(now, tz);
        // A listed weekday comes round within a week; a whole second week covers the one
        // case where that day's window lies wholly inside a skipped DST hour.
        for _ in 0..15 {
            if let Some((open, close)) = self.open_interval(date, tz) {
                if now < close {
                    return Some(open.max(now));
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

fn parse_weekday(day: &str) -> Option<Weekday> {
    Some(match day.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

/// "H:MM" or "HH:MM"; with `allow_24`, "24:00" as [`Time::MAX`] (end of day).
fn parse_time(text: &str, allow_24: bool) -> Option<Time> {
    let (hour, minute) = text.trim().split_once(':')?;
    if !(1..=2).contains(&hour.len()) || minute.len() != 2 {
        return None;
    }
    let (hour, minute) = (digits(hour)?, digits(minute)?);
    if allow_24 && (hour, minute) == (24, 0) {
        return Some(Time::MAX);
    }
    Time::new(i8::try_from(hour).ok()?, i8::try_from(minute).ok()?, 0, 0).ok()
}

/// A plain decimal number: ASCII digits only, no sign, no spaces.
fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The pause between two sends from one mailbox, drawn uniformly in `[min, max]`. Regular
/// machine-gun spacing is a bulk-sender signature; a random pause looks like a person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    pub min: Duration,
    pub max: Duration,
}

impl Gap {
    /// Reads whole seconds: "120" (always 120 s) or "90-180" (between 90 and 180 s).
    pub fn parse(text: &str) -> Result<Gap, ScheduleError> {
        let bad = || ScheduleError::BadGap(text.to_string());
        let (min, max) = match text.split_once('-') {
            Some((min, max)) => (
                digits(min.trim()).ok_or_else(bad)?,
                digits(max.trim()).ok_or_else(bad)?,
            ),
            None => {
                let secs = digits(text.trim()).ok_or_else(bad)?;
                (secs, secs)
            }
        };
        if min > max {
            return Err(ScheduleError::GapMinAboveMax);
        }
        Ok(Gap {
            min: Duration::from_secs(min.into()),
            max: Duration::from_secs(max.into()),
        })
    }

    /// A pause in `[min, max]` determined by `seed` alone, so the planner and `forecast`
    /// agree and a re-run after a crash picks the same pause. A `max` below `min` draws
    /// `min`; spans beyond ~584 years are drawn from their first 2^64 ns.
    pub fn draw(&self, seed: u64) -> Duration {
        let span = u64::try_from(self.max.saturating_sub(self.min).as_nanos()).unwrap_or(u64::MAX);
        // Multiply-shift maps the 64-bit hash onto 0..=span without modulo bias.
        let offset = (u128::from(splitmix64(seed)) * (u128::from(span) + 1)) >> 64;
        self.min + Duration::from_nanos(offset as u64)
    }

    /// The pause after a mailbox's latest send (`last_send` in unix seconds, 0 before any;
    /// `sent_today` its sends that day), seeded from that send alone: every pass of the
    /// worker, a restarted worker and `forecast` draw the same pause.
    pub fn after_send(&self, mailbox_id: i64, last_send: i64, sent_today: u32) -> Duration {
        self.draw((mailbox_id as u64).rotate_left(32) ^ (last_send as u64) ^ u64::from(sent_today))
    }
}

/// `at` rounded up to a whole second. The worker reports its next wake this way: a `--now`
/// read back from a report must not fall before the wake (gaps are drawn to the
/// nanosecond), or that pass would find nothing to do and name the same wake again.
pub fn ceil_to_second(at: Timestamp) -> Timestamp {
    match at.subsec_nanosecond() {
        0 => at,
        _ => Timestamp::from_second(at.as_second().saturating_add(1)).unwrap_or(Timestamp::MAX),
    }
}

/// SplitMix64's finaliser: a fast, well-mixed, stable hash of a 64-bit value. Stability
/// matters more than strength here: the same seed must give the same pause or variant in
/// every version, or a preview would stop matching what is sent.
pub(crate) fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The date `n` working days (Monday–Friday) after `date`: Friday + 1 is Monday, and from a
/// weekend the first working day counts as 1 (Saturday + 1 is Monday). Public holidays are
/// not known here. Saturates at jiff's last date.
pub fn add_business_days(mut date: Date, n: u32) -> Date {
    let mut left = n;
    while left > 0 && is_weekend(date) {
        date = add_days(date, 1);
        left -= 1;
        while is_weekend(date) {
            date = add_days(date, 1);
        }
    }
    // From a working day, five working days later is the same weekday a week later.
    date = add_days(date, i64::from(left / 5) * 7);
    for _ in 0..left % 5 {
        date = add_days(date, 1);
        while is_weekend(date) {
            date = add_days(date, 1);
        }
    }
    date
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn add_days(date: Date, days: i64) -> Date {
    Span::new()
        .try_days(days)
        .and_then(|span| date.checked_add(span))
        .unwrap_or(Date::MAX)
}

/// When a step that waits `wait_days` (calendar or working days) after `previous` is due:
/// the same local time in `tz` that many days later, so a follow-up to a 10:00 email
/// lands at 10:00 even across a DST change (23 or 25 hours later, not 24). Never before
/// `previous`.
pub fn due_after(previous: Timestamp, wait_days: u32, business_days: bool, tz: &TimeZone) -> Timestamp {
    let local = tz.to_datetime(previous);
    let date = if business_days {
        add_business_days(local.date(), wait_days)
    } else {
        add_days(local.date(), i64::from(wait_days))
    };
    // The max guards a zero wait from the second pass of a fold, whose earlier reading
    // lies an hour in the past.
    resolve(tz, date.to_datetime(local.time())).max(previous)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn weekdays_9_to_5() -> Window {
        Window::parse(&["mon", "tue", "wed", "thu", "fri"], "09:00", "17:00").unwrap()
    }

    #[test]
    fn warmup_ramps_from_the_first_send_day_to_the_cap() {
        let w = Some(Warmup { start: 15, step: 2 });
        let first = date(2025, 3, 3);
        assert_eq!(
            daily_cap(40, w, None, date(2025, 3, 1)),
            15,
            "before the first send: start"
        );
        assert_eq!(daily_cap(40, w, Some(first), first), 15);
        assert_eq!(daily_cap(40, w, Some(first), date(2025, 3, 4)), 17);
        assert_eq!(daily_cap(40, w, Some(first), date(2025, 3, 13)), 35);
        assert_eq!(
            daily_cap(40, w, Some(first), date(2025, 3, 16)),
            40,
            "15 + 2×13 = 41, capped"
        );
        assert_eq!(daily_cap(40, w, Some(first), date(2026, 3, 3)), 40);
        assert_eq!(daily_cap(40, None, None, first), 40, "no warm-up: the cap");
        assert_eq!(daily_cap(10, w, None, first), 10, "a cap below the start wins");
        assert_eq!(
            daily_cap(40, w, Some(first), date(2025, 3, 1)),
            15,
            "a clock before the first send"
        );
        let huge = Some(Warmup {
            start: u32::MAX,
            step: u32::MAX,
        });
        assert_eq!(
            daily_cap(50, huge, Some(first), date(2025, 4, 1)),
            50,
            "saturates, never wraps"
        );
    }

    #[test]
    fn warmup_parses_start_and_step() {
        assert_eq!(Warmup::parse("15:2"), Ok(Warmup { start: 15, step: 2 }));
        for bad in ["15", "15:", ":2", "a:2", "15:-2", "15:2:1"] {
            assert_eq!(
                Warmup::parse(bad),
                Err(ScheduleError::BadWarmup(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn mailbox_day_is_the_local_calendar_day() {
        let now = ts("2025-03-29T23:30:00Z");
        assert_eq!(mailbox_day(now, &tz("Europe/Berlin")), date(2025, 3, 30));
        assert_eq!(mailbox_day(now, &tz("America/New_York")), date(2025, 3, 29));
        assert_eq!(mailbox_day(now, &TimeZone::UTC), date(2025, 3, 29));
    }

    #[test]
    fn dst_days_are_23_and_25_hours_long() {
        let hours = |d: Date, zone: &str| {
            let (start, end) = day_bounds(d, &tz(zone));
            (end - start).as_secs() / 3600
        };
        assert_eq!(hours(date(2025, 3, 30), "Europe/Berlin"), 23);
        assert_eq!(hours(date(2025, 10, 26), "Europe/Berlin"), 25);
        assert_eq!(hours(date(2025, 3, 29), "Europe/Berlin"), 24);
        assert_eq!(hours(date(2025, 3, 9), "America/New_York"), 23);
        assert_eq!(hours(date(2025, 11, 2), "America/New_York"), 25);
        assert_eq!(
            day_bounds(date(2025, 3, 30), &tz("Europe/Berlin")),
            (ts("2025-03-29T23:00:00Z"), ts("2025-03-30T22:00:00Z"))
        );
        assert_eq!(
            day_bounds(date(2025, 11, 2), &tz("America/New_York")),
            (ts("2025-11-02T04:00:00Z"), ts("2025-11-03T05:00:00Z"))
        );
    }

    #[test]
    fn windows_open_at_local_time_on_dst_days() {
        let sundays = Window::parse(&["sun"], "09:00", "17:00").unwrap();
        let berlin = tz("Europe/Berlin");
        let new_york = tz("America/New_York");
        let cases = [
            (&berlin, "2025-03-23T00:00:00Z", "2025-03-23T08:00:00Z"), // CET, the Sunday before
            (&berlin, "2025-03-30T00:00:00Z", "2025-03-30T07:00:00Z"), // spring forward: CEST
            (&berlin, "2025-10-26T00:00:00Z", "2025-10-26T08:00:00Z"), // fall back: CET
            (&new_york, "2025-03-09T00:00:00Z", "2025-03-09T13:00:00Z"), // spring forward: EDT
            (&new_york, "2025-11-02T00:00:00Z", "2025-11-02T14:00:00Z"), // fall back: EST
        ];
        for (zone, now, open) in cases {
            assert_eq!(
                sundays.next_open(ts(now), zone),
                Some(ts(open)),
                "{now} in {zone:?}"
            );
            assert!(!sundays.contains(ts(open) - jiff::SignedDuration::from_secs(1), zone));
            assert!(sundays.contains(ts(open), zone));
        }
        // The spring-forward Sunday's window is still eight hours long; it closes at 17:00 CEST.
        let (open, close) = sundays.open_interval(date(2025, 3, 30), &berlin).unwrap();
        assert_eq!((close - open).as_secs(), 8 * 3600);
        assert!(!sundays.contains(ts("2025-03-30T15:00:00Z"), &berlin));
    }

    #[test]
    fn a_start_in_the_skipped_hour_opens_when_the_clock_jumps() {
        let early = Window::parse(&["sun"], "02:30", "06:00").unwrap();
        let from = ts("2025-03-29T12:00:00Z");
        // Berlin jumps 02:00 CET → 03:00 CEST at 01:00Z; New York 02:00 EST → 03:00 EDT at 07:00Z.
        assert_eq!(
            early.next_open(from, &tz("Europe/Berlin")),
            Some(ts("2025-03-30T01:00:00Z"))
        );
        let ny_from = ts("2025-03-08T12:00:00Z");
        assert_eq!(
            early.next_open(ny_from, &tz("America/New_York")),
            Some(ts("2025-03-09T07:00:00Z"))
        );
        // A window wholly inside the skipped hour does not open that day: next week instead.
        let skipped = Window::parse(&["sun"], "02:10", "02:50").unwrap();
        assert_eq!(
            skipped.next_open(from, &tz("Europe/Berlin")),
            Some(ts("2025-04-06T00:10:00Z"))
        );
    }

    #[test]
    fn a_start_in_the_repeated_hour_opens_at_its_first_occurrence() {
        let early = Window::parse(&["sun"], "02:30", "06:00").unwrap();
        // Berlin repeats 02:00–03:00 (CEST, then CET): the first 02:30 is 00:30Z.
        let berlin = tz("Europe/Berlin");
        assert_eq!(
            early.next_open(ts("2025-10-25T12:00:00Z"), &berlin),
            Some(ts("2025-10-26T00:30:00Z"))
        );
        // New York repeats 01:00–02:00 (EDT, then EST): the first 01:30 is 05:30Z.
        let ny = Window::parse(&["sun"], "01:30", "06:00").unwrap();
        let new_york = tz("America/New_York");
        assert_eq!(
            ny.next_open(ts("2025-11-01T12:00:00Z"), &new_york),
            Some(ts("2025-11-02T05:30:00Z"))
        );
        // A window closing inside the repeated hour closes at its first occurrence, once.
        let short = Window::parse(&["sun"], "01:00", "02:30").unwrap();
        assert!(short.contains(ts("2025-10-26T00:29:00Z"), &berlin));
        assert!(
            !short.contains(ts("2025-10-26T01:00:00Z"), &berlin),
            "second 02:00 is after the close"
        );
    }

    #[test]
    fn next_open_skips_the_weekend() {
        let window = weekdays_9_to_5();
        let berlin = tz("Europe/Berlin");
        // Friday 2025-01-10 18:00 CET, Saturday and Sunday → Monday 2025-01-13 09:00 CET.
        let monday = Some(ts("2025-01-13T08:00:00Z"));
        for now in [
            "2025-01-10T17:00:00Z",
            "2025-01-11T10:00:00Z",
            "2025-01-12T22:59:59Z",
        ] {
            assert_eq!(window.next_open(ts(now), &berlin), monday, "{now}");
            assert!(!window.contains(ts(now), &berlin));
        }
        // Inside: now itself. Before the start on a weekday: that morning.
        let inside = ts("2025-01-10T12:00:00Z");
        assert!(window.contains(inside, &berlin));
        assert_eq!(window.next_open(inside, &berlin), Some(inside));
        assert_eq!(
            window.next_open(ts("2025-01-10T05:00:00Z"), &berlin),
            Some(ts("2025-01-10T08:00:00Z"))
        );
        // The end is exclusive.
        assert!(!window.contains(ts("2025-01-10T16:00:00Z"), &berlin));
        assert!(window.contains(ts("2025-01-10T15:59:59Z"), &berlin));
    }

    #[test]
    fn a_window_to_24_00_runs_to_midnight() {
        let window = Window::parse(&["Saturday"], "00:00", "24:00").unwrap();
        assert_eq!(window.end, Time::MAX);
        let berlin = tz("Europe/Berlin");
        let bounds = day_bounds(date(2025, 1, 11), &berlin);
        assert_eq!(window.open_interval(date(2025, 1, 11), &berlin), Some(bounds));
        assert!(window.contains(ts("2025-01-11T22:59:59Z"), &berlin));
        assert!(!window.contains(ts("2025-01-11T23:00:00Z"), &berlin));
    }

    #[test]
    fn window_parse_rejects_what_it_cannot_mean() {
        let window = Window::parse(&["MON", "Tuesday", "mon"], "9:00", "17:30").unwrap();
        assert_eq!(window.days, vec![Weekday::Monday, Weekday::Tuesday]);
        assert_eq!(window.start, Time::constant(9, 0, 0, 0));
        assert_eq!(window.end, Time::constant(17, 30, 0, 0));
        assert_eq!(
            Window::parse(&["mo"], "09:00", "17:00"),
            Err(ScheduleError::UnknownDay("mo".into()))
        );
        assert_eq!(Window::parse(&[], "09:00", "17:00"), Err(ScheduleError::NoDays));
        assert_eq!(
            Window::parse(&["mon"], "22:00", "06:00"),
            Err(ScheduleError::SpansMidnight)
        );
        assert_eq!(
            Window::parse(&["mon"], "09:00", "09:00"),
            Err(ScheduleError::EmptyWindow)
        );
        for bad in [
            "9", "09:0", "24:00", "25:00", "09:60", "0900", "09:00:00", "-1:00", "+9:00",
        ] {
            assert_eq!(
                Window::parse(&["mon"], bad, "23:00"),
                Err(ScheduleError::BadTime(bad.into()))
            );
        }
        assert_eq!(
            Window::parse(&["mon"], "09:00", "24:30"),
            Err(ScheduleError::BadTime("24:30".into()))
        );
        let never = Window {
            days: vec![],
            start: Time::midnight(),
            end: Time::MAX,
        };
        assert_eq!(never.next_open(ts("2025-01-10T12:00:00Z"), &TimeZone::UTC), None);
    }

    #[test]
    fn gaps_parse_seconds_and_ranges() {
        let secs = Duration::from_secs;
        assert_eq!(
            Gap::parse("90-180"),
            Ok(Gap {
                min: secs(90),
                max: secs(180)
            })
        );
        assert_eq!(
            Gap::parse(" 90 - 180 "),
            Ok(Gap {
                min: secs(90),
                max: secs(180)
            })
        );
        assert_eq!(
            Gap::parse("120"),
            Ok(Gap {
                min: secs(120),
                max: secs(120)
            })
        );
        assert_eq!(Gap::parse("180-90"), Err(ScheduleError::GapMinAboveMax));
        for bad in ["", "-", "90-", "1.5", "abc", "-90", "90-180-200"] {
            assert_eq!(Gap::parse(bad), Err(ScheduleError::BadGap(bad.into())), "{bad:?}");
        }
    }

    #[test]
    fn gap_draws_are_deterministic_and_in_bounds() {
        let gap = Gap::parse("90-180").unwrap();
        let draws: Vec<Duration> = (0..10_000).map(|seed| gap.draw(seed)).collect();
        assert!(draws.iter().all(|d| (gap.min..=gap.max).contains(d)));
        assert_eq!(
            draws,
            (0..10_000).map(|seed| gap.draw(seed)).collect::<Vec<_>>(),
            "same seeds, same draws"
        );
        // Spread over the whole range: each tenth of it gets roughly its share.
        let mut buckets = [0u32; 10];
        for d in &draws {
            let tenth = ((d.as_secs_f64() - 90.0) / 9.0) as usize;
            buckets[tenth.min(9)] += 1;
        }
        assert!(buckets.iter().all(|&n| (800..1200).contains(&n)), "{buckets:?}");
        // Pinned: the hash must not change under users' feet.
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(Gap::parse("120").unwrap().draw(7), Duration::from_secs(120));
        let inverted = Gap {
            min: Duration::from_secs(5),
            max: Duration::from_secs(1),
        };
        assert_eq!(inverted.draw(3), Duration::from_secs(5));
        let huge = Gap {
            min: Duration::ZERO,
            max: Duration::MAX,
        };
        assert!(huge.draw(u64::MAX) <= Duration::MAX);
    }

    #[test]
    fn business_days_skip_weekends() {
        let fri = date(2025, 1, 10);
        assert_eq!(add_business_days(fri, 0), fri);
        assert_eq!(add_business_days(fri, 1), date(2025, 1, 13));
        assert_eq!(add_business_days(fri, 5), date(2025, 1, 17));
        assert_eq!(add_business_days(fri, 6), date(2025, 1, 20));
        assert_eq!(
            add_business_days(date(2025, 1, 8), 3),
            date(2025, 1, 13),
            "wed + 3 = mon"
        );
        assert_eq!(
            add_business_days(date(2025, 1, 11), 1),
            date(2025, 1, 13),
            "sat + 1 = mon"
        );
        assert_eq!(
            add_business_days(date(2025, 1, 12), 5),
            date(2025, 1, 17),
            "sun + 5 = fri"
        );
        assert_eq!(add_business_days(date(2025, 1, 11), 0), date(2025, 1, 11));
        assert_eq!(add_business_days(fri, 10), date(2025, 1, 24));
        // Agrees with stepping one day at a time, from every weekday.
        for start in 0..7 {
            let mut slow = date(2025, 1, 6 + start);
            for n in 0..30 {
                assert_eq!(
                    add_business_days(date(2025, 1, 6 + start), n),
                    slow,
                    "start {start} n {n}"
                );
                slow = add_business_days(slow, 1);
            }
        }
        assert_eq!(
            add_business_days(date(9999, 12, 1), u32::MAX),
            Date::MAX,
            "saturates"
        );
    }

    #[test]
    fn follow_ups_keep_the_local_time_across_dst() {
        let berlin = tz("Europe/Berlin");
        // Saturday 10:00 CET before spring forward → Sunday 10:00 CEST, 23 hours later.
        let sat = ts("2025-03-29T09:00:00Z");
        assert_eq!(due_after(sat, 1, false, &berlin), ts("2025-03-30T08:00:00Z"));
        // Friday 10:00 CET + 1 working day → Monday 10:00 CEST.
        let fri = ts("2025-03-28T09:00:00Z");
        assert_eq!(due_after(fri, 1, true, &berlin), ts("2025-03-31T08:00:00Z"));
        assert_eq!(due_after(fri, 3, false, &berlin), ts("2025-03-31T08:00:00Z"));
        // New York: Saturday 09:00 EDT before fall back → Monday 09:00 EST.
        let new_york = tz("America/New_York");
        assert_eq!(
            due_after(ts("2025-11-01T13:00:00Z"), 2, false, &new_york),
            ts("2025-11-03T14:00:00Z")
        );
        // A time that the DST day skips: the first instant after the jump.
        assert_eq!(
            due_after(ts("2025-03-29T01:30:00Z"), 1, false, &berlin),
            ts("2025-03-30T01:00:00Z")
        );
        // No wait from the second 02:30 of a fall-back night is that instant, not an hour earlier.
        let second_pass = ts("2025-10-26T01:30:00Z");
        assert_eq!(due_after(second_pass, 0, false, &berlin), second_pass);
    }
}
