//! The attribute reference of docs/providers/aws.md, rendered from the schemas so that it
//! cannot drift from the code (a test compares the two; `UPDATE_DOCS=1` rewrites it).

use crate::Aws;
use infra_provider::{AttrType, BlockSchema, Provider};
use std::fmt::Write;

/// Import id formats that are not simply the object's id.
const IMPORT_IDS: &[(&str, &str)] = &[
    ("aws_route_table_association", "`SUBNET_ID/ROUTE_TABLE_ID` (or `GATEWAY_ID/ROUTE_TABLE_ID`)"),
    ("aws_volume_attachment", "`DEVICE_NAME:VOLUME_ID:INSTANCE_ID`"),
    ("aws_key_pair", "the key name"),
    ("aws_eip", "the allocation id (`eipalloc-…`)"),
    ("aws_vpc_security_group_ingress_rule", "the rule id (`sgr-…`)"),
    ("aws_vpc_security_group_egress_rule", "the rule id (`sgr-…`)"),
];

fn kind(kind: &AttrType) -> String {
    match kind {
        AttrType::String => "string".into(),
        AttrType::Number => "number".into(),
        AttrType::Bool => "bool".into(),
        AttrType::List(inner) => format!("list({})", self::kind(inner)),
        AttrType::Set(inner) => format!("set({})", self::kind(inner)),
        AttrType::Map(inner) => format!("map({})", self::kind(inner)),
        AttrType::Object(_) => "object".into(),
        AttrType::Dynamic => "any".into(),
    }
}

fn table(out: &mut String, block: &BlockSchema, prefix: &str) {
    for (name, attribute) in &block.attributes {
        let role = match (attribute.required, attribute.optional, attribute.computed) {
            (true, _, _) => "required",
            (false, true, true) => "optional, computed",
            (false, true, false) => "optional",
            _ => "computed",
        };
        let replaces = if attribute.force_new {
            "replaces"
        } else if attribute.optional || attribute.required {
            "in place"
        } else {
            ""
        };
        let sensitive = if attribute.sensitive { " (sensitive)" } else { "" };
        let _ =
            writeln!(out, "| `{prefix}{name}` | {} | {role}{sensitive} | {replaces} |", self::kind(&attribute.kind));
    }
    for (name, nested) in &block.blocks {
        let _ = writeln!(
            out,
            "| `{prefix}{name}` | block ({:?}) | optional | {} |",
            nested.nesting,
            if nested.force_new { "replaces" } else { "in place" }
        );
        table(out, &nested.block, &format!("{prefix}{name}."));
    }
}

/// The reference section: every resource and data source with its attributes.
pub fn reference() -> String {
    let aws = Aws::new();
    let schema = aws.schema();
    let mut out =
        String::from("<!-- generated from the provider's schemas: UPDATE_DOCS=1 cargo test -p infra-aws docs -->\n");
    for (name, resource) in &schema.resources {
        let import = IMPORT_IDS.iter().find(|(kind, _)| kind == name).map_or("the object's id", |(_, id)| id);
        let _ = writeln!(
            out,
            "\n### `{name}`\n\nImport id: {import}.\n\n| attribute | type | | change |\n|---|---|---|---|"
        );
        table(&mut out, &resource.block, "");
    }
    for (name, source) in &schema.data_sources {
        let _ = writeln!(out, "\n### data `{name}`\n\n| attribute | type | | |\n|---|---|---|---|");
        table(&mut out, &source.block, "");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn docs_list_every_attribute() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/providers/aws.md");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let marker = "## Reference\n";
        let head = text.split(marker).next().unwrap_or_default().to_string();
        let wanted = format!("{head}{marker}{}", super::reference());
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(&path, &wanted).expect("write docs");
            return;
        }
        assert!(
            text == wanted,
            "docs/providers/aws.md is out of date: run `UPDATE_DOCS=1 cargo test -p infra-aws docs`"
        );
    }
}
