#!/usr/bin/env python3
# podnet's probe program: see echo.ts for what it does. Sent to nodes on stdin, never installed.
import errno, json, os, selectors, socket, struct, sys, time

def serve(port, ttl, pidfile, watched=None, script=None, pod_ns=None):
    # The sockets live in the pod (setns); the process stays in the node's namespace, so that as the
    # node's dead man's switch it can run the teardown there.
    ns = Netns(pod_ns)
    if pod_ns: ns.enter("pod")
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("0.0.0.0", port)); t.listen(4096); t.setblocking(False)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Every node's probes arrive at once: a deep receive buffer keeps the burst from being dropped.
    u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    u.bind(("0.0.0.0", port)); u.setblocking(False)
    ns.enter("host")
    pid = os.fork()
    if pid:
        if pidfile:
            with open(pidfile, "w") as f: f.write("%d\n" % pid)
        sys.stdout.write("ready %d\n" % pid); sys.stdout.flush()
        os._exit(0)
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2): os.dup2(null, fd)
    sel = selectors.DefaultSelector()
    sel.register(t, selectors.EVENT_READ); sel.register(u, selectors.EVENT_READ)
    end = time.monotonic() + ttl
    while True:
        left = end - time.monotonic()
        if left <= 0: break
        for key, _ in sel.select(min(1.0, left)):
            while True:
                try:
                    if key.fileobj is t:
                        c, addr = t.accept()
                        try: c.send(("%s\n" % addr[0]).encode())
                        except OSError: pass
                        c.close()
                    else:
                        data, addr = u.recvfrom(65535)
                        try: u.sendto(("%s %d\n" % (addr[0], len(data))).encode(), addr)
                        except OSError: pass
                except OSError:
                    break
        if watched:
            try: os.kill(watched, 0)
            except ProcessLookupError: break
            except PermissionError: pass
    t.close(); u.close()
    if script: os.execv("/bin/sh", ["sh", script])
    os._exit(0)

class Netns:
    """Switch this (single-threaded) process between the node's network namespace and the pod's."""
    def __init__(self, pod_path):
        self.fds = {"host": os.open("/proc/self/ns/net", os.O_RDONLY)}
        if pod_path: self.fds["pod"] = os.open(pod_path, os.O_RDONLY)
        self.cur = "host"
    def enter(self, where):
        if where != self.cur:
            setns(self.fds[where], 0x40000000)
            self.cur = where

LIBC = []

def setns(fd, kind):
    # os.setns is Python 3.12+; older interpreters (Debian 12 has 3.11) go through libc, loaded on first use
    if hasattr(os, "setns"): return os.setns(fd, kind)
    import ctypes
    if not LIBC: LIBC.append(ctypes.CDLL(None, use_errno=True))
    if LIBC[0].setns(fd, kind) != 0:
        e = ctypes.get_errno(); raise OSError(e, os.strerror(e))

def checksum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff

def why(e):
    name = errno.errorcode.get(e.errno or 0)
    return "%s (%s)" % (name, e.strerror) if name else type(e).__name__

SEQ = [0]  # ICMP sequence numbers run on across retries: a late reply never matches a newer probe

