//! The real `hashicorp/aws` plugin, started and spoken to as Terraform does.

use infra_plugin::PluginClient;
use infra_plugin::tfplugin5::{Empty, GetSchemaResponse, path};
use std::path::PathBuf;

/// The AWS plugin in the machine's filesystem mirror (Terraform's layout).
fn aws_plugin() -> PathBuf {
    let mirrors = std::env::var_os("INFRA_TEST_PLUGIN_MIRROR")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/opt/tf-plugins")]);
    for mirror in mirrors {
        let dir = mirror.join("registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64");
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with("terraform-provider-aws") {
                    return entry.path();
                }
            }
        }
    }
    panic!("the hashicorp/aws 5.100.0 plugin is not in a filesystem mirror (set INFRA_TEST_PLUGIN_MIRROR)");
}

#[tokio::test]
async fn the_aws_plugin_starts_with_mutual_tls_and_answers_its_schema() {
    let client = PluginClient::start(&aws_plugin(), "hashicorp/aws").await.unwrap();
    assert_eq!(client.protocol, 5);
    let schema: GetSchemaResponse = client.call(path::GET_SCHEMA, Empty {}).await.unwrap();
    assert!(schema.resource_schemas.contains_key("aws_vpc"), "{} types", schema.resource_schemas.len());
    assert!(schema.resource_schemas.len() > 1000);
    assert!(schema.data_source_schemas.contains_key("aws_caller_identity"));
    client.shutdown().await;
}
