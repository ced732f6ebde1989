//! Renderings for people and machines. Renderers decide nothing: they print what they are given.
//!
//! [`value`] prints a single value the way `terraform console` does; [`human`] a plan the way
//! `terraform plan` does; [`json`] the documented, versioned JSON plan; [`markdown`] the plan
//! for a pull request comment.

pub mod human;
pub mod json;
pub mod markdown;
pub mod value;