def run(probes, timeout, ns, window=64):
    sel = selectors.DefaultSelector()
    out, live, raw, waiting = {}, {}, {}, {}
    ident = os.getpid() & 0xffff
    todo = list(reversed(probes))
    def done(p, ok, **kw):
        entry = live.pop(p["id"], None)
        if entry and entry[1] is not None:
            try: sel.unregister(entry[1])
            except (KeyError, ValueError): pass
            entry[1].close()
        if entry and entry[2] is not None: waiting.pop(entry[2], None)
        out[p["id"]] = dict(id=p["id"], ok=ok, **kw)
    def icmp_socket(where):
        if where not in raw:
            ns.enter(where)
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
            s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO: never fragment
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ("icmp", where))
            raw[where] = s
        return raw[where]
    def start(p):
        where, proto = p.get("ns", "host"), p["proto"]
        deadline = time.monotonic() + timeout
        try:
            if proto in ("icmp", "mtu"):
                s = icmp_socket(where)
                SEQ[0] = (SEQ[0] + 1) & 0xffff
                seq = SEQ[0]
                size = p.get("size", 56)
                payload = (b"podnet" * (size // 6 + 1))[:size]
                body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
                body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
                live[p["id"]] = (p, None, (where, seq), deadline)
                waiting[(where, seq)] = p
                s.sendto(body, (p["host"], 0))
            else:
                ns.enter(where)
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
                s.setblocking(False)
                live[p["id"]] = (p, s, None, deadline)
                if proto == "tcp":
                    err = s.connect_ex((p["host"], p["port"]))
                    if err not in (0, errno.EINPROGRESS): raise OSError(err, os.strerror(err))
                else:
                    # connected, so an ICMP port unreachable comes back as ECONNREFUSED at once
                    s.connect((p["host"], p["port"]))
                    s.send(b"x" * p.get("size", 16))
                sel.register(s, selectors.EVENT_READ, (proto, p))
        except OSError as e:
            done(p, False, reason=why(e))
    def on_icmp(s, where):
        while True:
            try: data, addr = s.recvfrom(65535)
            except OSError: return
            icmp = data[(data[0] & 0x0f) * 4:]
            if len(icmp) < 8: continue
            kind, code = icmp[0], icmp[1]
            if kind == 0:
                rid, seq = struct.unpack("!HH", icmp[4:8])
                p = waiting.get((where, seq)) if rid == ident else None
                if p: done(p, True)
            elif kind in (3, 11) and len(icmp) >= 36:
                inner = icmp[8:]
                orig = inner[(inner[0] & 0x0f) * 4:][:8]
                if len(orig) < 8 or orig[0] != 8: continue
                rid, seq = struct.unpack("!HH", orig[4:8])
                p = waiting.get((where, seq)) if rid == ident else None
                if not p: continue
                if kind == 3 and code == 4:
                    done(p, False, reason="fragmentation needed: %s reports a next-hop MTU of %d" % (addr[0], struct.unpack("!H", icmp[6:8])[0]))
                elif kind == 3:
                    done(p, False, reason="destination unreachable (ICMP code %d) from %s" % (code, addr[0]))
                else:
                    done(p, False, reason="TTL exceeded at %s" % addr[0])
    def on_socket(s, proto, p):
        try: data = s.recv(256)
        except (BlockingIOError, InterruptedError): return
        except OSError as e: return done(p, False, reason=why(e))
        words = data.decode("ascii", "replace").split()
        if words: done(p, True, observed=words[0])
        else: done(p, False, reason="closed without an answer")
    while todo or live:
        while todo and len(live) < window: start(todo.pop())
        if not live: continue
        now = time.monotonic()
        wait = max(0.0, min(e[3] for e in live.values()) - now)
        for key, _ in sel.select(wait):
            kind, arg = key.data
            if kind == "icmp": on_icmp(key.fileobj, arg)
            elif arg["id"] in live: on_socket(key.fileobj, kind, arg)
        now = time.monotonic()
        for pid_, e in list(live.items()):
            if e[3] <= now: done(e[0], False, reason="no answer within %gs" % timeout)
    for s in raw.values(): s.close()
    sel.close()
    return out

def batch(path, timeout, pod_ns, window):
    with open(path) as f: probes = json.load(f)
    ns = Netns(pod_ns)
    out = run(probes, timeout, ns, window)
    again = [p for p in probes if not out[p["id"]]["ok"]]
    if again:
        second = run(again, timeout, ns, window)
        for p in again:
            if second[p["id"]]["ok"]:
                out[p["id"]] = dict(second[p["id"]], retried=True)
    w = sys.stdout.write
    for p in probes: w(json.dumps(out[p["id"]]) + "\n")

def client(proto, host, port, timeout):
    r = run([{"id": 0, "proto": proto, "host": host, "port": port}], timeout, Netns(None))[0]
    print(("ok " + r["observed"]) if r["ok"] else ("fail " + r["reason"]))

mode = sys.argv[1]
if mode == "serve":
    a = sys.argv[2:] + [None] * 6
    serve(int(a[0]), int(a[1] or 600), a[2], int(a[3]) if a[3] else None, a[4], a[5])
elif mode == "batch":
    batch(sys.argv[2], float(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None, int(sys.argv[5]) if len(sys.argv) > 5 else 64)
else:
    client(mode, sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
