//! Renderings for people and machines. Renderers decide nothing: they print what they are given.
//!
//! [`value`] prints a single value the way `terraform console` does; plan renderings (human
//! diff, JSON, Markdown) build on it.

pub mod value;
