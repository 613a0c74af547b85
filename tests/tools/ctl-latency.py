#!/usr/bin/env python3
# ctl-latency.py SOCKET [N [PAUSE_S]] [--baseline]: N status requests
# (default 20) on vmtierd's control socket, PAUSE_S seconds apart (default
# 0), each reply read whole and parsed; prints the median and the worst
# request-to-reply time in ms.  What vmtierd takes to answer, without
# `vmtier status`'s own process start (tests/libvirt/test-tiering.sh,
# bench/scale.sh).
# --baseline: each request is followed by one to a server process that
# does nothing but answer with vmtierd's last reply, and its median and
# worst are printed too: what the machine's scheduler alone costs a
# process woken by a request (on a loaded test host, most of it).
import json
import os
import socket
import sys
import tempfile
import time

args = [a for a in sys.argv[1:] if a != "--baseline"]
baseline = len(args) != len(sys.argv) - 1
path = args[0]
n = int(args[1]) if len(args) > 1 else 20
pause = float(args[2]) if len(args) > 2 else 0.0


def ask(where):
    t0 = time.monotonic()
    s = socket.socket(socket.AF_UNIX)
    s.connect(where)
    s.sendall(b'{"cmd":"status"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        b = s.recv(65536)
        if not b:
            sys.exit(f"ctl-latency: {where} closed the connection before a whole reply")
        buf += b
    s.close()
    json.loads(buf)
    return (time.monotonic() - t0) * 1000, buf


def serve(sock, reply):
    """The baseline: read a request line, send REPLY, close; until killed."""
    while True:
        c, _ = sock.accept()
        buf = b""
        while not buf.endswith(b"\n"):
            b = c.recv(4096)
            if not b:
                break
            buf += b
        c.sendall(reply)
        c.close()


def stat(ms):
    ms = sorted(ms)
    return f"{ms[(len(ms) - 1) // 2]:.0f} {ms[-1]:.0f}"


ms, base = [], []
_, reply = ask(path)
child, tmp = None, None
if baseline:
    tmp = tempfile.mkdtemp(prefix="ctl-latency.")
    bpath = os.path.join(tmp, "sock")
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(bpath)
    srv.listen(4)
    child = os.fork()
    if child == 0:
        try:
            serve(srv, reply)
        finally:
            os._exit(0)
    srv.close()
try:
    for _ in range(n):
        t, reply = ask(path)
        ms.append(t)
        if baseline:
            base.append(ask(bpath)[0])
        time.sleep(pause)
finally:
    if child:
        os.kill(child, 9)
        os.waitpid(child, 0)
        os.unlink(bpath)
        os.rmdir(tmp)
print(stat(ms) + (" " + stat(base) if baseline else ""))
