#!/usr/bin/env python3
"""Turns the text output of bench/run into the Markdown tables of docs/performance.md.

usage: bench/report.py BENCH_OUTPUT.txt SIZE
"""
import re, sys

LINE = re.compile(r"\s*(\d+)\s+(\w+)\s+(.+?)\s{2,}infra\s+(.+?)\s{3}terraform\s+(.*)$")

def cell(text):
    text = text.strip()
    if text == "-" or not text:
        return "—", None
    if text.startswith("timeout"):
        return text, None
    match = re.match(r"([\d.]+)s\s+(\d+) MiB(.*)", text)
    if not match:
        return text, None
    seconds, mib, rest = float(match.group(1)), int(match.group(2)), match.group(3).strip()
    return f"{seconds:.2f} s · {mib} MiB" + (f" {rest}" if rest else ""), seconds

rows = []
for line in open(sys.argv[1], encoding="utf-8"):
    match = LINE.match(line.rstrip("\n"))
    if not match or match.group(1) != sys.argv[2]:
        continue
    _, shape, step, infra, rest = match.groups()
    terraform = re.split(r"\s{2,}\d+(\.\d+)?x", rest)[0]
    terraform = re.sub(r"\s+counts \w+.*$", "", terraform)
    infra_text, infra_s = cell(infra)
    terraform_text, terraform_s = cell(terraform)
    printed = re.search(r"\s(\d+(?:\.\d+)?)x", rest)
    ratio = f"{float(printed.group(1)):.0f}×" if printed else "—"
    rows.append(f"| {shape} | {step} | {infra_text} | {terraform_text} | {ratio} |")
print("\n".join(rows))
