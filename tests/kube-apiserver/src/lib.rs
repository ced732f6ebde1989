//! A Kubernetes API server for tests: a model of the documented API semantics, not a product
//! feature. See README.md for what it models and what it does not.
//!
//! - [`server`]: start it, its options and faults; [`api`]: HTTP routing and the REST verbs.
//! - [`store`]: objects, resourceVersions, history, finalizers, garbage collection.
//! - [`apply`] and [`fields`]: server-side apply and managedFields; [`patch`]: the patch formats.
//! - [`typed`], [`quantity`], [`defaults`], [`validation`] and [`schema`]: what a write goes
//!   through before it is stored (decoding into the built-in types, canonical quantities,
//!   defaults and rules; a custom resource's structural schema).
//! - [`watch`], [`selector`], [`discovery`], [`catalog`]: reads; [`controllers`]: simulated status.

pub mod api;
pub mod apply;
pub mod catalog;
pub mod controllers;
pub mod defaults;
pub mod discovery;
pub mod fields;
pub mod patch;
pub mod protobuf;
pub mod quantity;
pub mod schema;
pub mod selector;
pub mod server;
pub mod status;
pub mod store;
pub mod tls;
pub mod typed;
pub mod validation;
pub mod watch;

pub use server::{Options, Running, kubeconfig, start};
