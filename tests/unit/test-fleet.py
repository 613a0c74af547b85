#!/usr/bin/python3
# test-fleet.py VMTIER HISTORY_GEN: two hosts' vmtierd metrics (history-gen's
# stores and textfiles: host a, and host b with web1 and db1 of its own)
# served by two node_exporters and scraped by one real Prometheus;
# `vmtier report --prometheus URL` gives per VM and host the intervals met,
# missed and not judged, and the coverage, residency and moves, that each
# host's own store holds (its `vmtier report --db`), the tenant filter
# holds, and bad URLs are refused.  Each file is one account (history-gen's
# last, in January 2024: hence --since) holding the whole history, so its
# figures all go to the day that account's interval began.
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from promlib import (Stack, Tap, counts_from_store, fleet_differs, html_rows, missing, store_figures,  # noqa: E402
                     verdict_of)

tap = Tap()
check = tap.check
SINCE = ("--since", "2024-01-01")	# history-gen's accounts end in January 2024


def run(*argv):
    return subprocess.run(argv, capture_output=True, text=True)


def main():
    vmtier, gen = sys.argv[1], sys.argv[2]
    if missing():
        print("1..0 # SKIP %s is not installed (scripts/vmtier-dev deps installs it)" % missing())
        return 77
    os.environ.setdefault("VMTIER_TEMPLATE_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "xml-templates"))
    tmp = tempfile.mkdtemp(prefix="vmtier-fleet-")
    dirs = {}
    for host in ("a", "b"):
        dirs[host] = os.path.join(tmp, host)
        os.mkdir(dirs[host])
        subprocess.run([gen, os.path.join(tmp, host + ".db"), os.path.join(dirs[host], "vmtier.prom")]
                       + (["b"] if host == "b" else []), check=True)
    stack = Stack([dirs["a"], dirs["b"]])
    host_of = dict(zip(stack.instances, ("a", "b")))
    try:
        took = stack.wait("count(count by (instance) (vmtier_vm_slo_intervals_total)) == 2")
        check(took is not None, "Prometheus scrapes both hosts", stack.log())
        if took is None:
            return 1
        time.sleep(2)	# the report asks as of a whole second: past the first scrapes

        r = run(vmtier, "report", "--prometheus", stack.url, "--tenant", "acme", "--format", "json", *SINCE)
        check(r.returncode == 0, "vmtier report --prometheus --tenant acme --format json", r.stderr)
        fleet = json.loads(r.stdout) if r.returncode == 0 else {"vms": []}
        got = {(host_of.get(v["instance"]), v["vm"]): (v["intervals_met"], v["intervals_missed"], v["intervals_not_judged"])
               for v in fleet["vms"]}
        want = {(h, vm): c for h in ("a", "b") for vm, c in
                counts_from_store([vmtier, "report", "--db", os.path.join(tmp, h + ".db")], "acme").items()}
        check(got == want and len(got) == 4, "per VM and host, the intervals met, missed and not judged equal each "
              "host's own store (the same domain on two hosts kept apart)", "got %r\nwant %r" % (got, want))
        figs = {h: store_figures([vmtier, "report", "--db", os.path.join(tmp, h + ".db")], "acme") for h in ("a", "b")}
        bad = {(host_of.get(v["instance"]), v["vm"]): fleet_differs(v, (figs[host_of[v["instance"]]][v["vm"]][0], None))
               for v in fleet["vms"] if host_of.get(v["instance"]) in figs}
        check(len(bad) == 4 and not any(bad.values()), "per VM and host, the warm-up, hot set, coverage, DRAM access "
              "share, DRAM and slow averages and GiB-hours and moves equal each host's own store (db1's two classes "
              "summed)", bad)
        days = {(host_of.get(v["instance"]), v["vm"]): [d["date"] for d in v["days"]] for v in fleet["vms"]}
        check(days == {("a", "web1"): ["2024-01-02"], ("a", "db1"): ["2024-01-02"], ("b", "web1"): ["2024-01-01"],
                       ("b", "db1"): ["2024-01-01"]} and
              all(fleet_differs(v, (figs[host_of[v["instance"]]][v["vm"]][0], {v["days"][0]["date"]:
                  figs[host_of[v["instance"]]][v["vm"]][0]})) == [] for v in fleet["vms"]),
              "days: the figures go to the day each account's interval began (b's ended at midnight, began the "
              "day before)", days)
        check(all(v["tenant"] == "acme" for v in fleet["vms"]), "--tenant acme: only acme's VMs",
              [v["tenant"] for v in fleet["vms"]])
        web1 = [v for v in fleet["vms"] if v["vm"] == "web1"]
        store = json.loads(run(vmtier, "report", "--db", os.path.join(tmp, "a.db"), "--tenant", "acme", "--vm",
                               "web1", "--format", "json").stdout)["tenants"][0]["vms"][0]
        wa = [v for v in web1 if host_of.get(v["instance"]) == "a"]
        check(wa and wa[0]["slo_compliant"] == store["slo_compliant"] and
              round(wa[0]["compliance"], 6) == store["compliance"],
              "web1 on host a: the same compliance and verdict as its store's report", (wa, store["compliance"]))

        r = run(vmtier, "report", "--prometheus", stack.url, *SINCE)
        check(r.returncode == 0 and "globex" in r.stdout and "\\u000aline" in r.stdout,
              "without --tenant, every tenant; a name with a newline escaped in the table", r.stdout + r.stderr)
        r = run(vmtier, "report", "--prometheus", "ftp://x", "--tenant", "acme")
        check(r.returncode == 64 and "invalid --prometheus 'ftp://x'" in r.stderr, "a URL that is not http: 64",
              r.stderr)
        r = run(vmtier, "report", "--prometheus", stack.url, "--format", "csv")
        check(r.returncode == 64 and "--prometheus" in r.stderr, "--format csv with --prometheus: 64", r.stderr)
        # the page: well-formed, each VM and host with the JSON's verdict, names escaped
        r = run(vmtier, "report", "--prometheus", stack.url, "--format", "html", *SINCE)
        rows = html_rows(r.stdout) if r.returncode == 0 else []
        every = json.loads(run(vmtier, "report", "--prometheus", stack.url, "--format", "json", *SINCE).stdout)["vms"]
        want_rows = sorted((verdict_of(v), v["vm"], v["instance"]) for v in every)
        check(r.returncode == 0 and sorted(rows) == want_rows and any(x[0] in ("KEPT", "BROKEN") for x in rows),
              "--format html: a row per VM and host with the JSON's verdict (%d rows)" % len(rows),
              "got %r\nwant %r\n%s" % (sorted(rows), want_rows, r.stderr))
        check("<b>odd</b>" not in r.stdout and "&lt;b&gt;odd&lt;/b&gt;" in r.stdout,
              "--format html: a tenant named with markup is escaped", r.stdout[:400])
        r = run(vmtier, "report", "--prometheus", "http://127.0.0.1:1", "--tenant", "acme")
        check(r.returncode == 1 and "Prometheus at 127.0.0.1:1" in r.stderr, "nobody listening: 1, saying where",
              r.stderr)
    finally:
        stack.close()
    return tap.done()


sys.exit(main())
