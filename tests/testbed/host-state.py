#!/usr/bin/python3
# host-state.py save|reset DIR: inside the test host, between the scripts a
# group runs in one boot (tests/testbed/test-program.sh --reset).
#
# save records the state a fresh boot gives a script: processes, files (the
# overlay's upper layer, /run, /dev/shm), cgroups, AppArmor profiles, DAMON's
# kdamonds, mounts, and the kernel knobs tests turn.  reset brings the test
# host back to it: libvirt's domains destroyed and undefined, libvirtd and
# virtlogd stopped, every process started since killed, kdamonds removed,
# files a script wrote removed and those it changed restored (from the
# recorded copy, or from the host's own root under the overlay), knobs put
# back; then it compares again.  It prints what it found (one line per kind,
# "leftover: ..."), and what is still not as recorded ("dirty: ..."), in
# which case it exits 1: the next script must not run on that host.
import glob, hashlib, json, os, re, shutil, signal, stat, subprocess, sys, time

LOWER = "/var/lib/testbed/lower"	# the host's root, read-only (init binds it)
UPPER = "/var/lib/testbed/upper/u"	# what the test host wrote on it
# never compared: the test host's own bookkeeping (modules, these layers,
# the recorded state), the share the scripts' outputs go to
SKIP = ("var/lib/testbed", "testbed")
TMPFS = ("/run", "/dev/shm")
CG = "/sys/fs/cgroup"
AA = "/sys/kernel/security/apparmor"
DAMON = "/sys/kernel/mm/damon/admin/kdamonds"
KNOBS = ["/proc/sys/kernel/numa_balancing", "/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps",
         "/sys/kernel/mm/numa/demotion_enabled", "/sys/kernel/mm/transparent_hugepage/enabled",
         "/sys/kernel/mm/transparent_hugepage/defrag", "/sys/kernel/mm/ksm/run",
         "/sys/devices/system/memory/auto_online_blocks", "/proc/sys/vm/zone_reclaim_mode",
         "/proc/sys/vm/overcommit_memory", "/proc/sys/vm/swappiness", "/proc/sys/vm/nr_hugepages"]
KNOB_GLOBS = ["/sys/devices/system/memory/memory*/online", "/sys/class/net/*/flags"]


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def write(path, value):
    try:
        with open(path, "w") as f:
            f.write(value)
        return True
    except OSError:
        return False


# -- files ------------------------------------------------------------------
def entry(path):
    """What a path is, for comparison: type, mode, owner, content."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    m = st.st_mode
    if stat.S_ISLNK(m):
        return ["l", os.readlink(path)]
    if stat.S_ISCHR(m) or stat.S_ISBLK(m):
        return ["c", st.st_rdev, stat.S_IMODE(m)]
    own = [stat.S_IMODE(m), st.st_uid, st.st_gid]
    if stat.S_ISDIR(m):
        try:
            opaque = os.getxattr(path, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
        except OSError:
            opaque = False
        return ["d"] + own + [opaque]
    if stat.S_ISREG(m):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for b in iter(lambda: f.read(1 << 20), b""):
                h.update(b)
        return ["f"] + own + [h.hexdigest()]
    return ["o", stat.S_IFMT(m)] + own	# socket, fifo


def is_whiteout(e):
    return e is not None and e[0] == "c" and e[1] == 0


def scan(root, skip=()):
    """{relative path: entry} of a tree, not crossing into other mounts."""
    out = {}
    dev = os.lstat(root).st_dev
    for d, dirs, files in os.walk(root):
        rel_d = os.path.relpath(d, root)
        keep = []
        for n in dirs:
            rel = os.path.normpath(os.path.join(rel_d, n))
            if rel in skip:
                continue
            p = os.path.join(d, n)
            out[rel] = entry(p)
            try:
                if os.lstat(p).st_dev == dev and not os.path.islink(p):
                    keep.append(n)
            except OSError:
                pass
        dirs[:] = keep
        for n in files:
            rel = os.path.normpath(os.path.join(rel_d, n))
            if rel not in skip:
                out[rel] = entry(os.path.join(d, n))
    return out


def copy_tree_files(root, tree, dest):
    """Keep a copy of the tree's regular files, to restore them."""
    for rel, e in tree.items():
        if e and e[0] == "f":
            os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
            shutil.copyfile(os.path.join(root, rel), os.path.join(dest, rel))


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


