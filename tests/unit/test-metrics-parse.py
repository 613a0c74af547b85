#!/usr/bin/python3
# test-metrics-parse.py HISTORY_GEN: the textfile-collector file vmtierd
# writes (vmt_metrics_write, through history-gen), read by a strict
# line-by-line check of the text format 0.0.4 and by the Prometheus client
# library's own parser and promtool check metrics; every value must equal
# the history store's (its last interval, totals and the count of its rows).
# /usr/bin/python3 on purpose: python3-prometheus-client is Debian's.
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("1..0 # SKIP python3-prometheus-client is not installed (scripts/vmtier-dev deps installs it)")
    sys.exit(0)

n = 0
failed = 0


def check(ok, what, detail=""):
    global n, failed
    n += 1
    print(("ok %d - %s" if ok else "not ok %d - %s") % (n, what))
    if not ok:
        failed += 1
        for line in str(detail).splitlines():
            print("# " + line)


NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
VALUE = r"(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf)"
SAMPLE = re.compile(r"^(%s)(?:\{((?:%s)(?:,%s)*)?\})? (%s)(?: -?[0-9]+)?$" % (NAME, LABEL, LABEL, VALUE))
HELP = re.compile(r"^# HELP (%s) (?:[^\\\n]|\\[\\n])*$" % NAME)
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)
UNITS = ("_bytes", "_ratio", "_seconds", "_total", "_info", "_connected")
# the classes of xml-templates/classes that history-gen's VMs use
CLASSES = {
    c: {"vmtier_vm_slo_coverage_target_ratio": t, "vmtier_vm_slo_intervals_target_ratio": i,
        "vmtier_vm_slo_grace_seconds": 300}
    for c, t, i in (("budget", 0.95, 0.99), ("standard", 0.98, 0.99), ("premium", 0.995, 0.999))
}


def unescape(v):
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), v)


