#!/usr/bin/env python3
# quality-summary.py DIR QUOTA_MIB: the tiering-quality tables from the
# per-second samples bench/quality.sh wrote to DIR/MODE-TLB-PATTERN.csv
# (and .meta).  Figures are share / oracle: the share of the guest's
# hot-set accesses that DRAM served, over what an oracle with the same DRAM
# quota would serve (the quota's heaviest pages by the pattern's exact
# distribution).  t90 is the first second at 90% of the oracle; for a
# shifting hot set also per new hot range.  The kernel's modes have no
# per-guest quota and may take more DRAM than it (dram_max), so "used@60"
# is the 60 s share over an oracle given all the DRAM the guest held then.
# rep_mad: mean |reported - true| DRAM access share, vmtier status against
# hot-share, over the samples where vmtierd reported one (rep_n of them);
# hot_rep/true: mean reported hot set over the pattern's true one.  acc/s:
# the guest's own accesses per second over the run (other load on the
# machine and the mode's own work change it: the TLB regime's cost to the
# guest is measured apart, by quality.sh's tlb_cost).  flush/s: the TLB
# flusher's wake-ups per second in that run (1000 asked by default; "-":
# sticky, or not recorded).  mv/chunk: the most times vmtierd moved any one
# chunk of the guest (status's max_chunk_moves at the end; "-": the
# kernel's modes), and prom/dem MiB what it promoted and demoted in the
# run; what the hot set's changes explain is 1 for a still hot
# set (each chunk to its tier once) and, for a shifting one, in and out
# each time a chunk's range is hot (3 for shift's first range, which comes
# back within a 60 s run).
import csv
import json
import glob
import os
import re
import sys

MODES = ["static", "vmtierd", "vmtierd-sd", "vmtierd-damos", "vmtierd-nb2", "nb2", "damos"]
REGIMES = ["sticky", "turnover", "turnover-4k", "sticky-4k"]
PATTERNS = ["zipf3", "zipf", "zipf2", "zipf6", "two", "zipf3-ro", "zipf-ro", "zipf2-ro", "zipf6-ro",
            "two-ro", "shift", "shift-ro"]


def weights(spec, n):
    """each page's share of the accesses: bench/hot-share.c's distributions"""
    if spec == "uniform":
        return [1 / n] * n
    m = re.fullmatch(r"zipf([1-8]?)", spec)
    if m:
        k = int(m.group(1) or 3)
        return [((i + 1) / n) ** (1 / k) - (i / n) ** (1 / k) for i in range(n)]
    m = re.fullmatch(r"two:(\d+):(\d+):(\d+)", spec)
    if m:
        l1, o2, r = int(m.group(1)) // 4096, int(m.group(2)) // 4096, int(m.group(3))
        total = r * l1 + (n - o2)
        return [(r if i < l1 else 1 if i >= o2 else 0) / total for i in range(n)]
    raise ValueError(f"unknown distribution '{spec}'")


def oracle_curve(spec, hot_mib):
    """share an oracle serves with k pages of DRAM, for every k"""
    w = sorted(weights(spec, hot_mib * 256), reverse=True)
    cum = [0.0]
    for x in w:
        cum.append(cum[-1] + x)
    return cum


def load(path, meta):
    with open(path) as f:
        rows = [dict(t=float(r["t"]), hot=r["hot_gpa"], share=float(r["share"]),
                     oracle=float(r["oracle"]), dram=int(r["dram_mib"]), hot_mib=int(r["hot_mib"]),
                     hot_pages=int(r["hot_pages"]),
                     rep=float(r["rep_share"]) if r["rep_share"] else None,
                     rep_hot=int(r["rep_hot_mib"]) if r["rep_hot_mib"] else None)
                for r in csv.DictReader(f)]
    if not rows:
        return rows
    cum = oracle_curve(meta["weights"], rows[0]["hot_mib"])
    for r in rows:
        r["ratio"] = r["share"] / r["oracle"] if r["oracle"] else 0.0
        used = cum[min(r["dram"] * 256, len(cum) - 1)]
        r["used"] = r["share"] / used if used else 0.0
    return rows


def read_meta(path):
    try:
        with open(path) as f:
            return dict(line.strip().split("=", 1) for line in f if "=" in line)
    except OSError:
        return {}


def at(rows, t, key="ratio"):
    before = [r for r in rows if r["t"] <= t + 0.5]
    return f"{before[-1][key]:.2f}" if before else "-"


def t90(rows):
    hit = next((r["t"] for r in rows if r["ratio"] >= 0.9), None)
    return f"{hit:.0f}s" if hit is not None else "never"


