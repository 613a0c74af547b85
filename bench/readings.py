#!/usr/bin/python3
# bench/readings.py VMTIERD_LOG PATTERN: for bench/quality.sh's guest (hot
# range at GPA 64M: chunks 32-95 after cell 0's 16), per window of a vmtierd
# run with --debug (VMTIER_DAEMON_ARGS=--debug), the share of accesses
# the 16 hottest chunks get by the pattern's exact distribution (truth)
# and by the window's readings read three ways: plain Poisson (-ln(1-f)),
# the flush-bounded model of src/policy/access-rate.c, and linear.  Also
# the readings of the first 20 hot chunks.  PATTERN: zipfK or two.
import math
import re
import sys
def P(r, x):
    if x <= 0: return 0
    om = lambda w: 1.0 if w < 1e-9 else -math.expm1(-w) / w
    if r <= 0: return -math.expm1(-x)
    if r < 1: return r * (1 - om(x))
    return 1 - math.exp(-x * (1 - 1 / r)) * om(x / r)
def inv(r, p):
    c = min(1.0, r) if r > 0 else 1.0
    p = min(p, c - 0.001)
    if p <= 0: return 0
    lo, hi = math.log(1e-9), math.log(1e6)
    for _ in range(50):
        m = (lo + hi) / 2
        if P(r, math.exp(m)) < p: lo = m
        else: hi = m
    return math.exp((lo + hi) / 2)
log, pat = sys.argv[1], sys.argv[2]
n = 64
if pat.startswith('zipf'):
    k = int(pat[4:] or 3)
    w = {32 + j: ((j + 1) / n) ** (1 / k) - (j / n) ** (1 / k) for j in range(n)}
elif pat == 'two':
    a, b = 8 * 4, 24
    tot = a + b
    w = {32 + j: 4 / tot for j in range(8)}
    w.update({48 + j: 1 / tot for j in range(24)})
# the oracle: top 16 chunks
top = sorted(w, key=lambda c: -w[c])[:16]
truth = sum(w[c] for c in top)
r = 0
rows = []
for line in open(log):
    m = re.search(r'([\d.]+) TLB flushes per (\d+) us sample', line)
    if m: r = float(m.group(1)); continue
    m = re.search(r'readings: (.*)', line)
    if not m: continue
    f = [int(x) for x in m.group(1).split()]
    hot = [f[c] for c in sorted(w)]
    def share(rate):
        tot = sum(rate(f[c]) for c in w)
        return sum(rate(f[c]) for c in top) / tot if tot else float('nan')
    pois = share(lambda x: -math.log(1 - min(x, 999) / 1000))
    flush = share(lambda x: inv(r, x / 1000))
    lin = share(lambda x: x)
    other = sum(1 for i, x in enumerate(f) if x and i not in w)
    rows.append((r, max(f), pois, flush, lin, other))
    print("r=%.3f max=%4d ceil=%4d  top16 share (truth %.3f): poisson %.3f flushed %.3f linear %.3f  other chunks read>0: %d  hot: %s" % (
        r, max(f), 1000 * min(1, r) if r else 1000, truth, pois, flush, lin, other, " ".join(str(f[c]) for c in sorted(w)[:20])))
