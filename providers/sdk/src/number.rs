//! Arbitrary-precision numbers, as Terraform's are.
//!
//! Terraform (cty) keeps numbers as 512-bit binary floats and prints the shortest decimal that
//! identifies them, so `0.1 + 0.2` prints `0.3` and `9007199254740993` stays exact. A decimal
//! representation ([`bigdecimal::BigDecimal`]) gives the same printed results for addition,
//! subtraction and multiplication of decimal literals, which is what configurations do.
//! Division that does not terminate is rounded to [`DIVISION_DIGITS`] significant digits;
//! Terraform's last digit there can differ (it rounds in binary). Transcendental functions
//! (`pow` with a fractional exponent, `log`) go through `f64`, exactly as Terraform's do.

use bigdecimal::{BigDecimal, RoundingMode, ToPrimitive, Zero};
use std::fmt;
use std::str::FromStr;

/// Significant digits kept by a division that does not terminate (cty's 512-bit mantissa
/// carries about 154 decimal digits).
pub const DIVISION_DIGITS: u64 = 154;

/// The largest decimal exponent a number may have (either sign). Far beyond any real
/// configuration; it keeps hostile input such as `1e999999999` from exhausting memory when
/// printed.
pub const MAX_EXPONENT: i64 = 100_000;

/// A number: exact decimal, arbitrary precision.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Number(BigDecimal);

/// A number could not be made from the given input.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NumberError {
    /// The text is not a number.
    #[error("`{0}` is not a number")]
    Syntax(String),
    /// Division by zero.
    #[error("division by zero")]
    DivisionByZero,
    /// The magnitude is beyond [`MAX_EXPONENT`].
    #[error("the number is too large or too small (beyond 1e{MAX_EXPONENT})")]
    OutOfRange,
    /// The result is not a finite number.
    #[error("the result is not a finite number")]
    NotFinite,
}

impl Number {
    /// Wraps a decimal.
    pub fn new(decimal: BigDecimal) -> Self {
        Number(decimal.normalized())
    }

    /// The decimal inside.
    pub fn as_decimal(&self) -> &BigDecimal {
        &self.0
    }

    /// From an `f64`; `None` for NaN and infinities.
    pub fn from_f64(value: f64) -> Option<Self> {
        if !value.is_finite() {
            return None;
        }
        // `{}` prints the shortest representation that round-trips, as Go's 'f', -1 does.
        BigDecimal::from_str(&format!("{value}")).ok().map(Number::new)
    }

    /// An approximation as `f64` (infinite when out of range).
    pub fn to_f64(&self) -> f64 {
        self.0.to_f64().unwrap_or(f64::NAN)
    }

    /// The value as `i64` when it is an integer in range.
    pub fn to_i64(&self) -> Option<i64> {
        if self.is_integer() { self.0.to_i64() } else { None }
    }

    /// The number itself, or [`NumberError::OutOfRange`] when its magnitude is beyond
    /// [`MAX_EXPONENT`].
    ///
    /// # Errors
    ///
    /// [`NumberError::OutOfRange`].
    pub fn checked(self) -> Result<Number, NumberError> {
        if self.0.is_zero() {
            return Ok(self);
        }
        let magnitude = self.0.order_of_magnitude();
        let digits = self.0.digits() as i64;
        if magnitude.abs() > MAX_EXPONENT || digits > MAX_EXPONENT {
            return Err(NumberError::OutOfRange);
        }
        Ok(self)
    }

    /// Whether the number has no fractional part.
    pub fn is_integer(&self) -> bool {
        self.0.is_integer()
    }

    /// Whether the number is zero.
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// Whether the number is below zero.
    pub fn is_negative(&self) -> bool {
        self.0.sign() == bigdecimal::num_bigint::Sign::Minus
    }

    /// `self + other`.
    pub fn add(&self, other: &Number) -> Number {
        Number::new(&self.0 + &other.0)
    }

    /// `self - other`.
    pub fn sub(&self, other: &Number) -> Number {
        Number::new(&self.0 - &other.0)
    }

    /// `self * other`.
    pub fn mul(&self, other: &Number) -> Number {
        Number::new(&self.0 * &other.0)
    }

