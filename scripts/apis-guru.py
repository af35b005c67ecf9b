#!/usr/bin/env python3
"""Runs `oasgate check` over every document of an APIs.guru directory clone.

    git clone https://github.com/APIs-guru/openapi-directory ../openapi-directory
    cargo build --release --features cli --bin oasgate
    scripts/apis-guru.py ../openapi-directory --oasgate target/release/oasgate

Prints a Markdown report: documents loaded by version, refusals and warnings grouped by
cause, and the slowest and largest loads (wall time and peak RSS of each `oasgate check`).
`--csv FILE` also writes one row per document. Standard library only.

`--memory-from BYTES` also starts `oasgate serve` on every loaded document of at least that
size (and on an empty document, five times, for the baseline) and reads, once it listens, its
peak resident memory and the file-backed part of its resident memory (the binary's own pages,
which a document's size does not change, but which vary by a MiB between two builds of it).
The report then gives, for those documents, the ratio of (peak - the empty document's) to the
file size, both whole and without the file-backed pages (Linux only).

`--settle SECONDS` also reads the resident memory that many seconds after listening, once the
allocator has handed back what the build freed (the binary's jemalloc does so within about 20
seconds), and reports its ratios the same way. The processes mostly wait then, so
`--memory-jobs N` runs more of them at once than `--jobs`.
"""

import argparse
import concurrent.futures
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import threading
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
    parser.add_argument("--memory-from", type=int, metavar="BYTES",
                        help="also measure `oasgate serve` on loaded documents of this size up")
    parser.add_argument("--settle", type=float, default=0.0, metavar="SECONDS",
                        help="with --memory-from, also read the resident memory this long after "
                             "listening")
    parser.add_argument("--memory-jobs", type=int, metavar="N",
                        help="`oasgate serve` processes measured at once (default: --jobs)")
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

    baseline = None
    if args.memory_from is not None:
        measured = [r for _, _, r in results if r["ok"]]
        paths = [p for p, _, r in results if r["ok"]]
        wanted = [(p, r) for p, r in zip(paths, measured) if p.stat().st_size >= args.memory_from]
        empty = Path(os.environ.get("TMPDIR", "/tmp")) / "oasgate-empty-document.yaml"
        empty.write_text('openapi: 3.0.3\ninfo: {title: empty, version: "1"}\npaths: {}\n')

        def measure(path):
            return serve_memory(binary, path, args.timeout, args.settle)

        with concurrent.futures.ThreadPoolExecutor(args.memory_jobs or args.jobs) as pool:
            runs = list(pool.map(measure, [empty] * 5))
            for (path, result), memory in zip(wanted, pool.map(measure, [p for p, _ in wanted])):
                result["serve"] = memory
        runs = [r for r in runs if r]
        if runs:
            baseline = tuple(
                sorted(r[i] for r in runs)[len(runs) // 2] if runs[0][i] is not None else None
                for i in range(4))
    report(args, results, baseline)


def serve_memory(binary, path, timeout, settle=0.0):
    """(peak RSS, file-backed RSS) in MiB of `oasgate serve` on `path` once it listens, then
    (RSS, file-backed RSS) `settle` seconds later (None, None without `settle`); None if it
    did not listen.

    File-backed pages are only ever added while the process runs, so peak minus the
    file-backed pages at the end is at most the anonymous memory's peak (a close lower bound).
    """
    command = [binary, "serve", "--spec", str(path), "--upstream", "http://127.0.0.1:9",
               "--listen", "127.0.0.1:0", "--no-access-log"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    timer = threading.Timer(timeout + settle, process.kill)
    timer.start()

    def status(*keys):
        with open(f"/proc/{process.pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return [int(fields[key].split()[0]) / 1024 for key in keys]

    try:
        for line in process.stdout:
            if line.startswith(b"listening on"):
                break
        else:
            return None
        peak, file = status("VmHWM", "RssFile")
        settled = (None, None)
        if settle:
            time.sleep(settle)
            settled = tuple(status("VmRSS", "RssFile"))
        return peak, file, *settled
    except (OSError, KeyError, ValueError):
        return None
    finally:
        timer.cancel()
        process.kill()
        process.wait()


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


def report(args, results, baseline):
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

    if baseline:
        memory_report(args, results, baseline)

    if args.csv:
        with open(args.csv, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["document", "version", "ok", "seconds", "rss_mib", "first problem",
                          "warnings", "serve_peak_mib", "serve_file_mib", "serve_settled_mib",
                          "serve_settled_file_mib"])
            for path, version, result in results:
                problems = result.get("problems", [])
                serve = [f"{mib:.1f}" if mib is not None else "" for mib in
                         result.get("serve") or ()] or ["", "", "", ""]
                out.writerow([path, version, result["ok"], f"{result['seconds']:.3f}",
                              f"{result['rss_mib']:.1f}",
                              problems[0]["message"] if problems else "",
                              len(result["warnings"]), *serve])


def memory_report(args, results, baseline):
    """Ratios of (peak - the empty document's peak) to file size under `oasgate serve`, and of
    the resident memory once settled likewise."""
    peak0, file0, settled0, settled_file0 = baseline
    rows = []
    for path, _, result in results:
        if result.get("serve"):
            peak, file, settled, settled_file = result["serve"]
            size = path.stat().st_size / 2**20
            row = [(peak - peak0) / size, (peak - file - (peak0 - file0)) / size]
            if settled is not None and settled0 is not None:
                row += [(settled - settled0) / size,
                        (settled - settled_file - (settled0 - settled_file0)) / size]
            rows.append((*row, path.relative_to(args.directory / "APIs")))
    settled_note = ""
    if settled0 is not None:
        settled_note = (f"; {args.settle:g} s after listening {settled0:.1f} MiB, "
                        f"{settled_file0:.1f} MiB of it file-backed")
    print(f"\nMemory of `oasgate serve`, {len(rows)} loaded documents of "
          f"{args.memory_from} bytes and more; the empty document: peak {peak0:.1f} MiB, "
          f"{file0:.1f} MiB of it file-backed{settled_note}. Ratio of (each measure - the empty "
          f"document's) to the file size:\n")
    if not rows:
        return
    print("| measure | median | 90th percentile | largest | above 10x |")
    print("|---|---:|---:|---:|---:|")
    labels = ["peak resident", "peak resident without file-backed pages"]
    if all(len(r) == 5 for r in rows):
        labels += [f"resident {args.settle:g} s after listening",
                   f"resident {args.settle:g} s after listening, without file-backed pages"]
    for i, label in enumerate(labels):
        values = sorted(r[i] for r in rows)
        worst = max(rows, key=lambda r: r[i])
        print(f"| {label} | {statistics.median(values):.1f} | "
              f"{values[int(len(values) * 0.9)]:.1f} | {values[-1]:.1f} ({worst[-1]}) | "
              f"{sum(v > 10 for v in values)} |")


if __name__ == "__main__":
    main()