def strict(text):
    """Families in order: {name: (type, [(labels, value)])}; raises on any violation."""
    if not text.endswith("\n"):
        raise ValueError("no final newline")
    families, current, helped, seen = {}, None, set(), set()
    for i, line in enumerate(text.split("\n")[:-1], 1):
        if m := HELP.match(line):
            if m.group(1) in helped:
                raise ValueError("line %d: second HELP for %s" % (i, m.group(1)))
            helped.add(m.group(1))
        elif m := TYPE.match(line):
            name = m.group(1)
            if name in families:
                raise ValueError("line %d: second TYPE for %s" % (i, name))
            if name not in helped:
                raise ValueError("line %d: TYPE before HELP for %s" % (i, name))
            families[name] = (m.group(2), [])
            current = name
        elif m := SAMPLE.match(line):
            name = m.group(1)
            if name != current:
                raise ValueError("line %d: %s outside its family (or before its TYPE)" % (i, name))
            labels = dict((k, unescape(v)) for k, v in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            key = (name, tuple(sorted(labels.items())))
            if key in seen:
                raise ValueError("line %d: duplicate series %s" % (i, line))
            seen.add(key)
            families[name][1].append((labels, float(m.group(3))))
        else:
            raise ValueError("line %d does not parse: %r" % (i, line))
    return families


def main():
    gen = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        db, prom = os.path.join(tmp, "history.db"), os.path.join(tmp, "vmtier.prom")
        subprocess.run([gen, db, prom], check=True)
        check(sorted(os.listdir(tmp)) == ["history.db", "vmtier.prom"], "no temporary file left beside the .prom file",
              os.listdir(tmp))
        with open(prom, encoding="utf-8") as f:
            text = f.read()
        con = sqlite3.connect(db)
        con.row_factory = sqlite3.Row
        last = {r["vm"]: r for r in con.execute(
            "SELECT * FROM samples s WHERE ts = (SELECT max(ts) FROM samples WHERE vm = s.vm)")}
        totals = {r["vm"]: r for r in con.execute("SELECT * FROM totals")}
        counted = {(vm, {1: "met", 0: "missed", -1: "not_judged"}[met]): c for vm, met, c in con.execute(
            "SELECT vm, slo_met, count(*) FROM samples GROUP BY vm, slo_met")}
        con.row_factory = None
        summed = {r[0]: dict(zip(("seconds", "slo_warm_up", "dram_byte_seconds", "slow_byte_seconds",
                                  "hot_byte_seconds", "hot_coverage_seconds", "hot_observed_seconds",
                                  "dram_access_share_seconds", "access_observed_seconds"), r[1:]))
                  for r in con.execute(
            "SELECT vm, sum(interval_s), sum(slo_grace), sum(interval_s * 1.0 * dram_bytes),"
            " sum(interval_s * 1.0 * slow_bytes), sum(interval_s * 1.0 * hot_bytes),"
            " total(CASE WHEN hot_bytes > 0 AND hot_coverage >= 0 THEN interval_s * hot_coverage END),"
            " total(CASE WHEN hot_bytes > 0 AND hot_coverage >= 0 THEN interval_s END),"
            " total(CASE WHEN dram_access_share >= 0 THEN interval_s * dram_access_share END),"
            " total(CASE WHEN dram_access_share >= 0 THEN interval_s END) FROM samples GROUP BY vm")}
        con.close()

    try:
        fams = strict(text)
        check(True, "every line follows the text format 0.0.4 (HELP, TYPE, grouped samples, escapes)")
    except ValueError as e:
        check(False, "every line follows the text format 0.0.4 (HELP, TYPE, grouped samples, escapes)", e)
        fams = {}

    try:
        parsed = {f.name: f for f in text_string_to_metric_families(text)}
        check(True, "prometheus_client's parser reads the file")
    except Exception as e:  # noqa: BLE001 - any parser error is the failure
        check(False, "prometheus_client's parser reads the file", e)
        parsed = {}

    bad = [k for k, (t, _) in fams.items()
           if not k.startswith(("vmtier_vm_", "vmtier_node_", "vmtier_host_", "vmtier_daemon_"))
           or not k.endswith(UNITS) or (t == "counter") != k.endswith("_total")]
    check(fams and not bad, "names: vmtier_ prefix, unit suffix, _total exactly on counters", bad)

    # Prometheus's own linter (Debian's prometheus package)
    if shutil.which("promtool"):
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        check(r.returncode == 0 and not r.stdout.strip(), "promtool check metrics: no problem found",
              r.stdout + r.stderr)
    else:
        print("ok %d - # SKIP promtool is not installed (scripts/vmtier-dev deps installs prometheus)" % (n + 1))
        globals()["n"] += 1

    want_fams = {"vmtier_vm_info", "vmtier_vm_dram_quota_bytes", "vmtier_vm_dram_bytes", "vmtier_vm_slow_bytes",
                 "vmtier_vm_hot_bytes", "vmtier_vm_hot_coverage_ratio", "vmtier_vm_dram_access_share_ratio",
                 "vmtier_vm_promoted_bytes_total", "vmtier_vm_demoted_bytes_total", "vmtier_vm_move_calls_total",
                 "vmtier_vm_move_failed_pages_total", "vmtier_vm_slo_intervals_total",
                 "vmtier_vm_slo_coverage_target_ratio", "vmtier_vm_slo_intervals_target_ratio",
                 "vmtier_vm_slo_warm_up_intervals_total", "vmtier_vm_accounted_seconds_total",
                 "vmtier_vm_memory_byte_seconds_total", "vmtier_vm_hot_byte_seconds_total",
                 "vmtier_vm_hot_coverage_seconds_total", "vmtier_vm_hot_observed_seconds_total",
                 "vmtier_vm_dram_access_share_seconds_total", "vmtier_vm_access_observed_seconds_total",
                 "vmtier_daemon_info", "vmtier_daemon_start_time_seconds", "vmtier_daemon_libvirt_connected",
                 "vmtier_daemon_scan_duration_seconds_total", "vmtier_node_info", "vmtier_node_capacity_bytes",
                 "vmtier_node_committed_bytes", "vmtier_host_dram_reserve_bytes"}
    check(want_fams <= set(fams), "the promised metric families are there", want_fams - set(fams))

    # the client library names counters without _total; its samples keep it
    lib = {}
    for fam in parsed.values():
        for s in fam.samples:
            lib[(s.name, tuple(sorted(s.labels.items())))] = s.value

    total_col = {"move_calls": "migrations", "move_failed_pages": "move_errors", "scan_windows": "windows",
                 "slo_warm_up_intervals": "slo_warm_up", "accounted_seconds": "seconds"}
    mismatches = []
    for name, (_, samples) in fams.items():
        if not name.startswith("vmtier_vm_"):
            continue
        for labels, value in samples:
            vm = labels["domain"]
            row, tot = last[vm], totals[vm]
            want_labels = {"domain": vm}
            if name == "vmtier_vm_slo_intervals_total":
                want = tot["slo_" + labels["result"]]
                want_labels["result"] = labels["result"]
            elif name == "vmtier_vm_memory_byte_seconds_total":
                want = tot[labels.get("tier", "?") + "_byte_seconds"]
                want_labels["tier"] = labels["tier"]
            elif name.endswith("_total"):
                col = name[len("vmtier_vm_"):-len("_total")]
                want = tot[total_col.get(col, col)]
            elif name == "vmtier_vm_info":
                want = 1
                want_labels.update(tenant=row["tenant"], scanner=row["scanner"])
                want_labels["class"] = row["class"] or ""
            elif name == "vmtier_vm_last_sample_timestamp_seconds":
                want = row["ts"]
            elif name == "vmtier_vm_last_interval_seconds":
                want = row["interval_s"]
            elif name == "vmtier_vm_dram_quota_bytes":
                want = row["quota_bytes"]
            elif name.startswith("vmtier_vm_slo_"):
                want = CLASSES[row["class"]][name]
            elif name.endswith("_ratio"):
                want = row[name[len("vmtier_vm_"):-len("_ratio")]]
            else:
                want = row[name[len("vmtier_vm_"):]]
            if value != want or labels != want_labels:
                mismatches.append((name, labels, value, want_labels, want))
            if lib.get((name, tuple(sorted(labels.items())))) != value:
                mismatches.append(("library read", name, labels))
    check(fams and not mismatches, "every VM value and label equals the store's last interval, totals and class, "
          "read alike by both parsers", "\n".join(map(repr, mismatches[:10])))

    # the SLO counters are the store's own count of judged intervals
    wrong = [(vm, r, counted.get((vm, r)), tot["slo_" + r]) for vm, tot in totals.items()
             for r in ("met", "missed", "not_judged") if counted.get((vm, r), 0) != tot["slo_" + r]]
    check(totals and not wrong, "slo_intervals_total{result} counts the store's intervals by judgement", wrong)

    # the sums behind coverage and residency are the store's sums over its
    # intervals, as the report computes them (report.c's acc_add)
    wrong = []
    for vm, tot in totals.items():
        for col in ("seconds", "slo_warm_up", "dram_byte_seconds", "slow_byte_seconds", "hot_byte_seconds",
                    "hot_coverage_seconds", "hot_observed_seconds", "dram_access_share_seconds",
                    "access_observed_seconds"):
            if abs(tot[col] - summed[vm][col]) > 1e-12 * max(1, abs(summed[vm][col])):
                wrong.append((vm, col, tot[col], summed[vm][col]))
    check(totals and not wrong, "the residency, coverage and warm-up sums are the store's sums over its intervals",
          wrong)

    with_target = {l["domain"] for l, _ in fams.get("vmtier_vm_slo_coverage_target_ratio", (None, []))[1]}
    check(with_target == {vm for vm, r in last.items() if r["class"] in CLASSES},
          "SLO targets only for VMs whose class has an SLO (none for no class or a missing class file)", with_target)

    nodes = {l["node"]: v for l, v in fams.get("vmtier_node_capacity_bytes", (None, []))[1]}
    kinds = {l["node"]: (l["kind"], l["tier"]) for l, _ in fams.get("vmtier_node_info", (None, []))[1]}
    check(nodes == {"0": 16 << 30, "1": 16 << 30, "2": 64 << 30} and kinds["2"] == ("pmem", "22"),
          "node capacity, kind and tier as given", (nodes, kinds))

    odd = "=cmd|' /C calc'!A0,\"<b>odd</b>\" \\ new\nline"
    tenants = {l["tenant"] for l, _ in fams.get("vmtier_vm_info", (None, []))[1]}
    check(odd in tenants, "a tenant with quote, backslash and newline survives escaping", tenants)

    print("1..%d" % n)
    return 1 if failed else 0


sys.exit(main())
