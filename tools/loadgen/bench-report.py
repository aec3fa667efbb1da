#!/usr/bin/env python3
"""Turns the JSON lines of tools/bench-broker.sh into the markdown section of docs/benchmarks.md.

    bench-report.py RESULTS.jsonl RECORDS REPEAT IDLE_S LINGER_MS BATCH_BYTES PACED_RATE PACED_RECORDS
"""
import json, os, statistics, subprocess, sys, textwrap

path, records, repeat, idle_s, linger, batch, paced_rate, paced_records = sys.argv[1:]
records = int(records)
rows = [json.loads(line) for line in open(path) if line.strip()]
med = statistics.median


def pick(mode, label=None, **kw):
    return [r for r in rows if r["mode"] == mode and (label is None or r["label"] == label)
            and all(r.get(k) == v for k, v in kw.items())]


def n(x): return f"{x:,.0f}"
def ms(x): return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"
def sh(cmd): return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
def acks_name(a): return "all" if a == -1 else str(a)
def verdict(ok): return "**met**" if ok else "**not met**"
def mem(kb): return f"{kb / 1024:.1f} MiB ({kb * 1024 / 1e6:.1f} MB)"


meta = next((r for r in rows if r["mode"] == "meta"), {})
commit = meta.get("commit") or sh("git rev-parse --short HEAD")
rdk = sh("dpkg-query -W -f='${Version}' librdkafka-dev")
swift = sh("swift --version 2>&1 | head -1")
loads = [r["load1"] for r in pick("broker_cpu") if "load1" in r]

out = []


def p(line):
    """Prose is wrapped at 100 columns like the rest of docs/; tables and list items are not."""
    out.append(line if line.startswith(("|", "- ")) or not line else textwrap.fill(line, 100))


p("## Broker (issue 4)")
p("")
p(f"Run: `tools/bench-broker.sh` (commit {commit}, {sh('date -u +%Y-%m-%d')}): {os.cpu_count()} CPUs, "
  f"{swift}, librdkafka {rdk}, load generator `tools/loadgen/tern-loadgen`. "
  f"{n(records)} records per run, each row the median of {repeat} runs, each run on a fresh data dir and a "
  f"fresh ternd. Load generator and broker share the machine over loopback"
  + (f"; 1-minute load average during the runs {min(loads):.1f}–{max(loads):.1f} (median {med(loads):.1f})"
     if loads else "") + ".")
p("")
p(f"Producer: one librdkafka producer, partition 0 of a 1-partition topic, no key, acks as shown, "
  f"linger.ms={linger}, batch.size={batch}, batch.num.messages=10000, no compression, idempotence off. "
  f"All records are handed to librdkafka as fast as it takes them, so throughput is saturated and "
  f"delivery latency (delivery report − send time, from a CLOCK_MONOTONIC stamp in the value) is mostly "
  f"time queued in the producer. Consumer: assign mode from offset 0, fetch.max.bytes=50 MiB, "
  f"fetch.message.max.bytes=10 MiB, queued.min.messages=2M; time from assign to the last record. "
  f"CPU columns: seconds of CPU used during the run by ternd (/proc/PID/stat) and by the load generator "
  f"(getrusage).")
p("")
p("| Records | acks | Produce records/s | Produce MB/s | Latency p50 / p99 / p99.9 / max (ms) "
  "| Consume records/s | Consume MB/s | ternd CPU s, produce / consume | loadgen CPU s, produce / consume |")
p("|---|---|---|---|---|---|---|---|---|")
summary = {}
for size in (100, 1024):
    for acks in (1, -1):
        label = f"s{size}_a{acks}"
        pr, co, cpu = pick("produce", label), pick("consume", label), pick("broker_cpu", label)
        if not pr or not co or not cpu:
            continue
        prs, pmb = med([r["records_per_s"] for r in pr]), med([r["mb_per_s"] for r in pr])
        lat = {k: med([r["latency_ms"][k] for r in pr]) for k in ("p50", "p99", "p999", "max")}
        crs, cmb = med([r["records_per_s"] for r in co]), med([r["mb_per_s"] for r in co])
        summary[(size, acks)] = (prs, crs)
        p(f"| {size} B | {acks_name(acks)} | {n(prs)} | {pmb:.1f} | "
          f"{ms(lat['p50'])} / {ms(lat['p99'])} / {ms(lat['p999'])} / {ms(lat['max'])} | {n(crs)} | {cmb:.1f} | "
          f"{med([r['produce_cpu_s'] for r in cpu]):.2f} / {med([r['consume_cpu_s'] for r in cpu]):.2f} | "
          f"{med([r['client_cpu_s'] for r in pr]):.2f} / {med([r['client_cpu_s'] for r in co]):.2f} |")
