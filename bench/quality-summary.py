#!/usr/bin/env python3
# quality-summary.py DIR QUOTA_MIB: the tiering-quality table from the
# per-second samples bench/quality.sh wrote to DIR/MODE-PATTERN.csv
# (t,hot_gpa,hot_mib,share,oracle,dram_mib).  Figures are share / oracle:
# the share of the guest's hot-set accesses that DRAM served, over what an
# oracle with the same DRAM quota would serve.  t90 is the first second at
# 90% of the oracle; for a shifting hot set also per new hot range.  The
# kernel's modes have no per-guest quota and may take more DRAM than it
# (dram_max), so "used@60" is the 60 s share over an oracle given all the
# DRAM the guest held then.
import csv
import os
import sys

MODES = ["static", "vmtierd", "vmtierd-sd", "vmtierd-damos", "nb2", "damos"]
PATTERNS = ["zipf", "shift"]


def oracle_at(pattern, dram_mib, hot_mib):
    """share an oracle serves with DRAM_MIB of DRAM (tests/guest draws zipf pages as u^3)"""
    f = min(dram_mib, hot_mib) / hot_mib
    return f ** (1 / 3) if pattern == "zipf" else f


def load(path, pattern):
    with open(path) as f:
        rows = [dict(t=float(r["t"]), hot=r["hot_gpa"], share=float(r["share"]),
                     oracle=float(r["oracle"]), dram=int(r["dram_mib"]), hot_mib=int(r["hot_mib"]))
                for r in csv.DictReader(f)]
    for r in rows:
        r["ratio"] = r["share"] / r["oracle"]
        used = oracle_at(pattern, r["dram"], r["hot_mib"])
        r["used"] = r["share"] / used if used else 0.0
    return rows


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


def main():
    d, quota = sys.argv[1], int(sys.argv[2])
    for p in PATTERNS:
        rows = {m: load(f"{d}/{m}-{p}.csv", p) for m in MODES if os.path.exists(f"{d}/{m}-{p}.csv")}
        rows = {m: r for m, r in rows.items() if r}
        if not rows:
            continue
        first = next(iter(rows.values()))[0]
        print(f"quality pattern={p} hot={first['hot_mib']}MiB quota={quota}MiB"
              f" oracle_share={first['oracle']:.3f} (figures: DRAM access share / oracle)")
        print(f"{'mode':13} {'@10s':>5} {'@30s':>5} {'@60s':>5} {'mean':>5} {'t90':>6} {'dram_max':>8}"
              f" {'used@60':>7}" + ("  t90 per new hot range" if p == "shift" else ""))
        for m, r in rows.items():
            mean = sum(x["ratio"] for x in r) / len(r)
            line = (f"{m:13} {at(r, 10):>5} {at(r, 30):>5} {at(r, 60):>5} {mean:5.2f} {t90(r):>6}"
                    f" {max(x['dram'] for x in r):>5}MiB {at(r, 60, 'used'):>7}")
            if p == "shift":
                line += "  " + (" ".join(phases(r)) or "-")
            print(line)
        print()


main()
