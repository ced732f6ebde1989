//! Resource quantities (`cpu: 0.5`, `memory: 1024Mi`) in the canonical form the API server
//! stores: `500m`, `1Gi`. A number is read as a quantity; the binary suffixes (`Ki`…`Ei`) stay
//! binary while the value is a whole number of bytes; otherwise the largest decimal suffix
//! (`n`, `u`, `m`, none, `k`, `M`, `G`, `T`, `P`, `E`) that keeps the number whole is used.
//! Exponent forms (`1e3`) are read and written as decimal suffixes here.

use serde_json::Value;

const DECIMAL: [(&str, i32); 10] =
    [("E", 18), ("P", 15), ("T", 12), ("G", 9), ("M", 6), ("k", 3), ("", 0), ("m", -3), ("u", -6), ("n", -9)];
const BINARY: [(&str, u32); 6] = [("Ei", 60), ("Pi", 50), ("Ti", 40), ("Gi", 30), ("Mi", 20), ("Ki", 10)];

/// A quantity in nano-units, and whether it was written with a binary suffix.
fn parse(text: &str) -> Option<(i128, bool)> {
    let text = text.trim();
    let end = text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-')).unwrap_or(text.len());
    let (number, suffix) = text.split_at(end);
    let (negative, number) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number.strip_prefix('+').unwrap_or(number)),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 20
    {
        return None;
    }
    // Nano-units of the number, rounded up past nine decimals as the API server rounds.
    let mut nanos: i128 = whole.parse::<i128>().unwrap_or(0).checked_mul(1_000_000_000)?;
    let digits: String = fraction.chars().take(9).collect();
    if !digits.is_empty() {
        nanos += digits.parse::<i128>().ok()? * 10i128.pow(9 - digits.len() as u32);
    }
    if fraction.len() > 9 && fraction[9..].bytes().any(|b| b != b'0') {
        nanos += 1;
    }
    let (scaled, binary) = if let Some((_, shift)) = BINARY.iter().find(|(s, _)| *s == suffix) {
        (nanos.checked_mul(1i128 << shift)?, true)
    } else if let Some((_, exponent)) = DECIMAL.iter().find(|(s, _)| *s == suffix) {
        (scale(nanos, *exponent)?, false)
    } else if let Some(exponent) = suffix.strip_prefix(['e', 'E']).and_then(|e| e.parse::<i32>().ok()) {
        (scale(nanos, exponent)?, false)
    } else {
        return None;
    };
    Some((if negative { -scaled } else { scaled }, binary))
}

fn scale(nanos: i128, exponent: i32) -> Option<i128> {
    if exponent >= 0 {
        nanos.checked_mul(10i128.checked_pow(u32::try_from(exponent).ok()?)?)
    } else {
        let divisor = 10i128.checked_pow(exponent.unsigned_abs())?;
        // Rounded up, as the API server does for precision it cannot keep.
        Some((nanos + divisor - 1).div_euclid(divisor))
    }
}

/// The canonical text of a quantity, or `None` if it is not one.
pub fn canonical(text: &str) -> Option<String> {
    let (nanos, binary) = parse(text)?;
    if nanos == 0 {
        return Some("0".into());
    }
    if binary && nanos % 1_000_000_000 == 0 {
        let bytes = nanos / 1_000_000_000;
        if let Some((suffix, shift)) = BINARY.iter().find(|(_, shift)| bytes % (1i128 << shift) == 0) {
            return Some(format!("{}{suffix}", bytes >> shift));
        }
        return Some(bytes.to_string());
    }
    DECIMAL.iter().find_map(|(suffix, exponent)| {
        let unit = 10i128.checked_pow(u32::try_from(exponent + 9).ok()?)?;
        (nanos % unit == 0).then(|| format!("{}{suffix}", nanos / unit))
    })
}

/// Canonicalizes the quantities of every `resources.requests` / `resources.limits` map (and a
/// ResourceQuota's `hard`) below `value`; numbers become quantities.
pub fn canonicalize(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "resources" || key == "overhead" {
                    for list in ["requests", "limits"] {
                        if let Some(Value::Object(amounts)) = child.get_mut(list) {
                            for amount in amounts.values_mut() {
                                let text = match amount {
                                    Value::String(s) => s.clone(),
                                    Value::Number(n) => n.to_string(),
                                    _ => continue,
                                };
                                if let Some(canonical) = canonical(&text) {
                                    *amount = Value::String(canonical);
                                }
                            }
                        }
                    }
                }
                canonicalize(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(canonicalize),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_take_the_api_servers_canonical_form() {
        for (written, stored) in [
            ("0.5", "500m"),
            ("1000m", "1"),
            ("1500m", "1500m"),
            ("250m", "250m"),
            ("2", "2"),
            ("1024Mi", "1Gi"),
            ("1536Mi", "1536Mi"),
            ("1.5Gi", "1536Mi"),
            ("0.5Ki", "512"),
            ("1000Ki", "1000Ki"),
            ("128974848", "128974848"),
            ("129e6", "129M"),
            ("1G", "1G"),
            ("0", "0"),
            ("0.1", "100m"),
        ] {
            assert_eq!(canonical(written).as_deref(), Some(stored), "{written}");
        }
        assert_eq!(canonical("lots"), None);
        assert_eq!(canonical("1Zi"), None);
    }
}