p("")
p("Every run, records/s produced → consumed:")
p("")
for size in (100, 1024):
    for acks in (1, -1):
        label = f"s{size}_a{acks}"
        runs = [f"{n(a['records_per_s'])} → {n(b['records_per_s'])}"
                for a, b in zip(pick("produce", label), pick("consume", label))]
        if runs:
            p(f"- {size} B, acks={acks_name(acks)}: " + "; ".join(runs))
p("")
paced = [(a, pick("produce", f"paced_a{a}")) for a in (1, -1)]
if any(rs for _, rs in paced):
    p(f"Delivery latency below saturation: {n(int(paced_records))} records of 100 B paced at "
      f"{n(float(paced_rate))} records/s, same producer settings, median of {repeat} runs:")
    p("")
    p("| acks | Achieved records/s | p50 (ms) | p99 (ms) | p99.9 (ms) | max (ms) |")
    p("|---|---|---|---|---|---|")
    for acks, rs in paced:
        if rs:
            lat = {k: med([r["latency_ms"][k] for r in rs]) for k in ("p50", "p99", "p999", "max")}
            p(f"| {acks_name(acks)} | {n(med([r['records_per_s'] for r in rs]))} | {ms(lat['p50'])} | "
              f"{ms(lat['p99'])} | {ms(lat['p999'])} | {ms(lat['max'])} |")
    p("")
ready = [r["ready_ms"] for r in pick("ready")]
helps = [r["exit_ms"] for r in pick("help")]
idle = [r["rss_kb"] for r in pick("rss", phase="idle")]
after = [r["rss_kb"] for r in pick("rss", phase="after_load")]
hwm = [r["hwm_kb"] for r in pick("rss", phase="after_load")]
p("| Measure | Result |")
p("|---|---|")
if ready:
    p(f"| Ready: exec → first accepted TCP connection, empty data dir ({len(ready)} starts, connect polled "
      f"in a tight loop) | median {med(ready):.1f} ms (min {min(ready):.1f}, max {max(ready):.1f}) |")
if helps:
    p(f"| Process start baseline: `ternd --help`, exec → exit ({len(helps)} runs) | "
      f"median {med(helps):.1f} ms (min {min(helps):.1f}, max {max(helps):.1f}) |")
if idle:
    p(f"| VmRSS {idle_s} s after start, idle ({len(idle)} starts) | median {mem(med(idle))}, max {mem(max(idle))} |")
if after:
    p(f"| VmRSS {idle_s} s after a produce + consume run ({len(after)} runs) | median {mem(med(after))}, "
      f"max {mem(max(after))}; peak VmHWM median {mem(med(hwm))} |")
p("")
p("| Target (issue 4) | Measured (median) | |")
p("|---|---|---|")
if (100, 1) in summary:
    p(f"| 100 B records produced ≥ 1 M records/s | acks=1: {n(summary[(100, 1)][0])}"
      + (f"; acks=all: {n(summary[(100, -1)][0])}" if (100, -1) in summary else "")
      + f" | {verdict(summary[(100, 1)][0] >= 1e6)} (acks=1) |")
    # What is consumed does not depend on the acks it was produced with: judge on every 100 B run.
    crs = [r["records_per_s"] for r in pick("consume") if r["label"] in ("s100_a1", "s100_a-1")]
    p(f"| 100 B records consumed ≥ 2 M records/s | {n(med(crs))} (all {len(crs)} runs of 100 B; "
      f"acks=1 rows {n(summary[(100, 1)][1])}"
      + (f", acks=all rows {n(summary[(100, -1)][1])}" if (100, -1) in summary else "")
      + f") | {verdict(med(crs) >= 2e6)} |")
for size in (100, 1024):
    if (size, 1) in summary and (size, -1) in summary:
        ratio = summary[(size, -1)][0] / summary[(size, 1)][0]
        p(f"| acks=all ≥ 0.7 × acks=1 ({size} B) | {ratio:.2f} | {verdict(ratio >= 0.7)} |")
if ready:
    p(f"| Ready within 50 ms of start, empty data dir | {med(ready):.1f} ms | {verdict(med(ready) <= 50)} |")
if idle:
    p(f"| Idle resident memory < 30 MB | {mem(med(idle))} | {verdict(med(idle) * 1024 < 30e6)} |")
print("\n".join(out))