def put(path, e, content):
    """Make path what entry e says, the file's bytes from content."""
    if e is None or is_whiteout(e):
        remove(path)
        return
    cur = entry(path)
    if cur is not None and (cur[0] != e[0] or e[0] in ("l", "c", "o")):
        remove(path)
        cur = None
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if e[0] == "l":
        os.symlink(e[1], path)
        return
    if e[0] == "c":
        os.mknod(path, stat.S_IFCHR | e[2], e[1])
        return
    if e[0] == "o":
        return	# a socket or fifo: its owner is gone, nothing to put back
    if e[0] == "d":
        os.makedirs(path, exist_ok=True)
    else:
        shutil.copyfile(content, path)
    os.chown(path, e[2], e[3], follow_symlinks=False)
    os.chmod(path, e[1])


def same(a, b):
    """Entries equal (a directory's opaque flag aside: lower has none)."""
    if a is None or b is None:
        return a == b
    if a[0] == "d" and b[0] == "d":
        return a[1:4] == b[1:4]
    return a == b


def tree_diff(root, base, now, lower=None):
    """[(rel, what, fix)]: paths of root that differ from base; fix puts one back."""
    out = []
    for rel in sorted(set(base) | set(now)):
        b, n = base.get(rel), now.get(rel)
        if rel in base:
            if same(b, n) and not (n and n[0] == "d" and n[4] != b[4]):
                continue
            what = "changed" if n is not None else "removed"
            out.append((rel, what, ("base", b)))
            continue
        # new in the upper layer: fine when it is the host's own file as is
        # (a directory a write below it copied up, a file put back earlier)
        le = entry(os.path.join(lower, rel)) if lower else None
        if lower and le is not None:
            if is_whiteout(n):
                out.append((rel, "removed", ("lower", le)))
            elif n[0] == "d" and n[4]:
                out.append((rel, "replaced (opaque)", ("lower", le)))
            elif not same(n, le):
                out.append((rel, "changed", ("lower", le)))
        else:
            out.append((rel, "added", ("gone", None)))
    return out


def fix_tree(merged, diff, saved):
    # deepest first for removals, parents first for the rest
    for rel, _, (src, e) in sorted(diff, key=lambda x: x[0], reverse=True):
        if src == "gone":
            remove(os.path.join(merged, rel))
    for rel, what, (src, e) in sorted(diff, key=lambda x: x[0]):
        p = os.path.join(merged, rel)
        if src == "base":
            put(p, e, os.path.join(saved, rel))
        elif src == "lower":
            if what.startswith("replaced"):
                remove(p)
            if e[0] == "d" and what != "changed":
                shutil.copytree(os.path.join(LOWER, rel), p, symlinks=True, dirs_exist_ok=True)
            put(p, e, os.path.join(LOWER, rel))


def summary(paths, depth=3):
    """Paths grouped by their first components: '/var/lib/libvirt (12)'."""
    groups = {}
    for p in paths:
        key = "/" + "/".join(p.strip("/").split("/")[:depth])
        groups[key] = groups.get(key, 0) + 1
    return ", ".join(k if n == 1 else "%s (%d)" % (k, n) for k, n in sorted(groups.items()))