    /// `self / other`, rounded to [`DIVISION_DIGITS`] significant digits when it does not
    /// terminate.
    ///
    /// # Errors
    ///
    /// [`NumberError::DivisionByZero`] when `other` is zero.
    pub fn div(&self, other: &Number) -> Result<Number, NumberError> {
        if other.is_zero() {
            return Err(NumberError::DivisionByZero);
        }
        // Scale the dividend so the integer quotient carries enough digits, then round.
        let extra = DIVISION_DIGITS as i64 + 2;
        let (a, a_scale) = self.0.as_bigint_and_exponent();
        let (b, b_scale) = other.0.as_bigint_and_exponent();
        let b_digits = b.to_string().trim_start_matches('-').len() as i64;
        let a_digits = a.to_string().trim_start_matches('-').len() as i64;
        let shift = (extra + b_digits - a_digits).max(0);
        let scaled = a * bigdecimal::num_bigint::BigInt::from(10u8).pow(shift as u32);
        let quotient = &scaled / &b;
        let exact = (&quotient * &b) == scaled;
        let result = BigDecimal::new(quotient, a_scale - b_scale + shift);
        if exact {
            Ok(Number::new(result))
        } else {
            Ok(Number::new(result.with_precision_round(
                std::num::NonZeroU64::new(DIVISION_DIGITS).expect("non-zero constant"),
                RoundingMode::HalfEven,
            )))
        }
    }

    /// Terraform's `%`: the remainder with the sign of the dividend.
    ///
    /// # Errors
    ///
    /// [`NumberError::DivisionByZero`] when `other` is zero.
    pub fn rem(&self, other: &Number) -> Result<Number, NumberError> {
        if other.is_zero() {
            return Err(NumberError::DivisionByZero);
        }
        Ok(Number::new(&self.0 % &other.0))
    }

    /// `-self`.
    pub fn neg(&self) -> Number {
        Number::new(-self.0.clone())
    }

    /// `|self|`.
    pub fn abs(&self) -> Number {
        Number::new(self.0.abs())
    }

    /// The largest integer not above `self`.
    pub fn floor(&self) -> Number {
        Number::new(self.0.with_scale_round(0, RoundingMode::Floor))
    }

    /// The smallest integer not below `self`.
    pub fn ceil(&self) -> Number {
        Number::new(self.0.with_scale_round(0, RoundingMode::Ceiling))
    }

    /// The integer part, rounded toward zero.
    pub fn trunc(&self) -> Number {
        Number::new(self.0.with_scale_round(0, RoundingMode::Down))
    }
}

impl FromStr for Number {
    type Err = NumberError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        let body = trimmed.strip_prefix('+').unwrap_or(trimmed);
        let valid = !body.is_empty()
            && body.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
            && body.chars().any(|c| c.is_ascii_digit());
        if !valid {
            return Err(NumberError::Syntax(text.to_string()));
        }
        // Refuse absurd exponents before BigDecimal expands them.
        if let Some(at) = body.find(['e', 'E']) {
            let exponent: i64 = body[at + 1..].parse().map_err(|_| NumberError::Syntax(text.to_string()))?;
            if exponent.abs() > MAX_EXPONENT {
                return Err(NumberError::OutOfRange);
            }
        }
        BigDecimal::from_str(body).map(Number::new).map_err(|_| NumberError::Syntax(text.to_string()))?.checked()
    }
}

impl fmt::Display for Number {
    /// The shortest plain decimal: no exponent, no trailing zeros (Go's `'f', -1`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_zero() {
            return f.write_str("0");
        }
        let text = self.0.normalized().to_plain_string();
        f.write_str(&text)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<i64> for Number {
    fn from(value: i64) -> Self {
        Number(BigDecimal::from(value))
    }
}

impl From<usize> for Number {
    fn from(value: usize) -> Self {
        Number(BigDecimal::from(value as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        text.parse().expect("test number")
    }

    #[test]
    fn decimal_arithmetic_is_exact() {
        assert_eq!(n("0.1").add(&n("0.2")).to_string(), "0.3");
        assert_eq!(n("9007199254740993").to_string(), "9007199254740993");
        assert_eq!(n("1e300").mul(&n("10")).to_string().len(), 302);
    }

    #[test]
    fn division_terminates_or_rounds() {
        assert_eq!(n("1").div(&n("4")).expect("divides").to_string(), "0.25");
        let third = n("1").div(&n("3")).expect("divides").to_string();
        assert!(third.starts_with("0.3333333333"), "{third}");
        assert_eq!(third.len(), 2 + DIVISION_DIGITS as usize);
        assert_eq!(n("1").div(&n("0")), Err(NumberError::DivisionByZero));
    }

    #[test]
    fn remainder_takes_the_dividend_sign() {
        assert_eq!(n("-7").rem(&n("3")).expect("rem").to_string(), "-1");
        assert_eq!(n("10").rem(&n("3.5")).expect("rem").to_string(), "3");
    }

    #[test]
    fn rejects_non_numbers() {
        assert!("abc".parse::<Number>().is_err());
        assert!("".parse::<Number>().is_err());
        assert!("1_000".parse::<Number>().is_err());
        assert_eq!("1e999999999".parse::<Number>(), Err(NumberError::OutOfRange));
    }
}
