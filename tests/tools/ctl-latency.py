#!/usr/bin/env python3
# ctl-latency.py SOCKET [N [PAUSE_S]]: N status requests (default 20) on
# vmtierd's control socket, PAUSE_S seconds apart (default 0), each reply
# read whole and parsed; prints the median and the worst request-to-reply
# time in ms.  What vmtierd takes to answer, without `vmtier status`'s own
# process start (tests/libvirt/test-tiering.sh, bench/scale.sh).
import json
import socket
import sys
import time

path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
ms = []
for _ in range(n):
    t0 = time.monotonic()
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b'{"cmd":"status"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        b = s.recv(65536)
        if not b:
            sys.exit(f"ctl-latency: {path} closed the connection before a whole reply")
        buf += b
    s.close()
    json.loads(buf)
    ms.append((time.monotonic() - t0) * 1000)
    time.sleep(pause)
ms.sort()
print(f"{ms[(len(ms) - 1) // 2]:.0f} {ms[-1]:.0f}")
