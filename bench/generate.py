#!/usr/bin/env python3
"""Generates benchmark configurations of N terraform_data resources.

Shapes:
  independent  N resources, no references
  layered      layers of 100; each resource references the ids of 2-3 resources of the previous
               layer (fan-out/fan-in)
  nested       N resources with ~1 KB nested inputs

usage: generate.py SHAPE N DIR [--change 1]   (--change G alters every 100th input: generation G)
"""
import pathlib, sys

def nested_input(i, gen):
    tags = ", ".join(f'k{j} = "value-{i}-{j}"' for j in range(10))
    items = ", ".join(f'"item-{i}-{j}"' for j in range(40))
    deep = f'{{ a = {{ b = {{ c = {{ d = [{i}, {i + 1}, {i + 2}], e = "deep-{i}-{gen}" }} }} }} }}'
    return f'{{\n    name   = "resource-{i}-{gen}"\n    tags   = {{ {tags} }}\n    list   = [{items}]\n    nested = {deep}\n    flags  = {{ enabled = true, weight = {i % 7}.5, ratio = 0.{i % 10} }}\n  }}'

def main():
    args = sys.argv[1:]
    change = 0
    if "--change" in args:
        at = args.index("--change")
        change = int(args[at + 1])
        del args[at:at + 2]
    shape, n, out = args[0], int(args[1]), pathlib.Path(args[2])
    out.mkdir(parents=True, exist_ok=True)
    width = 100
    lines = []
    for i in range(n):
        gen = change if (change and i % 100 == 0) else 0
        if shape == "independent":
            body = f'  input = "value-{i}-{gen}"'
        elif shape == "layered":
            layer, position = divmod(i, width)
            if layer == 0:
                body = f'  input = "root-{i}-{gen}"'
            else:
                previous = [(layer - 1) * width + (position + k) % width for k in range(2 + i % 2)]
                refs = ", ".join(f"terraform_data.r{p}.id" for p in previous)
                body = f'  input = ["layer-{i}-{gen}", {refs}]'
        elif shape == "nested":
            body = f"  input = {nested_input(i, gen)}"
        else:
            sys.exit(f"unknown shape {shape}")
        lines.append(f'resource "terraform_data" "r{i}" {{\n{body}\n}}\n')
    (out / "main.tf").write_text("".join(lines))

if __name__ == "__main__":
    main()
