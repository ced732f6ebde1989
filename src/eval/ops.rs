//! Operators: arithmetic, comparison, logic and equality, with Unknown and sensitive values.

use super::convert::{to_bool, to_number};
use hcl_edit::expr::{BinaryOperator, UnaryOperator};
use infra_provider::{Number, Value};

/// Applies a binary operator to evaluated operands.
///
/// Unknown operands give Unknown; a sensitive operand gives a sensitive result.
///
/// # Errors
///
/// `(operand, message)`: which operand (0 left, 1 right, 2 the operation) and why.
pub fn binary(operator: BinaryOperator, left: Value, right: Value) -> Result<Value, (usize, String)> {
    let marked = left.contains_sensitive() || right.contains_sensitive();
    binary_bare(operator, left.deep_unmark(), right.deep_unmark(), marked)
        .map_err(|(side, message)| if marked { (side, HIDDEN.to_string()) } else { (side, message) })
}

/// What an error on a sensitive operand says instead of quoting it.
pub use super::convert::HIDDEN;

fn binary_bare(operator: BinaryOperator, left: Value, right: Value, marked: bool) -> Result<Value, (usize, String)> {
    use BinaryOperator as Op;
    let result = match operator {
        Op::Eq | Op::NotEq => {
            // A comparison with null is known once the other side is known at its top level
            // (an object with unknown attributes is not null), as in Terraform:
            // `var.queue == null` with `queue = queue.uploads` (whose ARN is unknown) is false.
            if (left.is_null() || right.is_null()) && left.is_known() && right.is_known() {
                let equal = left.is_null() && right.is_null();
                Value::Bool(if operator == Op::Eq { equal } else { !equal })
            } else if !left.is_wholly_known() || !right.is_wholly_known() {
                Value::Unknown
            } else {
                let equal = equals(&left, &right);
                Value::Bool(if operator == Op::Eq { equal } else { !equal })
            }
        }
        Op::And | Op::Or => {
            let l = if left.is_known() { Some(to_bool(&left).map_err(|m| (0, m))?) } else { None };
            let r = if right.is_known() { Some(to_bool(&right).map_err(|m| (1, m))?) } else { None };
            match (operator, l, r) {
                (Op::And, Some(false), _) | (Op::And, _, Some(false)) => Value::Bool(false),
                (Op::Or, Some(true), _) | (Op::Or, _, Some(true)) => Value::Bool(true),
                (_, Some(a), Some(b)) => Value::Bool(if operator == Op::And { a && b } else { a || b }),
                _ => Value::Unknown,
            }
        }
        _ => {
            let l = if left.is_known() { Some(to_number(&left).map_err(|m| (0, m))?) } else { None };
            let r = if right.is_known() { Some(to_number(&right).map_err(|m| (1, m))?) } else { None };
            let (Some(l), Some(r)) = (l, r) else { return Ok(Value::Unknown.mark_if(marked)) };
            let checked = |n: Number| n.checked().map(Value::Number).map_err(|e| (2, e.to_string()));
            match operator {
                Op::Plus => checked(l.add(&r))?,
                Op::Minus => checked(l.sub(&r))?,
                Op::Mul => checked(l.mul(&r))?,
                Op::Div => checked(l.div(&r).map_err(|e| (2, e.to_string()))?)?,
                Op::Mod => checked(l.rem(&r).map_err(|e| (2, e.to_string()))?)?,
                Op::Less => Value::Bool(l < r),
                Op::LessEq => Value::Bool(l <= r),
                Op::Greater => Value::Bool(l > r),
                Op::GreaterEq => Value::Bool(l >= r),
                Op::Eq | Op::NotEq | Op::And | Op::Or => unreachable!("handled above"),
            }
        }
    };
    Ok(result.mark_if(marked))
}

/// Applies a unary operator.
///
/// # Errors
///
/// Why the operand does not fit.
pub fn unary(operator: UnaryOperator, operand: Value) -> Result<Value, String> {
    let marked = operand.contains_sensitive();
    let operand = operand.deep_unmark();
    if !operand.is_known() {
        return Ok(Value::Unknown.mark_if(marked));
    }
    let result = match operator {
        UnaryOperator::Neg => {
            Value::Number(to_number(&operand).map_err(|m| if marked { HIDDEN.to_string() } else { m })?.neg())
        }
        UnaryOperator::Not => Value::Bool(!to_bool(&operand).map_err(|m| if marked { HIDDEN.to_string() } else { m })?),
    };
    Ok(result.mark_if(marked))
}

/// Terraform's `==`: same type and same value; lists equal tuples element by element, maps
/// equal objects key by key; `1 == "1"` is false.
pub fn equals(left: &Value, right: &Value) -> bool {
    match (left.bare(), right.bare()) {
        (Value::List(a), Value::List(b)) | (Value::Set(a), Value::Set(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equals(x, y))
        }
        (Value::Map(a), Value::Map(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|((ka, va), (kb, vb))| ka == kb && equals(va, vb))
        }
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn null_comparisons_are_known_when_the_other_side_is_known_at_its_top() {
        let partly = Value::Map(BTreeMap::from([("arn".to_string(), Value::Unknown)]));
        let eq = |l: &Value, r: &Value| binary(BinaryOperator::Eq, l.clone(), r.clone()).expect("compares");
        assert_eq!(eq(&partly, &Value::Null), Value::Bool(false));
        assert_eq!(eq(&Value::Null, &Value::Null), Value::Bool(true));
        assert_eq!(eq(&Value::Unknown, &Value::Null), Value::Unknown, "an unknown value may be null");
        assert_eq!(eq(&partly, &partly), Value::Unknown, "equal only if the unknown parts are");
    }
}
