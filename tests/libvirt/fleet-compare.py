#!/usr/bin/python3
# fleet-compare.py VMTIER [--artifacts DIR] --host NAME TEXTDIR REPORT ...
#                  --stop CMD
# test-fleet.sh's Prometheus part: a node_exporter per host serves the
# metrics file its vmtierd writes in TEXTDIR, one real Prometheus scrapes
# them all every second (the instance label: the host's NAME), and
# `vmtier report --prometheus URL --tenant acme` must give per VM and host
# the intervals met, missed and not judged, and the warm-up, hot set,
# coverage, DRAM access share, DRAM and slow averages and GiB-hours, moves
# and days, that the host's own store gives (REPORT: the command that
# reads it, as `vmtier report --db DB`, run on that host; the figures as
# promlib.figures_differ compares them).  Twice:
# - while the daemons run, as of one second U: Prometheus holds the counts
#   of the last file it scraped before U, the store also the intervals
#   accounted since (up to a scrape interval's worth, the interval in
#   flight).  The file's vmtier_vm_last_sample_timestamp_seconds says as of
#   which account it was written (the store's rows of that account carry
#   the same second), so the store's report --until that second must equal
#   Prometheus's exactly; what the store had beyond it at U is shown, not
#   judged.
# - after CMD stopped every daemon and Prometheus scraped their last files:
#   the whole run, exactly, without a period.
# The fleet page (--format html) as of U: a row per VM and host, with the
# JSON's verdict.
import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit"))
from promlib import (Stack, Tap, api, counts_from_store, fleet_differs, html_rows, missing,  # noqa: E402
                     store_figures, verdict_of)

TENANT = "acme"
tap = Tap()
check = tap.check


