#!/bin/bash
# test-prometheus-rules.sh CONTRIB: contrib/prometheus's rules pass
# `promtool check rules` and their unit tests (`promtool test rules`:
# each alert fires when it should and stays quiet when it should not), and
# the dashboard is JSON Grafana can import (its queries are run against a
# real Prometheus by test-dashboard.py).
. "$(dirname "$0")/../tap.sh"
contrib=$1
command -v promtool >/dev/null || tap_skip "promtool is not installed (scripts/vmtier-dev deps installs prometheus)"
out=$(promtool check rules "$contrib/prometheus/vmtier-rules.yml" 2>&1)
tap_check "promtool check rules vmtier-rules.yml" test $? -eq 0
tap_diag "$out"
out=$(cd "$contrib/prometheus" && promtool test rules vmtier-rules.test.yml 2>&1)
tap_check "promtool test rules vmtier-rules.test.yml" test $? -eq 0
tap_diag "$out"
tap_check "the Grafana dashboard is JSON with a uid, a title and panels" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["uid"] and d["title"] and d["panels"], d.keys()
assert len({p["id"] for p in d["panels"]}) == len(d["panels"]), "panel ids repeat"' "$contrib/grafana/vmtier-dashboard.json"
tap_done
