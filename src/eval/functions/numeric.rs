//! Numeric functions: `abs ceil floor log max min parseint pow signum`.

use super::{CallContext, FunctionError, bad_arg, fail, int_arg, number_arg, string_arg};
use infra_provider::{Number, Value};

type R = Result<Value, FunctionError>;

pub fn abs(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::Number(number_arg(&args, 0)?.abs()))
}

pub fn ceil(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::Number(number_arg(&args, 0)?.ceil()))
}

pub fn floor(args: Vec<Value>, _: &CallContext) -> R {
    Ok(Value::Number(number_arg(&args, 0)?.floor()))
}

pub fn log(args: Vec<Value>, _: &CallContext) -> R {
    let (number, base) = (number_arg(&args, 0)?.to_f64(), number_arg(&args, 1)?.to_f64());
    Number::from_f64(number.ln() / base.ln())
        .map(Value::Number)
        .ok_or_else(|| fail("the result is not a finite number"))
}

fn extreme(args: Vec<Value>, larger: bool) -> R {
    let mut best: Option<Number> = None;
    for index in 0..args.len() {
        let number = number_arg(&args, index)?;
        best = Some(match best {
            Some(current) if (number > current) != larger || number == current => current,
            _ => number,
        });
    }
    best.map(Value::Number).ok_or_else(|| fail("at least one number is required"))
}

pub fn max(args: Vec<Value>, _: &CallContext) -> R {
    extreme(args, true)
}

pub fn min(args: Vec<Value>, _: &CallContext) -> R {
    extreme(args, false)
}

pub fn parseint(args: Vec<Value>, _: &CallContext) -> R {
    let text = string_arg(&args, 0)?;
    let base = int_arg(&args, 1)?;
    if !(2..=62).contains(&base) {
        return Err(bad_arg(1, "the base must be a whole number between 2 and 62 inclusive"));
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(&text)),
    };
    if digits.is_empty() {
        return Err(bad_arg(0, format!("cannot parse {text:?} as a base {base} integer")));
    }
    let mut value = bigdecimal::num_bigint::BigInt::from(0);
    for c in digits.chars() {
        let digit = match c {
            '0'..='9' => c as i64 - '0' as i64,
            'a'..='z' => c as i64 - 'a' as i64 + 10,
            'A'..='Z' if base <= 36 => c as i64 - 'A' as i64 + 10,
            'A'..='Z' => c as i64 - 'A' as i64 + 36,
            _ => base,
        };
        if digit >= base {
            return Err(bad_arg(0, format!("cannot parse {text:?} as a base {base} integer")));
        }
        value = value * base + digit;
    }
    if negative {
        value = -value;
    }
    Ok(Value::Number(Number::new(bigdecimal::BigDecimal::from(value))))
}

pub fn pow(args: Vec<Value>, _: &CallContext) -> R {
    // Terraform computes pow in float64 (Go's math.Pow): pow(1.1, 2) is 1.2100000000000002.
    let (base, exponent) = (number_arg(&args, 0)?.to_f64(), number_arg(&args, 1)?.to_f64());
    Number::from_f64(base.powf(exponent)).map(Value::Number).ok_or_else(|| fail("the result is not a finite number"))
}

pub fn signum(args: Vec<Value>, _: &CallContext) -> R {
    let number = number_arg(&args, 0)?;
    Ok(Value::int(if number.is_zero() {
        0
    } else if number.is_negative() {
        -1
    } else {
        1
    }))
}
