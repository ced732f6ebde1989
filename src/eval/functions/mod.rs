//! The function library: Terraform's functions, with Terraform's results for the same arguments.
//!
//! Each function is a plain Rust `fn(Vec<Value>, &CallContext) -> Result<Value, FunctionError>`
//! in a registry ([`lookup`]). [`call`] does what every function shares: arity checks, the
//! sensitive mark (a result is marked when any argument is) and Unknown arguments (the result is
//! Unknown). *Structural* functions, which only rearrange elements (`concat`, `merge`,
//! `element`...), keep the marks and Unknowns of individual elements instead, as Terraform does.
//! `try` and `can` are evaluated lazily by the evaluator itself.

mod collections;
mod conversion;
mod crypto;
mod datetime;
mod encoding;
mod filesystem;
mod format;
mod network;
mod numeric;
mod strings;

use infra_provider::Value;
use std::path::Path;

/// What a function can see besides its arguments.
pub struct CallContext<'a> {
    /// Base of relative paths: the module directory.
    pub module_dir: &'a Path,
    /// Plan time: `timestamp()` and `uuid()` are Unknown.
    pub plan_time: bool,
    /// Where file functions may read.
    pub files: &'a super::FileAccess,
}

/// Why a call failed: which argument (zero-based), if one is to blame, and a sentence fragment.
#[derive(Debug)]
pub struct FunctionError {
    /// The argument to blame.
    pub argument: Option<usize>,
    /// What is wrong, without a trailing period.
    pub message: String,
}

/// A function failure not tied to one argument.
pub(crate) fn fail(message: impl Into<String>) -> FunctionError {
    FunctionError { argument: None, message: message.into() }
}

/// A failure blamed on argument `index`.
pub(crate) fn bad_arg(index: usize, message: impl Into<String>) -> FunctionError {
    FunctionError { argument: Some(index), message: message.into() }
}

type Run = fn(Vec<Value>, &CallContext) -> Result<Value, FunctionError>;

/// A registered function.
pub struct Function {
    name: &'static str,
    min: usize,
    max: Option<usize>,
    structural: bool,
    run: Run,
}

const fn f(name: &'static str, min: usize, max: Option<usize>, run: Run) -> Function {
    Function { name, min, max, structural: false, run }
}

const fn s(name: &'static str, min: usize, max: Option<usize>, run: Run) -> Function {
    Function { name, min, max, structural: true, run }
}

const ONE: Option<usize> = Some(1);
const TWO: Option<usize> = Some(2);
const THREE: Option<usize> = Some(3);
const ANY: Option<usize> = None;

