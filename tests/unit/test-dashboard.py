#!/usr/bin/python3
# test-dashboard.py CONTRIB TEXTFILE_DIR|--gen HISTORY_GEN [--artifacts DIR]: the
# Grafana dashboard and the rules of CONTRIB (the source's contrib/) against
# a real Prometheus: node_exporter's textfile collector serves the .prom
# files of TEXTFILE_DIR (history-gen's, or a real vmtierd's in the test
# host), Debian's prometheus scrapes it every second with the rules loaded,
# and every variable and panel query of the dashboard must return at least
# one number that is not NaN.  Rates need counters that move: a real
# vmtierd's do; history-gen's file is rewritten once with every counter one
# higher.  Time-series panels are queried over the last 10 minutes, as
# Grafana draws them; tables at the instant.  Grafana is not packaged in
# Debian; its variables are substituted as Grafana would with "All".
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from promlib import Stack, Tap, api, missing  # noqa: E402

tap = Tap()
check = tap.check


ALL = {"$instance": ".*", "$tenant": ".*", "$domain": ".*", "$__rate_interval": "1m",
       "$__range": "30d", "${datasource}": ""}


def substitute(expr):
    for k in sorted(ALL, key=len, reverse=True):
        expr = expr.replace(k, ALL[k])
    return expr


def bump(path):
    """Every counter of PATH one higher, the file replaced at once."""
    out = []
    with open(path) as f:
        for line in f:
            name, _, value = line.rstrip("\n").rpartition(" ")
            if not line.startswith("#") and re.match(r"\w+_total[{ ]", name + " "):
                line = "%s %s\n" % (name, repr(float(value) + 1))
            out.append(line)
    with open(path + ".tmp", "w") as f:
        f.writelines(out)
    os.replace(path + ".tmp", path)


def main():
    args = sys.argv[1:]
    artifacts = args[args.index("--artifacts") + 1] if "--artifacts" in args else None
    contrib, textdir = args[0], args[1]
    gen = textdir == "--gen"
    if gen:	# history-gen's file, in a directory of its own
        textdir = tempfile.mkdtemp(prefix="vmtier-textfile-")
        subprocess.run([args[2], os.path.join(textdir, "history.db"), os.path.join(textdir, "vmtier.prom")],
                       check=True)
    if missing():
        print("1..0 # SKIP %s is not installed (scripts/vmtier-dev deps installs it)" % missing())
        return 77
    with open(os.path.join(contrib, "grafana", "vmtier-dashboard.json")) as f:
        dash = json.load(f)
    rules = os.path.abspath(os.path.join(contrib, "prometheus", "vmtier-rules.yml"))

    names = [v["name"] for v in dash["templating"]["list"]]
    check(names == ["datasource", "instance", "tenant", "domain"], "variables: datasource, instance, tenant, domain",
          names)
    titles = [p["title"] for p in dash["panels"]]
    want = ["DRAM and slow tier, with the quota", "Hot coverage against the SLO target", "SLO compliance, last 30 days",
            "Promotion and demotion rates", "Move failures", "Host DRAM: committed against capacity"]
    check(all(t in titles for t in want), "the panels the issue asks for are there", titles)
    unbound = [(p["title"], t["expr"]) for p in dash["panels"] for t in p["targets"]
               if t["datasource"]["uid"] != "${datasource}" or
               ("vmtier_vm_" in t["expr"] and not all(v in t["expr"] for v in ("$instance", "$tenant", "$domain")))]
    check(not unbound, "every query uses the datasource variable, and every VM query all three filters", unbound)

    stack = Stack([textdir], rules)
    try:
        url = stack.url
        # rates need two points; the rules one evaluation
        took = stack.wait("rate(vmtier_daemon_scan_windows_total[1m]) >= 0 and on () "
                          "count(vmtier:host_dram_capacity_bytes:sum) > 0")
        check(took is not None, "Prometheus scrapes vmtierd's file through node_exporter and evaluates the rules "
              "(%s s)" % ("%.0f" % took if took is not None else "over 180"), stack.log())
        if took is None:
            return 1
        if gen:
            bump(os.path.join(textdir, "vmtier.prom"))
        # ratios of judged intervals need a judged interval inside
        # Prometheus's own samples (a rise between two scrapes); until then
        # the panels rightly show no data
        took = stack.wait('increase(vmtier_vm_slo_intervals_total{result=~"met|missed"}[1h]) > 0 and on () '
                          'rate(vmtier_daemon_scan_windows_total[1m]) > 0')
        check(took is not None, "Prometheus saw an interval judged and a window scanned (%s s)"
              % ("%.0f" % took if took is not None else "none in 180"), stack.log())

        for v in dash["templating"]["list"][1:]:
            m = re.fullmatch(r"label_values\((.*), (\w+)\)", v["query"]["query"])
            values = api(url, "label/%s/values" % m.group(2), **{"match[]": substitute(m.group(1))})
            check(values, "variable %s lists values (%s)" % (v["name"], ", ".join(values)[:200]), v["query"])

        results = {}
        for p in dash["panels"]:
            for t in p["targets"]:
                expr = substitute(t["expr"])
                # a time-series panel draws a range: a gauge vmtierd leaves
                # out while its sensor is blind (hot coverage) is a gap in
                # it, not an empty panel; tables show the instant
                ranged = p["type"] == "timeseries"
                try:
                    if ranged:
                        now = time.time()
                        res = api(url, "query_range", query=expr, start=now - 600, end=now, step=2)["result"]
                    else:
                        res = api(url, "query", query=expr)["result"]
                except Exception as e:  # noqa: BLE001 - a bad query is the failure
                    res, err = [], e
                else:
                    err = ""
                vals = [float(v[1]) for r in res for v in r["values"]] if ranged else \
                    [float(r["value"][1]) for r in res]
                good = [x for x in vals if not math.isnan(x)]
                results["%s / %s" % (p["title"], t["legendFormat"])] = vals
                check(res and good,
                      "panel '%s', query %s: %d series%s" % (p["title"], t["refId"], len(res),
                                                            ", numbers" if good else ", NaN only" if res else ""),
                      "%s\n%s" % (expr, err))
        # the recording rules the alerts build on
        for rec in ("vmtier:vm_slo_error_budget:ratio", "vmtier:host_dram_committed_bytes:sum",
                    "vmtier:vm_slo_miss_ratio:rate5m"):
            res = api(url, "query", query=rec)["result"]
            check(res, "recording rule %s has data" % rec)
        if artifacts:
            os.makedirs(artifacts, exist_ok=True)
            with open(os.path.join(artifacts, "dashboard-queries.json"), "w") as f:
                json.dump(results, f, indent=1)
    finally:
        stack.close()
    return tap.done()


sys.exit(main())