# -- processes --------------------------------------------------------------
def procs():
    """{(pid, start time): comm} of user processes (no kernel threads)."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        s = read("/proc/%s/stat" % d)
        if not s:
            continue
        comm = s[s.index("(") + 1:s.rindex(")")]
        f = s[s.rindex(")") + 2:].split()
        if int(f[6]) & 0x00200000 or f[0] == "Z":	# a kernel thread; reaped soon
            continue
        out[(int(d), int(f[19]))] = comm
    return out


def ancestors():
    out, pid = set(), os.getpid()
    while pid > 1:
        out.add(pid)
        s = read("/proc/%d/stat" % pid)
        pid = int(s[s.rindex(")") + 2:].split()[1]) if s else 0
    return out


def strays(base_procs):
    mine = ancestors()
    return {k: c for k, c in procs().items() if k not in base_procs and k[0] not in mine}


def signal_all(found, sig):
    for (pid, _) in found:
        try:
            os.kill(pid, sig)
            if sig == signal.SIGTERM:
                os.kill(pid, signal.SIGCONT)	# a test may have stopped it
        except ProcessLookupError:
            pass


def end(found, base_procs, wait_s):
    signal_all(found, signal.SIGTERM)
    deadline = time.time() + wait_s
    while time.time() < deadline and set(found) & set(strays(base_procs)):
        time.sleep(0.1)
    left = set(found) & set(strays(base_procs))
    signal_all(left, signal.SIGKILL)
    for _ in range(50):
        if not set(found) & set(strays(base_procs)):
            break
        time.sleep(0.1)


def virsh(*args):
    try:
        r = subprocess.run(["virsh", "-q", "-c", "qemu:///system"] + list(args), capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL)
        return r.returncode == 0, r.stdout
    except (OSError, subprocess.TimeoutExpired):
        return False, ""


# -- the rest of the kernel's state -------------------------------------------
def cgroups():
    out = {}
    for d, dirs, _ in os.walk(CG):
        out[d] = read(d + "/cgroup.subtree_control")
    return out


def profiles():
    p = read(AA + "/profiles")
    return sorted(l.rsplit(" (", 1)[0] for l in p.splitlines()) if p else []


def mounts():
    return sorted(l.split()[4] for l in open("/proc/self/mountinfo"))


def kdamonds():
    n = read(DAMON + "/nr_kdamonds")
    return int(n) if n and n.isdigit() else 0


def knobs():
    paths = [p for p in KNOBS if os.path.exists(p)]
    for g in KNOB_GLOBS:
        paths += sorted(glob.glob(g))
    return {p: read(p) for p in paths}


def state():
    return {"procs": [[k[0], k[1], c] for k, c in procs().items()],
            "upper": scan(UPPER, SKIP),
            "tmpfs": {t: scan(t) for t in TMPFS},
            "cgroups": cgroups(), "profiles": profiles(), "mounts": mounts(),
            "kdamonds": kdamonds(), "knobs": knobs()}


def save(d):
    if not os.path.isdir(UPPER) or not os.path.isdir(LOWER):
        sys.exit("host-state: no overlay layers at %s and %s (tests/testbed/init binds them)" % (UPPER, LOWER))
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    s = state()
    copy_tree_files(UPPER, s["upper"], d + "/upper")
    for t in TMPFS:
        copy_tree_files(t, s["tmpfs"][t], d + "/tmpfs" + t)
    with open(d + "/state.json", "w") as f:
        json.dump(s, f)


def compare(base):
    """[(kind, description)] of what differs from base."""
    out = []
    bp = {(p, t) for p, t, _ in base["procs"]}
    left = strays(bp)
    if left:
        out.append(("processes", ", ".join("%s (%d)" % (c, k[0]) for k, c in sorted(left.items()))))
    n = kdamonds()
    if n != base["kdamonds"]:
        out.append(("DAMON", "%d kdamond(s)" % n))
    now_cg = cgroups()
    new_cg = sorted(set(now_cg) - set(base["cgroups"]))
    if new_cg:
        out.append(("cgroups", ", ".join(c[len(CG):] for c in new_cg)))
    ctl = [c for c in base["cgroups"] if c in now_cg and now_cg[c] != base["cgroups"][c]]
    if ctl:
        out.append(("cgroup controllers", ", ".join("%s: %s (was %s)" % (c[len(CG):] or "/", now_cg[c], base["cgroups"][c])
                                                    for c in ctl)))
    new_aa = sorted(set(profiles()) - set(base["profiles"]))
    if new_aa:
        out.append(("AppArmor profiles", ", ".join(new_aa)))
    new_m = sorted(set(mounts()) - set(base["mounts"]))
    if new_m:
        out.append(("mounts", ", ".join(new_m)))
    k = knobs()
    bad = [p for p in base["knobs"] if k.get(p) != base["knobs"][p]]
    if bad:
        out.append(("knobs", ", ".join("%s=%s (was %s)" % (p, k.get(p), base["knobs"][p]) for p in bad)))
    d = tree_diff(UPPER, base["upper"], scan(UPPER, SKIP), LOWER)
    for what in ("added", "changed", "removed", "replaced (opaque)"):
        paths = [rel for rel, w, _ in d if w == what]
        if paths:
            out.append(("files " + what, summary(paths)))
    for t in TMPFS:
        d = tree_diff(t, base["tmpfs"][t], scan(t))
        if d:
            out.append(("files in " + t, summary([t + "/" + rel for rel, _, _ in d])))
    return out


def reset(d):
    with open(d + "/state.json") as f:
        base = json.load(f)
    for kind, what in compare(base):
        print("leftover: %s: %s" % (kind, what))
    bp = {(p, t) for p, t, _ in base["procs"]}
    # libvirt first, while it runs: it tears down what it set up for a guest
    ok, names = virsh("list", "--all", "--name")
    for name in names.split() if ok else []:
        _, st = virsh("domstate", name)
        if st.strip() != "shut off":
            virsh("destroy", name)
        if not virsh("undefine", name, "--nvram")[0]:
            virsh("undefine", name)
        print("leftover: domain %s (%s): destroyed and undefined" % (name, st.strip() or "?"))
    end({k: c for k, c in strays(bp).items() if c in ("libvirtd", "virtlogd", "virtlockd")}, bp, 30)
    end(strays(bp), bp, 10)
    # DAMON: its kdamonds off (an admin's or a killed vmtierd's), then none
    for i in range(kdamonds()):
        if read("%s/%d/state" % (DAMON, i)) == "on":
            write("%s/%d/state" % (DAMON, i), "off")
    if kdamonds() != base["kdamonds"]:
        write(DAMON + "/nr_kdamonds", str(base["kdamonds"]))
    for c in sorted(set(cgroups()) - set(base["cgroups"]), reverse=True):
        for _ in range(50):
            try:
                os.rmdir(c)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)
    now_cg = cgroups()
    for c, ctl in base["cgroups"].items():
        if c in now_cg and now_cg[c] != ctl:
            want, have = set((ctl or "").split()), set((now_cg[c] or "").split())
            write(c + "/cgroup.subtree_control", " ".join(["-" + x for x in have - want] + ["+" + x for x in want - have]))
    for p in sorted(set(profiles()) - set(base["profiles"])):
        write(AA + "/.remove", p)
    for m in sorted(set(mounts()) - set(base["mounts"]), reverse=True):
        subprocess.run(["umount", "-l", m], capture_output=True)
    k = knobs()
    for p, v in base["knobs"].items():
        if v is not None and k.get(p) != v:
            choice = re.search(r"\[(\S+)\]", v)	# "always [madvise] never"
            write(p, choice.group(1) if choice else v)
    # files last: the processes that wrote them are gone now
    fix_tree("/", tree_diff(UPPER, base["upper"], scan(UPPER, SKIP), LOWER), d + "/upper")
    for t in TMPFS:
        fix_tree(t, tree_diff(t, base["tmpfs"][t], scan(t)), d + "/tmpfs" + t)
    # memory as a boot leaves it: no page cache of earlier scripts on the
    # DRAM nodes, free memory in large blocks (guests get THPs)
    os.sync()
    write("/proc/sys/vm/drop_caches", "3")
    write("/proc/sys/vm/compact_memory", "1")
    still = compare(base)
    for kind, what in still:
        print("dirty: %s: %s" % (kind, what))
    return 1 if still else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("save", "reset"):
        sys.exit("usage: host-state.py save|reset DIR")
    # it kills every process it did not see at save: never on a real host
    # (the variable, and the test host's own 9p share at /testbed)
    with open("/proc/self/mounts") as f:
        share = any(m.split()[1:3] == ["/testbed", "9p"] for m in f)
    if not os.environ.get("VMTIER_TESTBED") or not share:
        sys.exit("host-state: runs inside the test host only (tests/testbed/run)")
    if sys.argv[1] == "save":
        save(sys.argv[2])
    else:
        sys.exit(reset(sys.argv[2]))
