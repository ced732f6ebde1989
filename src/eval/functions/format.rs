//! `format` and `formatlist`: Go-style verbs as Terraform implements them.
//!
//! Supported: `%%`, `%v`, `%#v` (JSON), `%t`, `%d`, `%b`, `%o`, `%x`, `%X`, `%e`, `%E`, `%f`,
//! `%g`, `%G`, `%s`, `%q`, with flags `-`, `+`, `0`, space, width, `.precision` and explicit
//! argument indexes (`%[2]s`).

use super::super::convert::{to_bool, to_number, to_string};
use super::encoding::encode_json;
use super::{CallContext, FunctionError, bad_arg, fail, string_arg};
use bigdecimal::RoundingMode;
use infra_provider::Value;

type R = Result<Value, FunctionError>;

pub fn format(args: Vec<Value>, _: &CallContext) -> R {
    let spec = string_arg(&args, 0)?;
    render(&spec, &args[1..]).map(Value::String)
}

pub fn formatlist(args: Vec<Value>, _: &CallContext) -> R {
    let spec = string_arg(&args, 0)?;
    let rest = &args[1..];
    let mut length: Option<usize> = None;
    for (index, arg) in rest.iter().enumerate() {
        if let Some(items) = arg.as_items() {
            match length {
                Some(existing) if existing != items.len() => {
                    return Err(bad_arg(
                        index + 1,
                        format!(
                            "argument {} has length {}, which is inconsistent with argument {} of length {existing}",
                            index + 2,
                            items.len(),
                            index + 1
                        ),
                    ));
                }
                _ => length = Some(items.len()),
            }
        }
    }
    let Some(length) = length else {
        return render(&spec, rest).map(|text| Value::List(vec![Value::String(text)]));
    };
    let mut out = Vec::with_capacity(length);
    for row in 0..length {
        let row_args: Vec<Value> =
            rest.iter().map(|arg| arg.as_items().map_or_else(|| arg.clone(), |items| items[row].clone())).collect();
        out.push(Value::String(render(&spec, &row_args)?));
    }
    Ok(Value::List(out))
}

#[derive(Default)]
struct Verb {
    minus: bool,
    plus: bool,
    zero: bool,
    space: bool,
    sharp: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

fn render(spec: &str, args: &[Value]) -> Result<String, FunctionError> {
    let chars: Vec<char> = spec.chars().collect();
    let mut out = String::new();
    let mut next_arg = 0usize;
    let mut used = 0usize;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        i += 1;
        let mut verb = Verb::default();
        while i < chars.len() {
            match chars[i] {
                '-' => verb.minus = true,
                '+' => verb.plus = true,
                '0' => verb.zero = true,
                ' ' => verb.space = true,
                '#' => verb.sharp = true,
                _ => break,
            }
            i += 1;
        }
        let number = |i: &mut usize| -> Option<usize> {
            let start = *i;
            while *i < chars.len() && chars[*i].is_ascii_digit() {
                *i += 1;
            }
            (start < *i).then(|| chars[start..*i].iter().collect::<String>().parse().unwrap_or(0))
        };
        if i < chars.len() && chars[i] == '[' {
            i += 1;
            let index = number(&mut i).ok_or_else(|| fail("invalid argument index in format specification"))?;
            if i >= chars.len() || chars[i] != ']' || index == 0 {
                return Err(fail("invalid argument index in format specification"));
            }
            i += 1;
            next_arg = index - 1;
        }
        verb.width = number(&mut i);
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            verb.precision = Some(number(&mut i).unwrap_or(0));
        }
        if verb.width.unwrap_or(0) > super::strings::MAX_PAD || verb.precision.unwrap_or(0) > super::strings::MAX_PAD {
            return Err(fail(format!("width and precision must not exceed {}", super::strings::MAX_PAD)));
        }
        let Some(&letter) = chars.get(i) else {
            return Err(fail("format specification ends with an unfinished verb"));
        };
        i += 1;
        if letter == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.get(next_arg) else {
            return Err(fail(format!(
                "not enough arguments for format specification (verb %{letter} needs argument {})",
                next_arg + 1
            )));
        };
        next_arg += 1;
        used = used.max(next_arg);
        let text = format_one(letter, &verb, arg).map_err(|message| bad_arg(next_arg, message))?;
        out.push_str(&pad(text, &verb, letter));
    }
    if used < args.len() {
        return Err(fail(format!("too many arguments; only {used} used by format string")));
    }
    Ok(out)
}

fn pad(text: String, verb: &Verb, letter: char) -> String {
    let Some(width) = verb.width else { return text };
    let length = text.chars().count();
    if length >= width {
        return text;
    }
    let fill = width - length;
    if verb.minus {
        format!("{text}{}", " ".repeat(fill))
    } else if verb.zero && "dbboxXeEfgG".contains(letter) {
        let (sign, digits) = match text.strip_prefix(['-', '+']) {
            Some(rest) => (&text[..1], rest),
            None => ("", text.as_str()),
        };
        format!("{sign}{}{digits}", "0".repeat(fill))
    } else {
        format!("{}{text}", " ".repeat(fill))
    }
}

