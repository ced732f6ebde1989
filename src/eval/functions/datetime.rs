//! Date and time: `formatdate`, `timeadd`, `timecmp`, `timestamp`, `plantimestamp` (RFC 3339
//! timestamps, as Terraform's).

use super::{CallContext, FunctionError, bad_arg, string_arg};
use chrono::{DateTime, Datelike, FixedOffset, SecondsFormat, Timelike};
use infra_provider::Value;

type R = Result<Value, FunctionError>;

fn parse_timestamp(text: &str, index: usize) -> Result<DateTime<FixedOffset>, FunctionError> {
    DateTime::parse_from_rfc3339(text).map_err(|_| {
        bad_arg(index, format!("{text:?} is not a valid RFC 3339 timestamp, such as \"2006-01-02T15:04:05Z\""))
    })
}

fn rfc3339(time: &DateTime<FixedOffset>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The current time; Unknown at plan time, since it changes on every run.
pub fn timestamp(_: Vec<Value>, context: &CallContext) -> R {
    if context.plan_time {
        return Ok(Value::Unknown);
    }
    Ok(Value::String(rfc3339(&chrono::Utc::now().fixed_offset())))
}

/// The time of the plan: Unknown while validating, the current time when planning (as
/// `timestamp()`, but known at plan time — Terraform keeps it for the apply).
pub fn plantimestamp(_: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::String(rfc3339(&chrono::Utc::now().fixed_offset())))
}

/// -1, 0 or 1 as the first timestamp is before, equal to, or after the second.
pub fn timecmp(args: Vec<Value>, _: &CallContext) -> R {
    let a = parse_timestamp(&string_arg(&args, 0)?, 0)?;
    let b = parse_timestamp(&string_arg(&args, 1)?, 1)?;
    Ok(Value::int(match a.cmp(&b) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }))
}

/// Go's `time.ParseDuration`: `1h30m`, `-10s`, `1.5h`, `300ms` (the SDK's one grammar).
fn parse_duration(text: &str) -> Option<i128> {
    infra_provider::duration::parse_go_nanos(text).ok().map(i128::from)
}

pub fn timeadd(args: Vec<Value>, _: &CallContext) -> R {
    let time = parse_timestamp(&string_arg(&args, 0)?, 0)?;
    let text = string_arg(&args, 1)?;
    let nanos = parse_duration(&text).ok_or_else(|| {
        bad_arg(1, format!("{text:?} is not a valid duration; use a number and a unit such as \"1h30m\" or \"-10s\""))
    })?;
    let delta =
        chrono::Duration::nanoseconds(i64::try_from(nanos).map_err(|_| bad_arg(1, "the duration is too long"))?);
    let result = time.checked_add_signed(delta).ok_or_else(|| bad_arg(1, "the result is out of range"))?;
    Ok(Value::String(rfc3339(&result)))
}

const MONTHS: [&str; 12] = [
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
];
const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

pub fn formatdate(args: Vec<Value>, _: &CallContext) -> R {
    let spec = string_arg(&args, 0)?;
    let time = parse_timestamp(&string_arg(&args, 1)?, 1)?;
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let close = chars[i + 1..].iter().position(|&d| d == '\'');
            let Some(close) = close else {
                return Err(bad_arg(0, "unterminated literal '"));
            };
            if close == 0 {
                out.push('\'');
            } else {
                out.extend(&chars[i + 1..i + 1 + close]);
            }
            i += close + 2;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let mut run = 1;
        while i + run < chars.len() && chars[i + run] == c {
            run += 1;
        }
        let token: String = chars[i..i + run].iter().collect();
        let offset_seconds = time.offset().local_minus_utc();
        let (sign, hours, minutes) =
            (if offset_seconds < 0 { '-' } else { '+' }, offset_seconds.abs() / 3600, offset_seconds.abs() % 3600 / 60);
        let hour12 = match time.hour() % 12 {
            0 => 12,
            h => h,
        };
        let text = match token.as_str() {
            "YYYY" => format!("{:04}", time.year()),
            "YY" => format!("{:02}", time.year() % 100),
            "MMMM" => MONTHS[time.month0() as usize].to_string(),
            "MMM" => MONTHS[time.month0() as usize][..3].to_string(),
            "MM" => format!("{:02}", time.month()),
            "M" => time.month().to_string(),
            "DD" => format!("{:02}", time.day()),
            "D" => time.day().to_string(),
            "EEEE" => DAYS[time.weekday().num_days_from_monday() as usize].to_string(),
            "EEE" => DAYS[time.weekday().num_days_from_monday() as usize][..3].to_string(),
            "hh" => format!("{:02}", time.hour()),
            "h" => time.hour().to_string(),
            "HH" => format!("{hour12:02}"),
            "H" => hour12.to_string(),
            "AA" => if time.hour() < 12 { "AM" } else { "PM" }.to_string(),
            "aa" => if time.hour() < 12 { "am" } else { "pm" }.to_string(),
            "mm" => format!("{:02}", time.minute()),
            "m" => time.minute().to_string(),
            "ss" => format!("{:02}", time.second()),
            "s" => time.second().to_string(),
            "ZZZZZ" => format!("{sign}{hours:02}:{minutes:02}"),
            "ZZZZ" => format!("{sign}{hours:02}{minutes:02}"),
            "ZZZ" if offset_seconds == 0 => "UTC".to_string(),
            "ZZZ" => format!("{sign}{hours:02}{minutes:02}"),
            "Z" if offset_seconds == 0 => "Z".to_string(),
            "Z" => format!("{sign}{hours:02}:{minutes:02}"),
            other => return Err(bad_arg(0, format!("invalid date format verb {other:?}"))),
        };
        out.push_str(&text);
        i += run;
    }
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_duration("-10s"), Some(-10_000_000_000));
        assert_eq!(parse_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("1h-"), None);
    }
}
