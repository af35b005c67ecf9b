#!/usr/bin/env python3
"""Runs `oasgate check` over every document of an APIs.guru directory clone.

    git clone https://github.com/APIs-guru/openapi-directory ../openapi-directory
    cargo build --release --features cli --bin oasgate
    scripts/apis-guru.py ../openapi-directory --oasgate target/release/oasgate

Prints a Markdown report: documents loaded by version, refusals and warnings grouped by
cause, and the slowest and largest loads (wall time and peak RSS of each `oasgate check`).
`--csv FILE` also writes one row per document. Standard library only.
"""

import argparse
import concurrent.futures
import csv
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

NAMES = {"swagger.yaml", "swagger.json", "openapi.yaml", "openapi.json"}
VERSION = re.compile(rb"""^\s*["']?(swagger|openapi)["']?\s*:\s*["']?([0-9.]+)""", re.M)

# Causes, first match wins: (label, regex over a problem or warning message).
CAUSES = [
    ("pattern: lookaround or backreference", r"lookaround|backreference"),
    ("pattern: not ECMA-262", r"pattern .* (is not|not) an? (ECMA-262 )?regular expression"),
    ("pattern: too large", r"pattern .*(too (big|large)|size limit)"),
    ("template: same request matches two templates", r"(matches|match) the same|ambiguous"),
    ("template: path parameter not in template", r"not in (its|the) template|missing from"),
    ("$ref: cannot be resolved", r"\$ref|does not exist|cannot read"),
    ("server url", r"server"),
    ("media type key", r"media type"),
    ("YAML or JSON syntax", r"yaml|json|parse|syntax|invalid character|control character"),
    ("schema keyword", r"schema|keyword"),
    ("unsupported version", r"unsupported|version"),
]


def cause(message):
    for label, pattern in CAUSES:
        if re.search(pattern, message, re.I):
            return label
    return "other: " + message[:70]


def version_of(path):
    with open(path, "rb") as f:
        head = f.read()
    found = VERSION.search(head)
    if not found:
        return "unknown"
    kind, number = found.group(1).decode(), found.group(2).decode()
    if kind == "swagger":
        return "2.0"
    return ".".join(number.split(".")[:2])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--oasgate", default="target/release/oasgate")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--csv", type=Path)
    parser.add_argument("--strict", action="store_true", help="pass --strict to oasgate check")
    args = parser.parse_args()

    documents = sorted(p for p in (args.directory / "APIs").rglob("*") if p.name in NAMES)
    if not documents:
        sys.exit(f"no documents under {args.directory / 'APIs'}")
    binary = str(Path(args.oasgate).resolve())
    extra = ["--strict"] if args.strict else []

    def run(path):
        report = check_with(binary, path, args.timeout, extra)
        return path, version_of(path), report

    results = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for n, result in enumerate(pool.map(run, documents), 1):
            results.append(result)
            if n % 250 == 0:
                print(f"{n}/{len(documents)}", file=sys.stderr)

    report(args, results)


def check_with(binary, path, timeout, extra):
    """`oasgate check` under GNU time's -f %M when present, for the peak RSS of that process."""
    command = [binary, "check", str(path), "--format", "json", *extra]
    gnu_time = "/usr/bin/time"
    use_time = os.path.exists(gnu_time)
    if use_time:
        command = [gnu_time, "-f", "oasgate-rss-kib %M", *command]
    start = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "problems": [{"message": f"timed out after {timeout:.0f} s"}],
                "warnings": [], "seconds": timeout, "rss_mib": 0.0}
    seconds = time.monotonic() - start
    stderr = done.stderr.decode(errors="replace")
    rss = re.search(r"oasgate-rss-kib (\d+)", stderr)
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = {"ok": False, "problems": [{"message": "no report: " + stderr[:200]}]}
    result.setdefault("warnings", [])
    result["seconds"] = seconds
    result["rss_mib"] = int(rss.group(1)) / 1024 if rss else 0.0
    return result


def report(args, results):
    by_version = defaultdict(Counter)
    refusals, warnings = Counter(), Counter()
    refusal_docs, warning_docs = defaultdict(list), defaultdict(list)
    for path, version, result in results:
        by_version[version]["total"] += 1
        by_version[version]["ok" if result["ok"] else "refused"] += 1
        by_version[version]["warned"] += bool(result["warnings"])
        name = str(path.relative_to(args.directory / "APIs"))
        for label in {cause(p["message"]) for p in result.get("problems", [])}:
            refusals[label] += 1
            refusal_docs[label].append(name)
        for label in {w.get("case", cause(w["message"])) for w in result["warnings"]}:
            warnings[label] += 1
            warning_docs[label].append(name)

    total = Counter()
    print("| version | documents | load | refused | load % | with warnings |")
    print("|---|---:|---:|---:|---:|---:|")
    for version in sorted(by_version):
        row = by_version[version]
        total.update(row)
        print(f"| {version} | {row['total']} | {row['ok']} | {row['refused']} | "
              f"{100 * row['ok'] / row['total']:.1f} | {row['warned']} |")
    print(f"| all | {total['total']} | {total['ok']} | {total['refused']} | "
          f"{100 * total['ok'] / total['total']:.1f} | {total['warned']} |")

    for title, counts, docs in (("Refusals", refusals, refusal_docs),
                                ("Warnings", warnings, warning_docs)):
        print(f"\n{title} by cause (documents; a document may count under several causes):\n")
        print("| cause | documents | e.g. |")
        print("|---|---:|---|")
        for label, count in counts.most_common():
            print(f"| {label} | {count} | {docs[label][0]} |")

    print("\nSlowest and largest loads (wall time and peak RSS of `oasgate check`):\n")
    print("| document | version | size (MB) | seconds | peak RSS (MiB) | loads |")
    print("|---|---|---:|---:|---:|---|")
    heavy = sorted(results, key=lambda r: -r[0].stat().st_size)[:12]
    for path, version, result in heavy:
        name = str(path.relative_to(args.directory / "APIs"))
        print(f"| {name} | {version} | {path.stat().st_size / 1e6:.1f} | "
              f"{result['seconds']:.2f} | {result['rss_mib']:.0f} | "
              f"{'yes' if result['ok'] else 'no'} |")

    if args.csv:
        with open(args.csv, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["document", "version", "ok", "seconds", "rss_mib", "first problem",
                          "warnings"])
            for path, version, result in results:
                problems = result.get("problems", [])
                out.writerow([path, version, result["ok"], f"{result['seconds']:.3f}",
                              f"{result['rss_mib']:.1f}",
                              problems[0]["message"] if problems else "",
                              len(result["warnings"])])


if __name__ == "__main__":
    main()