static FUNCTIONS: &[Function] = &[
    // numeric
    f("abs", 1, ONE, numeric::abs),
    f("ceil", 1, ONE, numeric::ceil),
    f("floor", 1, ONE, numeric::floor),
    f("log", 2, TWO, numeric::log),
    f("max", 1, ANY, numeric::max),
    f("min", 1, ANY, numeric::min),
    f("parseint", 2, TWO, numeric::parseint),
    f("pow", 2, TWO, numeric::pow),
    f("signum", 1, ONE, numeric::signum),
    // strings
    f("chomp", 1, ONE, strings::chomp),
    f("endswith", 2, TWO, strings::endswith),
    f("format", 1, ANY, format::format),
    f("formatlist", 1, ANY, format::formatlist),
    f("indent", 2, TWO, strings::indent),
    f("join", 2, ANY, strings::join),
    f("lower", 1, ONE, strings::lower),
    f("regex", 2, TWO, strings::regex),
    f("regexall", 2, TWO, strings::regexall),
    f("replace", 3, THREE, strings::replace),
    f("split", 2, TWO, strings::split),
    f("startswith", 2, TWO, strings::startswith),
    f("strcontains", 2, TWO, strings::strcontains),
    f("strrev", 1, ONE, strings::strrev),
    f("substr", 3, THREE, strings::substr),
    f("title", 1, ONE, strings::title),
    f("trim", 2, TWO, strings::trim),
    f("trimprefix", 2, TWO, strings::trimprefix),
    f("trimsuffix", 2, TWO, strings::trimsuffix),
    f("trimspace", 1, ONE, strings::trimspace),
    f("upper", 1, ONE, strings::upper),
    // collections
    f("alltrue", 1, ONE, collections::alltrue),
    f("anytrue", 1, ONE, collections::anytrue),
    s("chunklist", 2, TWO, collections::chunklist),
    s("coalesce", 1, ANY, collections::coalesce),
    s("coalescelist", 1, ANY, collections::coalescelist),
    f("compact", 1, ONE, collections::compact),
    s("concat", 1, ANY, collections::concat),
    f("contains", 2, TWO, collections::contains),
    f("distinct", 1, ONE, collections::distinct),
    s("element", 2, TWO, collections::element),
    s("flatten", 1, ONE, collections::flatten),
    f("index", 2, TWO, collections::index),
    s("keys", 1, ONE, collections::keys),
    s("length", 1, ONE, collections::length),
    s("lookup", 2, THREE, collections::lookup),
    f("matchkeys", 3, THREE, collections::matchkeys),
    s("merge", 0, ANY, collections::merge),
    s("one", 1, ONE, collections::one),
    f("range", 1, THREE, collections::range),
    s("reverse", 1, ONE, collections::reverse),
    f("setintersection", 1, ANY, collections::setintersection),
    f("setproduct", 1, ANY, collections::setproduct),
    f("setsubtract", 2, TWO, collections::setsubtract),
    f("setunion", 1, ANY, collections::setunion),
    s("slice", 3, THREE, collections::slice),
    f("sort", 1, ONE, collections::sort),
    f("sum", 1, ONE, collections::sum),
    f("transpose", 1, ONE, collections::transpose),
    s("values", 1, ONE, collections::values),
    s("zipmap", 2, TWO, collections::zipmap),
    // encoding
    f("base64decode", 1, ONE, encoding::base64decode),
    f("base64encode", 1, ONE, encoding::base64encode),
    f("base64gzip", 1, ONE, encoding::base64gzip),
    f("csvdecode", 1, ONE, encoding::csvdecode),
    f("provider::terraform::encode_expr", 1, ONE, encoding::encode_expr),
    f("provider::terraform::encode_tfvars", 1, ONE, encoding::encode_tfvars),
    f("provider::terraform::decode_tfvars", 1, ONE, encoding::decode_tfvars),
    f("jsondecode", 1, ONE, encoding::jsondecode),
    f("jsonencode", 1, ONE, encoding::jsonencode),
    f("textdecodebase64", 2, TWO, encoding::textdecodebase64),
    f("textencodebase64", 2, TWO, encoding::textencodebase64),
    f("urlencode", 1, ONE, encoding::urlencode),
    f("yamldecode", 1, ONE, encoding::yamldecode),
    f("yamlencode", 1, ONE, encoding::yamlencode),
    // filesystem
    f("abspath", 1, ONE, filesystem::abspath),
    f("basename", 1, ONE, filesystem::basename),
    f("dirname", 1, ONE, filesystem::dirname),
    f("file", 1, ONE, filesystem::file),
    f("filebase64", 1, ONE, filesystem::filebase64),
    f("filebase64sha256", 1, ONE, filesystem::filebase64sha256),
    f("filebase64sha512", 1, ONE, filesystem::filebase64sha512),
    f("filemd5", 1, ONE, filesystem::filemd5),
    f("filesha1", 1, ONE, filesystem::filesha1),
    f("filesha512", 1, ONE, filesystem::filesha512),
    f("fileexists", 1, ONE, filesystem::fileexists),
    f("fileset", 2, TWO, filesystem::fileset),
    f("filesha256", 1, ONE, filesystem::filesha256),
    f("pathexpand", 1, ONE, filesystem::pathexpand),
    f("templatefile", 2, TWO, filesystem::templatefile),
    f("templatestring", 2, TWO, filesystem::templatestring),
    // date and time
    f("formatdate", 2, TWO, datetime::formatdate),
    f("timeadd", 2, TWO, datetime::timeadd),
    f("timestamp", 0, Some(0), datetime::timestamp),
    f("timecmp", 2, TWO, datetime::timecmp),
    f("plantimestamp", 0, Some(0), datetime::plantimestamp),
    // hashing and crypto
    f("base64sha256", 1, ONE, crypto::base64sha256),
    f("base64sha512", 1, ONE, crypto::base64sha512),
    f("md5", 1, ONE, crypto::md5),
    f("sha1", 1, ONE, crypto::sha1),
    f("sha256", 1, ONE, crypto::sha256),
    f("sha512", 1, ONE, crypto::sha512),
    f("uuid", 0, Some(0), crypto::uuid),
    f("uuidv5", 2, TWO, crypto::uuidv5),
    f("bcrypt", 1, TWO, crypto::bcrypt),
    f("rsadecrypt", 2, TWO, crypto::rsadecrypt),
    // network
    f("cidrhost", 2, TWO, network::cidrhost),
    f("cidrnetmask", 1, ONE, network::cidrnetmask),
    f("cidrsubnet", 3, THREE, network::cidrsubnet),
    f("cidrsubnets", 1, ANY, network::cidrsubnets),
    // type conversion and marks
    s("nonsensitive", 1, ONE, conversion::nonsensitive),
    s("sensitive", 1, ONE, conversion::sensitive),
    s("issensitive", 1, ONE, conversion::issensitive),
    s("ephemeralasnull", 1, ONE, conversion::ephemeralasnull),
    f("tobool", 1, ONE, conversion::tobool),
    s("tolist", 1, ONE, conversion::tolist),
    s("tomap", 1, ONE, conversion::tomap),
    f("tonumber", 1, ONE, conversion::tonumber),
    s("toset", 1, ONE, conversion::toset),
    f("tostring", 1, ONE, conversion::tostring),
];