fn signed(text: String, negative: bool, verb: &Verb) -> String {
    if negative {
        format!("-{text}")
    } else if verb.plus {
        format!("+{text}")
    } else if verb.space {
        format!(" {text}")
    } else {
        text
    }
}

fn format_one(letter: char, verb: &Verb, arg: &Value) -> Result<String, String> {
    if arg.is_null() && letter != 'v' {
        return Err("unsupported value for format: null".into());
    }
    match letter {
        'v' if verb.sharp => encode_json(arg),
        'v' => match arg.bare() {
            Value::Null => Ok("null".into()),
            Value::List(_) | Value::Set(_) | Value::Map(_) => encode_json(arg),
            other => to_string(other),
        },
        't' => to_bool(arg).map(|b| b.to_string()),
        's' => {
            let text = to_string(arg)?;
            Ok(match verb.precision {
                Some(precision) => text.chars().take(precision).collect(),
                None => text,
            })
        }
        'q' => {
            let text = to_string(arg)?;
            encode_json(&Value::String(text))
        }
        'd' | 'b' | 'o' | 'x' | 'X' => {
            if letter != 'd'
                && let Value::String(text) = arg.bare()
                && matches!(letter, 'x' | 'X')
                && to_number(arg).is_err()
            {
                let hex: String = text.bytes().map(|b| format!("{b:02x}")).collect();
                return Ok(if letter == 'X' { hex.to_uppercase() } else { hex });
            }
            let number = to_number(arg)?;
            if !number.is_integer() {
                return Err(format!("%{letter} requires a whole number"));
            }
            let integer = number.as_decimal().with_scale(0).into_bigint_and_exponent().0;
            let negative = integer.sign() == bigdecimal::num_bigint::Sign::Minus;
            let magnitude = integer.magnitude();
            let digits = match letter {
                'd' => magnitude.to_str_radix(10),
                'b' => magnitude.to_str_radix(2),
                'o' => magnitude.to_str_radix(8),
                'x' => magnitude.to_str_radix(16),
                _ => magnitude.to_str_radix(16).to_uppercase(),
            };
            Ok(signed(digits, negative, verb))
        }
        'f' | 'F' => {
            let number = to_number(arg)?;
            let precision = verb.precision.unwrap_or(6) as i64;
            let rounded = number.as_decimal().with_scale_round(precision, RoundingMode::HalfEven);
            let negative = number.is_negative();
            let text = rounded.abs().to_plain_string();
            Ok(signed(text, negative && !rounded.abs().eq(&bigdecimal::BigDecimal::from(0)), verb))
        }
        'e' | 'E' => {
            let value = to_number(arg)?.to_f64();
            let precision = verb.precision.unwrap_or(6);
            let text = go_exponent(&format!("{:.*e}", precision, value.abs()));
            let text = if letter == 'E' { text.to_uppercase() } else { text };
            Ok(signed(text, value < 0.0, verb))
        }
        'g' | 'G' => {
            let value = to_number(arg)?.to_f64();
            let text = go_general(value.abs(), verb.precision);
            let text = if letter == 'G' { text.to_uppercase() } else { text };
            Ok(signed(text, value < 0.0, verb))
        }
        other => Err(format!("unsupported format verb %{other}")),
    }
}

/// Rust writes `1.5e3`; Go writes `1.5e+03`.
fn go_exponent(text: &str) -> String {
    match text.split_once('e') {
        Some((mantissa, exponent)) => {
            let (sign, digits) = match exponent.strip_prefix('-') {
                Some(digits) => ('-', digits),
                None => ('+', exponent),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => text.to_string(),
    }
}

/// Go's `%g`: the shortest representation, in exponent form when the exponent is below -4 or
/// at least the precision (21 for the shortest form).
fn go_general(value: f64, precision: Option<usize>) -> String {
    if value == 0.0 {
        return "0".into();
    }
    let shortest = match precision {
        Some(p) => format!("{:.*e}", p.saturating_sub(1), value),
        None => format!("{value:e}"),
    };
    let (mantissa, exponent) = shortest.split_once('e').unwrap_or((&shortest, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let limit = precision.map_or(21, |p| p.max(1) as i32);
    let mantissa = if mantissa.contains('.') { mantissa.trim_end_matches('0').trim_end_matches('.') } else { mantissa };
    if exponent < -4 || exponent >= limit {
        go_exponent(&format!("{mantissa}e{exponent}"))
    } else {
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        let point = exponent + 1;
        if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point as usize >= digits.len() {
            format!("{digits}{}", "0".repeat(point as usize - digits.len()))
        } else {
            format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
        }
    }
}