def when(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def fleet_report(vmtier, url, fmt, *more):
    r = subprocess.run([vmtier, "report", "--prometheus", url, "--tenant", TENANT, "--format", fmt] + list(more),
                       capture_output=True, text=True)
    check(r.returncode == 0, "vmtier report --prometheus --tenant %s --format %s %s" % (TENANT, fmt, " ".join(more)),
          r.stderr)
    return r.stdout if r.returncode == 0 else None


def counts_of(fleet):
    """{(instance, vm): (met, missed, not_judged)} of --format json."""
    return {(v["instance"], v["vm"]): (v["intervals_met"], v["intervals_missed"], v["intervals_not_judged"])
            for v in (fleet["vms"] if fleet else [])}


def vms_of(fleet):
    """{(instance, vm): its object} of --format json."""
    return {(v["instance"], v["vm"]): v for v in (fleet["vms"] if fleet else [])}


def figures_line(fleet):
    return "; ".join("%s: coverage %s, DRAM %s B avg, %s GiB-h, slow %s GiB-h, %d day(s)" % (
        vm, v["avg_hot_coverage"], v["avg_dram_bytes"], v["dram_gib_hours"], v["slow_gib_hours"], len(v["days"]))
        for (_, vm), v in sorted(vms_of(fleet).items()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vmtier")
    ap.add_argument("--artifacts")
    ap.add_argument("--host", nargs=3, action="append", metavar=("NAME", "TEXTDIR", "REPORT"), required=True)
    ap.add_argument("--stop", required=True)
    a = ap.parse_args()
    if missing():
        print("1..0 # SKIP %s is not installed (scripts/vmtier-dev deps installs it)" % missing())
        return 77
    names = [h[0] for h in a.host]
    report = {h[0]: shlex.split(h[2]) for h in a.host}
    files = [os.path.join(h[1], "vmtier.prom") for h in a.host]
    artifacts = a.artifacts or "."
    stack = Stack([h[1] for h in a.host], names=names)
    try:
        # past the classes' grace (test-fleet.sh: 20 s), a few judged
        # intervals on every host, in Prometheus (U below comes after these
        # scrapes: a U before them gave a report with no VM)
        q = ('count(sum by (instance) (vmtier_vm_slo_intervals_total{result=~"met|missed"}) >= 3) == %d'
             % len(names))
        took = stack.wait(q, ceiling=300)
        check(took is not None, "Prometheus scrapes both hosts, each with judged intervals (%s s)"
              % ("%.0f" % took if took is not None else "none in 300"), stack.log())
        if took is None:
            return tap.done()

        # running: as of one second U, the next whole one (the scrapes the
        # wait saw are before it), asked 3 s after it, when every scrape
        # that started before U is stored (1 s interval, so 1 s timeout).
        # Asked at U, one that started just before could land between the
        # report's query and ours, each then seeing a different last file.
        u = int(time.time()) + 1
        time.sleep(max(0.0, u + 3 - time.time()))
        text = fleet_report(a.vmtier, stack.url, "json", "--until", when(u))
        fleet = json.loads(text) if text else None
        got = counts_of(fleet)
        check(sorted({i for i, _ in got}) == sorted(names),
              "every host's VMs, told apart by instance: %s" % sorted(got), got)
        last = {(s["metric"]["instance"], s["metric"]["domain"]): int(float(s["value"][1]))
                for s in api(stack.url, "query", query="vmtier_vm_last_sample_timestamp_seconds", time=u)["result"]}
        want, later = {}, {}
        for (inst, vm) in got:
            asof = last.get((inst, vm))
            want[(inst, vm)] = counts_from_store(report[inst], TENANT, "--vm", vm, "--until",
                                                 when(asof)).get(vm) if asof else None
            at_u = counts_from_store(report[inst], TENANT, "--vm", vm, "--until", when(u)).get(vm)
            later[(inst, vm)] = "%s: file as of U-%s s, the store at U %s" % (vm, u - asof if asof else "?", at_u)
        check(got and got == want and all(sum(c[:2]) > 0 for c in got.values()),
              "running: per VM and host, met/missed/not judged equal the host's store up to the account "
              "Prometheus last scraped (%s)" % "; ".join("%s %s" % (vm, c) for (_, vm), c in sorted(got.items())),
              "got %r\nwant %r" % (got, want))
        print("# beyond Prometheus's last scrape (not judged): " + "; ".join(later.values()))
        bad = {}
        for (inst, vm), v in vms_of(fleet).items():
            asof = last.get((inst, vm))
            want_fig = store_figures(report[inst], TENANT, "--vm", vm, "--until", when(asof)).get(vm) if asof else None
            bad[vm] = fleet_differs(v, want_fig) if want_fig else "no store figures"
        check(bad and not any(bad.values()),
              "running: per VM and host, warm-up, coverage, DRAM access share, DRAM and slow averages and GiB-hours, "
              "moves and days equal the host's store up to the same account (%s)" % figures_line(fleet), bad)

        # the page, as of the same U
        page = fleet_report(a.vmtier, stack.url, "html", "--until", when(u))
        rows = html_rows(page) if page else []
        want_rows = sorted((verdict_of(v), v["vm"], v["instance"]) for v in (fleet or {"vms": []})["vms"])
        check(page and rows and sorted(rows) == want_rows and len(rows) == len(got),
              "the fleet page: a row per VM and host with the JSON's verdict (%s)" % sorted(rows),
              "got %r\nwant %r" % (sorted(rows), want_rows))
        with open(os.path.join(artifacts, "fleet.html"), "w") as f:
            f.write(page or "")

        # stopped: the whole run
        r = subprocess.run(["bash", "-c", a.stop], capture_output=True, text=True)
        check(r.returncode == 0, "every vmtierd stopped", r.stdout + r.stderr)
        written = max(os.path.getmtime(p) for p in files)
        took = stack.wait("min(timestamp(vmtier_vm_slo_intervals_total)) > %.3f" % written, ceiling=120)
        check(took is not None, "Prometheus scraped both hosts' last files", stack.log())
        text = fleet_report(a.vmtier, stack.url, "json")
        fleet = json.loads(text) if text else None
        got = counts_of(fleet)
        want = {(h, vm): c for h in names for vm, c in counts_from_store(report[h], TENANT).items()}
        check(got == want and sorted({i for i, _ in got}) == sorted(names),
              "stopped: per VM and host, the whole run's met/missed/not judged equal each host's store (%s)"
              % "; ".join("%s %s" % (vm, c) for (_, vm), c in sorted(got.items())),
              "got %r\nwant %r" % (got, want))
        figs = {(h, vm): f for h in names for vm, f in store_figures(report[h], TENANT).items()}
        fv = vms_of(fleet)
        bad = {vm: fleet_differs(fv[(h, vm)], f) if (h, vm) in fv else "not in the fleet report"
               for (h, vm), f in figs.items()}
        check(figs and sorted(figs) == sorted(fv) and not any(bad.values()),
              "stopped: per VM and host, the whole run's warm-up, coverage, DRAM access share, DRAM and slow averages "
              "and GiB-hours, moves and days equal each host's store (%s)" % figures_line(fleet), bad)
        with open(os.path.join(artifacts, "fleet.json"), "w") as f:
            f.write(text or "")
    finally:
        stack.close()
    return tap.done()


sys.exit(main())