/// A function by name (`provider::` namespaced names are not registered).
pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|function| function.name == name)
}

/// Every function name, plus the lazily evaluated `try` and `can`.
pub fn names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().map(|function| function.name).chain(["try", "can"])
}

/// Calls a function with evaluated arguments.
///
/// # Errors
///
/// Wrong argument count, or the function's own failure.
pub fn call(function: &Function, args: Vec<Value>, context: &CallContext) -> Result<Value, FunctionError> {
    if args.len() < function.min || function.max.is_some_and(|max| args.len() > max) {
        let expected = match function.max {
            Some(max) if max == function.min => format!("exactly {max}"),
            Some(max) => format!("from {} to {max}", function.min),
            None => format!("at least {}", function.min),
        };
        return Err(fail(format!(
            "`{}` takes {expected} argument{}, but {} {} given",
            function.name,
            if function.min == 1 && function.max == Some(1) { "" } else { "s" },
            args.len(),
            if args.len() == 1 { "was" } else { "were" }
        )));
    }
    if matches!(function.name, "sensitive" | "nonsensitive" | "issensitive") {
        return (function.run)(args, context);
    }
    if function.structural {
        // Keep element marks; a marked argument marks the result.
        let mut marked = false;
        let mut bare = Vec::with_capacity(args.len());
        for arg in args {
            let (value, is_marked) = arg.unmark();
            marked |= is_marked;
            bare.push(value);
        }
        if bare.iter().any(|arg| !arg.is_known()) {
            return Ok(Value::Unknown.mark_if(marked));
        }
        return (function.run)(bare, context)
            .map(|value| value.mark_if(marked))
            .map_err(|error| if marked { redacted(error) } else { error });
    }
    let marked = args.iter().any(Value::contains_sensitive);
    if args.iter().any(|arg| !arg.is_wholly_known()) {
        return Ok(Value::Unknown.mark_if(marked));
    }
    let bare: Vec<Value> = args.into_iter().map(Value::deep_unmark).collect();
    let result = (function.run)(bare, context).and_then(|value| match value {
        Value::Number(number) => number.checked().map(Value::Number).map_err(|error| fail(error.to_string())),
        other => Ok(other),
    });
    result.map(|value| value.mark_if(marked)).map_err(|error| if marked { redacted(error) } else { error })
}

/// A failure on sensitive arguments says so without quoting anything the function saw.
fn redacted(error: FunctionError) -> FunctionError {
    FunctionError {
        argument: error.argument,
        message: "the value is sensitive, so the details of the failure are hidden to avoid disclosing it".into(),
    }
}

// Argument helpers shared by the function modules.

pub(crate) fn string_arg(args: &[Value], index: usize) -> Result<String, FunctionError> {
    let value = &args[index];
    if value.is_null() {
        return Err(bad_arg(index, "argument must not be null"));
    }
    super::convert::to_string(value).map_err(|message| bad_arg(index, message))
}

pub(crate) fn number_arg(args: &[Value], index: usize) -> Result<infra_provider::Number, FunctionError> {
    let value = &args[index];
    if value.is_null() {
        return Err(bad_arg(index, "argument must not be null"));
    }
    super::convert::to_number(value).map_err(|message| bad_arg(index, message))
}

pub(crate) fn int_arg(args: &[Value], index: usize) -> Result<i64, FunctionError> {
    let number = number_arg(args, index)?;
    if !number.is_integer() {
        return Err(bad_arg(index, "a whole number is required"));
    }
    number.to_i64().ok_or_else(|| bad_arg(index, "the number is too large"))
}

pub(crate) fn list_arg(args: &[Value], index: usize) -> Result<Vec<Value>, FunctionError> {
    match args[index].bare() {
        Value::List(items) | Value::Set(items) => Ok(items.clone()),
        Value::Null => Err(bad_arg(index, "argument must not be null")),
        other => Err(bad_arg(index, format!("a list is required, got {}", super::convert::describe(other)))),
    }
}

pub(crate) fn map_arg(
    args: &[Value],
    index: usize,
) -> Result<std::collections::BTreeMap<String, Value>, FunctionError> {
    match args[index].bare() {
        Value::Map(entries) => Ok(entries.clone()),
        Value::Null => Err(bad_arg(index, "argument must not be null")),
        other => Err(bad_arg(index, format!("a map is required, got {}", super::convert::describe(other)))),
    }
}

pub use crate::syntax::{quote_string, write_quoted};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = names().collect();
        let count = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), count, "a function is registered twice");
    }
}
