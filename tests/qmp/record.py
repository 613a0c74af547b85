#!/usr/bin/env python3
# record.py SOCKET OUT COMMAND_JSON...: talk to a live QEMU's QMP socket and
# save every line QEMU sends, byte for byte (greeting, replies, events), to
# OUT, and the commands to OUT.commands.  Each COMMAND_JSON is sent after the previous reply arrived, with
# "id": "rec-N".  How tests/qmp/recorded/*.qmp were made: see record-all.sh.
import json, socket, sys, time

path, out, cmds = sys.argv[1], sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_UNIX)
for _ in range(100):
    try:
        s.connect(path)
        break
    except OSError:
        time.sleep(0.1)
f = s.makefile("rb")
lines = [f.readline()]                       # greeting
for i, c in enumerate(cmds):
    msg = json.loads(c)
    msg["id"] = "rec-%d" % i
    s.sendall(json.dumps(msg).encode() + b"\r\n")
    while True:
        line = f.readline()
        if not line:
            break
        lines.append(line)
        m = json.loads(line)
        if m.get("id") == "rec-%d" % i:
            break
    time.sleep(0.2)                          # let trailing events arrive
s.setblocking(False)
try:
    while True:
        more = s.recv(65536)
        if not more:
            break
        lines.append(more)
except (BlockingIOError, ConnectionResetError):
    pass
open(out, "wb").write(b"".join(lines))
# the commands as sent, one per line, for replaying servers in tests
open(out + ".commands", "w").write("".join(json.dumps(json.loads(c), sort_keys=True) + "\n" for c in cmds))
