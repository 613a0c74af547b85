# promlib: a real Prometheus for the tests (Debian's prometheus and
# prometheus-node-exporter), scraping node_exporter's textfile collector
# every second: one node_exporter (one "host") per textfile directory; and
# what the fleet tests compare (`vmtier report --prometheus` against each
# host's own `vmtier report --db`).
import html.parser
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

PROGRAMS = ("prometheus", "prometheus-node-exporter")


def missing():
    """The first program not installed, or None."""
    return next((p for p in PROGRAMS if not shutil.which(p)), None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(url, path, **params):
    q = urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen("%s/api/v1/%s?%s" % (url, path, q), timeout=30) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(body)
    return body["data"]


class Stack:
    """node_exporters for TEXTDIRS and a Prometheus scraping them (with
    RULES loaded, if given); .url, .instances (one per directory: its
    address, or its name in NAMES, the instance label Prometheus gives)."""

    def __init__(self, textdirs, rules=None, names=None):
        self.tmp = tempfile.mkdtemp(prefix="vmtier-prom-")
        self.procs, self.instances, targets = [], [], []
        for i, d in enumerate(textdirs):
            port = free_port()
            targets.append("127.0.0.1:%d" % port)
            self.instances.append(names[i] if names else targets[-1])
            self._start("node-exporter-%d" % port,
                        ["prometheus-node-exporter", "--web.listen-address=127.0.0.1:%d" % port,
                         "--collector.disable-defaults", "--collector.textfile",
                         "--collector.textfile.directory=" + d])
        with open(os.path.join(self.tmp, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n")
            if rules:
                f.write("rule_files:\n  - %s\n" % os.path.abspath(rules))
            f.write("scrape_configs:\n  - job_name: node\n    static_configs:\n")
            for t, i in zip(targets, self.instances):
                f.write("      - targets: ['%s']\n        labels: {instance: '%s'}\n" % (t, i))
        port = free_port()
        self.url = "http://127.0.0.1:%d" % port
        self._start("prometheus", ["prometheus", "--config.file=" + os.path.join(self.tmp, "prometheus.yml"),
                                   "--storage.tsdb.path=" + os.path.join(self.tmp, "data"),
                                   "--web.listen-address=127.0.0.1:%d" % port])

    def _start(self, name, argv):
        self.procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                           stderr=open(os.path.join(self.tmp, name + ".log"), "w")))

    def wait(self, query, ceiling=180):
        """Seconds until QUERY has a result (None after CEILING): a loaded
        machine starts slowly."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < ceiling:
            time.sleep(2)
            try:
                if api(self.url, "query", query=query)["result"]:
                    return time.monotonic() - t0
            except Exception:  # noqa: BLE001 - not up yet
                pass
        return None

    def log(self):
        with open(os.path.join(self.tmp, "prometheus.log")) as f:
            return f.read()[-2000:]

    def close(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def counts_from_store(report, tenant, *more):
    """{vm: (met, missed, not_judged)} from a host's own report (REPORT:
    the command, as `vmtier report --db DB`, MORE: further options), summed
    over the classes a VM had."""
    r = subprocess.run(list(report) + ["--tenant", tenant, "--format", "json"] + list(more),
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(report), r.stderr))
    out = {}
    for t in json.loads(r.stdout)["tenants"]:
        for v in t["vms"]:
            m = out.get(v["vm"], (0, 0, 0))
            out[v["vm"]] = (m[0] + v["intervals_met"], m[1] + v["intervals_missed"], m[2] + v["intervals_not_judged"])
    return out


# The figures `vmtier report --prometheus` rebuilds from the counters
# (docs/metrics.md), with how close they must come to the store's: counts
# exactly; the rest as printed (bytes rounded to 1, ratios to 6 digits,
# GiB-hours to 3 decimals), a sum of doubles against a difference of two.
COUNT_KEYS = ("intervals", "intervals_met", "intervals_missed", "intervals_not_judged", "intervals_warm_up",
              "promoted_bytes", "demoted_bytes", "migrations")
NEAR_KEYS = {"avg_dram_bytes": 1, "avg_slow_bytes": 1, "avg_hot_bytes": 1, "compliance": 1.5e-6,
             "avg_hot_coverage": 1.5e-6, "avg_dram_access_share": 1.5e-6, "dram_gib_hours": 0.0015,
             "slow_gib_hours": 0.0015}


def figures_of(o):
    """The compared figures of a VM's, a day's or a tenant's JSON object."""
    return {k: o[k] for k in COUNT_KEYS + tuple(NEAR_KEYS)}


