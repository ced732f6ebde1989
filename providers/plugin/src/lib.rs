//! Terraform provider plugins in infra: a plugin binary is started as Terraform starts it
//! ([`launch`]: go-plugin's handshake, [`tls`]: automatic mutual TLS), spoken to over gRPC
//! ([`client`], messages in [`tfplugin5`] and [`tfplugin6`]), with values in cty's wire encoding ([`cty`]).
#![deny(missing_docs)]

pub mod cache;
pub mod client;
pub mod cty;
pub mod launch;
pub mod tfplugin5;
pub mod tfplugin6;
pub mod tls;

pub use client::PluginClient;
pub mod provider;
pub mod schema;

pub use provider::PluginProvider;