def phases(rows):
    """per hot range after the first (hot before the mode started): seconds
    from its first sample to 90% of the oracle, or >N s when not within the
    N seconds it was watched"""
    groups = []
    for r in rows:
        if not groups or r["hot"] != groups[-1][0]["hot"]:
            groups.append([])
        groups[-1].append(r)
    out = []
    for g in groups[1:]:
        hit = next((r["t"] for r in g if r["ratio"] >= 0.9), None)
        out.append(f"{hit - g[0]['t']:.0f}s" if hit is not None else f">{g[-1]['t'] - g[0]['t']:.0f}s")
    return out


def reported(rows):
    both = [r for r in rows if r["rep"] is not None]
    if not both:
        return "-", 0, "-"
    mad = sum(abs(r["rep"] - r["share"]) for r in both) / len(both)
    hot = [r for r in both if r["rep_hot"] is not None]
    ratio = sum(r["rep_hot"] * 256 / r["hot_pages"] for r in hot) / len(hot) if hot else None
    return f"{mad:.2f}", len(both), f"{ratio:.2f}" if ratio is not None else "-"


def status_end(csv_path):
    """the run's guest as vmtier status gave it at its end ([]: none); of
    two guests at once (P+Q.gN), guest N's (named MODE-P-gN)"""
    base, g = re.match(r"(.*?)(?:\.g(\d+))?$", csv_path[:-4]).groups()
    try:
        with open(base + "-status.json") as f:
            vms = json.load(f).get("vms", [])
    except (OSError, ValueError):
        return []
    return [v for v in vms if v.get("name", "").endswith(f"-g{g}")] if g else vms


def chunk_moves(vms):
    """max_chunk_moves of the run's guests"""
    try:
        return str(max(int(v["max_chunk_moves"]) for v in vms))
    except (ValueError, KeyError):
        return "-"


def moved(vms):
    """MiB promoted/demoted by vmtierd in the run (each run has a history
    of its own since 2026-12-07: before, status carried totals over from
    the same guest's earlier run)"""
    try:
        return "/".join(str(sum(int(v[k]) for v in vms) >> 20) for k in ("promoted_bytes", "demoted_bytes"))
    except (ValueError, KeyError):
        return "-"


def main():
    d, quota = sys.argv[1], int(sys.argv[2])
    runs = {}
    for path in glob.glob(f"{d}/*.csv"):
        name = os.path.basename(path)[:-4]
        for m in sorted(MODES, key=len, reverse=True):
            for g in sorted(REGIMES, key=len, reverse=True):
                if name.startswith(f"{m}-{g}-"):
                    runs[(name[len(m) + len(g) + 2:], m, g)] = path
                    break
            else:
                continue
            break
    rates, flushes = {}, {}
    for p in PATTERNS + sorted({k[0] for k in runs} - set(PATTERNS)):
        keys = [(p, m, g) for m in MODES for g in REGIMES if (p, m, g) in runs]
        if not keys:
            continue
        loaded = {}
        for k in keys:
            meta = read_meta(runs[k][:-4] + ".meta")
            rows = load(runs[k], meta) if meta else []
            if rows:
                loaded[k] = rows
                rates[k] = int(meta.get("accesses_per_s", 0))
                flushes[k] = meta.get("flush_per_s") or "-"
        if not loaded:
            continue
        first = next(iter(loaded.values()))[0]
        print(f"quality pattern={p} hot={first['hot_mib']}MiB quota={quota}MiB"
              f" oracle_share={first['oracle']:.3f} (figures: DRAM access share / oracle)")
        print(f"{'mode':13} {'tlb':11} {'@10s':>5} {'@30s':>5} {'@60s':>5} {'mean':>5} {'t90':>6} {'dram_max':>8}"
              f" {'used@60':>7} {'rep_mad':>7} {'rep_n':>5} {'hot_rep/true':>12} {'acc/s':>7} {'flush/s':>7}"
              f" {'mv/chunk':>8} {'prom/dem MiB':>12}"
              + ("  t90 per new hot range" if p.startswith("shift") else ""))
        for (_, m, g), r in loaded.items():
            vms = status_end(runs[(p, m, g)])
            mean = sum(x["ratio"] for x in r) / len(r)
            mad, n, hot = reported(r)
            line = (f"{m:13} {g:11} {at(r, 10):>5} {at(r, 30):>5} {at(r, 60):>5} {mean:5.2f} {t90(r):>6}"
                    f" {max(x['dram'] for x in r):>5}MiB {at(r, 60, 'used'):>7} {mad:>7} {n:>5} {hot:>12}"
                    f" {rates[(p, m, g)] if rates[(p, m, g)] >= 0 else '?':>7} {flushes[(p, m, g)]:>7}"
                    f" {chunk_moves(vms):>8} {moved(vms) if vms else '-':>12}")
            if p.startswith("shift"):
                line += "  " + (" ".join(phases(r)) or "-")
            print(line)
        print()


main()