def figures_differ(got, want):
    """[(key, got, want)] where GOT (figures_of) is not WANT's."""
    bad = []
    for k in COUNT_KEYS:
        if got[k] != want[k]:
            bad.append((k, got[k], want[k]))
    for k, tol in NEAR_KEYS.items():
        g, w = got[k], want[k]
        if (g is None) != (w is None) or (w is not None and abs(g - w) > tol * (1 + 1e-9 * abs(w))):
            bad.append((k, g, w))
    return bad


def store_figures(report, tenant, *more):
    """{vm: (figures, {date: figures} or None)} of a host's own report
    (REPORT, MORE: as counts_from_store): a VM's whole period (its tenant
    totals with --vm when it had several classes) and its days (None then:
    the store's report splits them by class)."""
    def run(*extra):
        r = subprocess.run(list(report) + ["--tenant", tenant, "--format", "json"] + list(more) + list(extra),
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(report), r.stderr))
        return json.loads(r.stdout)["tenants"]

    periods = {}
    for t in run():
        for v in t["vms"]:
            periods.setdefault(v["vm"], []).append(v)
    out = {}
    for vm, ps in periods.items():
        if len(ps) == 1:
            out[vm] = (figures_of(ps[0]), {d["date"]: figures_of(d) for d in ps[0]["days"]})
        else:
            out[vm] = (figures_of(run("--vm", vm)[0]["totals"]), None)
    return out


def fleet_differs(vm, want):
    """What of fleet VM (its --format json object) is not WANT (store_figures's)."""
    bad = [("period",) + b for b in figures_differ(figures_of(vm), want[0])]
    if want[1] is not None:
        days = {d["date"]: figures_of(d) for d in vm["days"]}
        if sorted(days) != sorted(want[1]):
            bad.append(("days", sorted(days), sorted(want[1])))
        else:
            bad += [(d,) + b for d in sorted(days) for b in figures_differ(days[d], want[1][d])]
    return bad


def verdict_of(v):
    """The page's verdict for a VM of --format json."""
    if v["slo_target"] is None:
        return "no SLO"
    return {True: "KEPT", False: "BROKEN", None: "nothing judged"}[v["slo_compliant"]]


def html_rows(text):
    """(verdict, VM, host) of each VM's row of the fleet page; raises on
    HTML that does not parse."""

    class P(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.row, self.cell = [], None, None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":	# a VM's row has its verdict's class (days' rows none)
                self.row = [] if dict(attrs).get("class") in ("kept", "broken", "none") else None
            elif tag in ("td", "th") and self.row is not None:
                self.cell = ""

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.row is not None and self.cell is not None:
                self.row.append(self.cell)
                self.cell = None
            elif tag == "tr" and self.row is not None:
                if self.row and self.row[0] != "verdict":
                    self.rows.append((self.row[0], self.row[1], self.row[2]))
                self.row = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell += data

    p = P()
    p.feed(text)
    p.close()
    return p.rows


class Tap:
    """ok / not ok lines, with the detail of a failure as diagnostics."""

    def __init__(self):
        self.n = self.failed = 0

    def check(self, ok, what, detail=""):
        self.n += 1
        what = " ".join(str(what).split())	# a value holding a newline must not break TAP
        print(("ok %d - %s" if ok else "not ok %d - %s") % (self.n, what), flush=True)
        if not ok:
            self.failed += 1
            for line in str(detail).splitlines()[:20]:
                print("# " + line)

    def done(self):
        print("1..%d" % self.n)
        return 1 if self.failed else 0
