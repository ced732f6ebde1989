//! The one parser of durations that come from outside: `-lock-timeout`, `INFRA_LOCK_TTL`, the
//! controller's `interval`s, Stack objects, `time_sleep`. Go's `time.ParseDuration` forms
//! (`1h2m3s`, `90s`, `500ms`, `1.5s`) plus a bare number of seconds (`0.6`), bounded: a
//! negative, non-finite or absurd value (over a year) is a clear error, never a panic or an
//! overflow later in a clock computation.

use std::time::Duration;

/// The longest duration accepted anywhere: 366 days.
pub const MAX: Duration = Duration::from_secs(366 * 24 * 3600);

/// Parses `text` as a duration.
///
/// # Errors
///
/// A sentence naming the text when it is not a duration, or is longer than [`MAX`].
pub fn parse(text: &str) -> Result<Duration, String> {
    parse_with(text, true)
}

/// Parses `text` as Go's `time.ParseDuration` does: a unit on every number but `0` (the form
/// of the time provider's `create_duration`).
///
/// # Errors
///
/// As [`parse`], and a bare number.
pub fn parse_go(text: &str) -> Result<Duration, String> {
    parse_with(text, false)
}

/// Parses `text` exactly as Go's `time.ParseDuration`: a signed duration in nanoseconds
/// (`-1h30m`, `1.5s`, `300ms`, `0`), within Go's range (about 292 years either way). The
/// grammar under [`parse`] and [`parse_go`], and what `timeadd` reads.
///
/// # Errors
///
/// A sentence naming the text when it is not a duration or is out of range.
pub fn parse_go_nanos(text: &str) -> Result<i64, String> {
    let shown: String = text.chars().take(40).collect();
    let invalid = || format!("`{shown}` is not a duration such as 30s, 1m30s or 500ms");
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: i128 = 0;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number = &rest[..number_end];
        rest = &rest[number_end..];
        let unit_end = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale: i128 = match &rest[..unit_end] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_end..];
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
            return Err(invalid());
        }
        // Digits beyond the 20th cannot fit in range; more fraction digits than 18 are below a
        // nanosecond at any scale.
        if whole.len() > 20 {
            return Err(invalid());
        }
        let whole: i128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| invalid())? };
        let fraction = &fraction[..fraction.len().min(18)];
        let part: i128 = if fraction.is_empty() { 0 } else { fraction.parse().map_err(|_| invalid())? };
        let fraction_nanos = part * scale / 10i128.pow(fraction.len() as u32);
        total = whole
            .checked_mul(scale)
            .and_then(|n| n.checked_add(fraction_nanos))
            .and_then(|n| n.checked_add(total))
            .ok_or_else(invalid)?;
        if total > i128::from(i64::MAX) + i128::from(negative) {
            return Err(format!("`{shown}` is out of range for a duration"));
        }
    }
    let signed = if negative { -total } else { total };
    i64::try_from(signed).map_err(|_| format!("`{shown}` is out of range for a duration"))
}

fn parse_with(text: &str, bare_seconds: bool) -> Result<Duration, String> {
    let shown: String = text.chars().take(40).collect();
    let invalid = || format!("`{shown}` is not a duration such as 30s, 1m30s or 500ms");
    let text = text.trim();
    let duration = match text.parse::<f64>() {
        Ok(seconds) if bare_seconds || seconds == 0.0 => {
            if !seconds.is_finite() || seconds < 0.0 {
                return Err(invalid());
            }
            Duration::try_from_secs_f64(seconds.min(MAX.as_secs_f64() * 2.0)).map_err(|_| invalid())?
        }
        _ => {
            let nanos = parse_go_nanos(text).map_err(|_| invalid())?;
            Duration::from_nanos(u64::try_from(nanos).map_err(|_| invalid())?)
        }
    };
    if duration > MAX {
        return Err(format!(
            "`{shown}` is longer than the longest duration accepted ({} days)",
            MAX.as_secs() / 86_400
        ));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_go_writes_them_and_bare_numbers_are_seconds() {
        for (text, expected, reason) in [
            ("30s", Duration::from_secs(30), "seconds"),
            ("1m30s", Duration::from_secs(90), "Go's compound form"),
            ("500ms", Duration::from_millis(500), "milliseconds"),
            ("1.5s", Duration::from_millis(1500), "fractions"),
            ("2h", Duration::from_secs(7200), "hours"),
            ("0.6", Duration::from_millis(600), "INFRA_LOCK_TTL's bare seconds"),
            ("0s", Duration::ZERO, "zero"),
        ] {
            assert_eq!(parse(text), Ok(expected), "{reason}");
        }
    }

    #[test]
    fn absurd_values_are_errors_not_panics() {
        for text in ["99999999999999999999h", "1e300", "inf", "NaN", "-5s", "-1", "8784h1s", "", "5 parsecs", "é"] {
            let error = parse(text).expect_err(text);
            assert!(error.contains('`'), "{text}: {error}");
        }
        assert_eq!(parse("8784h"), Ok(MAX), "the bound itself is accepted");
    }

    #[test]
    fn go_durations_are_exact_signed_and_bounded() {
        for (text, nanos) in [
            ("1h30m", 5_400_000_000_000),
            ("-10s", -10_000_000_000),
            ("1.5h", 5_400_000_000_000),
            ("300ms", 300_000_000),
            ("+2us", 2_000),
            ("1.000000001s", 1_000_000_001),
            ("0", 0),
            ("2562047h47m16.854775807s", i64::MAX),
            ("-2562047h47m16.854775808s", i64::MIN),
        ] {
            assert_eq!(parse_go_nanos(text), Ok(nanos), "{text}");
        }
        for text in
            ["", "-", "5", "1x", ".s", "1..5s", "2562047h47m16.854775808s", "99999999999999999999999999999999h", "1e3s"]
        {
            assert!(parse_go_nanos(text).is_err(), "{text}");
        }
        assert_eq!(parse_go("90s"), Ok(Duration::from_secs(90)));
        assert!(parse_go("90").is_err(), "Go wants a unit");
    }
}
