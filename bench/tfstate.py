#!/usr/bin/env python3
"""Writes a Terraform (v4) state equivalent to an infra state of terraform_data resources.

Terraform's apply of 10,000 resources with its local state takes hours (it rewrites the whole
state after every resource); giving it the state infra produced lets the benchmark time
Terraform's no-change and 1%-change plans at that size on exactly the same objects.

usage: tfstate.py INFRA_STATE.json TERRAFORM_DIR
"""
import json, pathlib, re, sys, uuid

def type_of(value):
    if value is None:
        return "dynamic"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return ["tuple", [type_of(v) for v in value]]
    return ["object", {k: type_of(v) for k, v in value.items()}]

def dynamic(value):
    return None if value is None else {"value": value, "type": type_of(value)}

def main():
    infra = json.loads(pathlib.Path(sys.argv[1]).read_text())
    resources = []
    for address, resource in sorted(infra["resources"].items()):
        match = re.fullmatch(r"terraform_data\.([A-Za-z0-9_-]+)", address)
        if not match:
            sys.exit(f"only un-indexed root terraform_data resources are supported, not {address}")
        attributes = resource["attributes"]
        instance = {
            "schema_version": 0,
            "attributes": {
                "id": attributes["id"],
                "input": dynamic(attributes.get("input")),
                "output": dynamic(attributes.get("output")),
                "triggers_replace": dynamic(attributes.get("triggers_replace")),
            },
            "sensitive_attributes": [],
        }
        if resource.get("dependencies"):
            instance["dependencies"] = sorted(resource["dependencies"])
        resources.append({
            "mode": "managed",
            "type": "terraform_data",
            "name": match.group(1),
            "provider": 'provider["terraform.io/builtin/terraform"]',
            "instances": [instance],
        })
    state = {"version": 4, "terraform_version": "1.11.4", "serial": 1, "lineage": str(uuid.uuid4()),
             "outputs": {}, "resources": resources, "check_results": None}
    (pathlib.Path(sys.argv[2]) / "terraform.tfstate").write_text(json.dumps(state))

if __name__ == "__main__":
    main()
