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

fn parse_with(text: &str, bare_seconds: bool) -> Result<Duration, String> {
    let shown: String = text.chars().take(40).collect();
    let invalid = || format!("`{shown}` is not a duration such as 30s, 1m30s or 500ms");
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = 0.0f64;
    if let Ok(seconds) = rest.parse::<f64>()
        && (bare_seconds || seconds == 0.0)
    {
        total = seconds;
        rest = "";
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.').ok_or_else(invalid)?;
        let value: f64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            "us" | "µs" => 0.000_001,
            "ns" => 0.000_000_001,
            _ => return Err(invalid()),
        };
        total += value * factor;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total < 0.0 {
        return Err(invalid());
    }
    if total > MAX.as_secs_f64() {
        return Err(format!(
            "`{shown}` is longer than the longest duration accepted ({} days)",
            MAX.as_secs() / 86_400
        ));
    }
    Ok(Duration::from_secs_f64(total))
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
}
