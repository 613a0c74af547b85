# promlib: a real Prometheus for the tests (Debian's prometheus and
# prometheus-node-exporter), scraping node_exporter's textfile collector
# every second: one node_exporter (one "host") per textfile directory.
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
    RULES loaded, if given); .url, .instances (one per directory)."""

    def __init__(self, textdirs, rules=None):
        self.tmp = tempfile.mkdtemp(prefix="vmtier-prom-")
        self.procs, self.instances = [], []
        for d in textdirs:
            port = free_port()
            self.instances.append("127.0.0.1:%d" % port)
            self._start("node-exporter-%d" % port,
                        ["prometheus-node-exporter", "--web.listen-address=127.0.0.1:%d" % port,
                         "--collector.disable-defaults", "--collector.textfile",
                         "--collector.textfile.directory=" + d])
        with open(os.path.join(self.tmp, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n")
            if rules:
                f.write("rule_files:\n  - %s\n" % os.path.abspath(rules))
            f.write("scrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: [%s]\n"
                    % ", ".join("'%s'" % i for i in self.instances))
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
