#!/usr/bin/env python3
# podnet's probe program: see echo.ts for what it does. Sent to nodes on stdin, never installed.
import errno, json, os, selectors, socket, struct, sys, time

def serve(port, ttl, pidfile, watched=None, script=None, pod_ns=None, root_fd=None):
    # The sockets live in the pod (setns); the process stays in the node's namespace, so that as the
    # node's dead man's switch it can run the teardown there. Started from the helper pod's image
    # (kube access), it runs chrooted there: root_fd is the node's root, to return to for the teardown.
    ns = Netns(pod_ns)
    if pod_ns: ns.enter("pod")
    tcp, udp = [], []
    # One socket of each kind per family: IPv4 on 0.0.0.0, IPv6 on :: with IPV6_V6ONLY (IPv4 never
    # arrives there as ::ffff:a.b.c.d). A kernel without IPv6 at all only loses the IPv6 sockets.
    for fam, anyaddr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        try: t = socket.socket(fam, socket.SOCK_STREAM)
        except OSError as e:
            if fam == socket.AF_INET6 and e.errno == errno.EAFNOSUPPORT: continue
            raise
        u = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            for s in (t, u): s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            # Replies leave from the address asked (a pod with two IPv6 addresses would otherwise
            # answer from whichever source address selection picks, and the sender's connected socket
            # would not take it): the kernel hands each datagram's destination over as IPV6_PKTINFO.
            u.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVPKTINFO, 1)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((anyaddr, port)); t.listen(4096); t.setblocking(False)
        # Every node's probes arrive at once: a deep receive buffer keeps the burst from being dropped.
        u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        u.bind((anyaddr, port)); u.setblocking(False)
        tcp.append(t); udp.append(u)
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
    for s in tcp: sel.register(s, selectors.EVENT_READ, "tcp")
    for s in udp: sel.register(s, selectors.EVENT_READ, "udp")
    end = time.monotonic() + ttl
    while True:
        left = end - time.monotonic()
        if left <= 0: break
        for key, _ in sel.select(min(1.0, left)):
            s = key.fileobj
            while True:
                try:
                    if key.data == "tcp":
                        c, addr = s.accept()
                        try: c.send(("%s\n" % seen(addr[0])).encode())
                        except OSError: pass
                        c.close()
                    else:
                        data, anc, _, addr = s.recvmsg(65535, 256)
                        # the same destination as the source, any interface (in6_pktinfo: address, ifindex)
                        src = [(l, k, d[:16] + b"\0\0\0\0") for l, k, d in anc if l == socket.IPPROTO_IPV6 and k == IPV6_PKTINFO and len(d) >= 16]
                        try: s.sendmsg([("%s %d\n" % (seen(addr[0]), len(data))).encode()], src, 0, addr)
                        except OSError: pass
                except OSError:
                    break
        if watched:
            try: os.kill(watched, 0)
            except ProcessLookupError: break
            except PermissionError: pass
    for s in tcp + udp: s.close()
    if script:
        if root_fd is not None: os.fchdir(root_fd); os.chroot(".")
        os.execv("/bin/sh", ["sh", script])
    os._exit(0)

IPV6_RECVPKTINFO, IPV6_PKTINFO = 49, 50  # <netinet/in.h> (Linux)

def seen(addr):
    """A sender's address as the receiver saw it: no zone (fe80::1%eth0), no IPv4-mapped form."""
    addr = addr.split("%")[0]
    return addr[7:] if addr.startswith("::ffff:") and "." in addr else addr

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

# ICMP as each family spells it: the raw socket, the echo request and reply types, the option that turns
# off fragmentation (IP_MTU_DISCOVER / IPV6_MTU_DISCOVER = *_PMTUDISC_DO: an oversized send fails with
# EMSGSIZE, and routers answer "fragmentation needed" / "packet too big" instead of fragmenting).
ICMP = {
    4: dict(af=socket.AF_INET, proto=socket.IPPROTO_ICMP, level=socket.IPPROTO_IP, mtu_discover=10, request=8, reply=0),
    6: dict(af=socket.AF_INET6, proto=socket.IPPROTO_ICMPV6, level=socket.IPPROTO_IPV6, mtu_discover=23, request=128, reply=129),
}
PMTUDISC_DO = 2

def version(host):
    return 6 if ":" in host else 4

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
    def icmp_socket(where, v):
        if (where, v) not in raw:
            ns.enter(where)
            f = ICMP[v]
            s = socket.socket(f["af"], socket.SOCK_RAW, f["proto"])
            s.setsockopt(f["level"], f["mtu_discover"], PMTUDISC_DO)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ("icmp", (where, v)))
            raw[(where, v)] = s
        return raw[(where, v)]
    def start(p):
        where, proto, v = p.get("ns", "host"), p["proto"], version(p["host"])
        deadline = time.monotonic() + timeout
        try:
            if proto in ("icmp", "mtu"):
                s = icmp_socket(where, v)
                SEQ[0] = (SEQ[0] + 1) & 0xffff
                seq = SEQ[0]
                size = p.get("size", 56)
                payload = (b"podnet" * (size // 6 + 1))[:size]
                body = struct.pack("!BBHHH", ICMP[v]["request"], 0, 0, ident, seq) + payload
                # ICMPv6's checksum covers a pseudo-header: the kernel fills it in for IPPROTO_ICMPV6 sockets.
                if v == 4: body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
                live[p["id"]] = (p, None, (where, seq), deadline)
                waiting[(where, seq)] = p
                s.sendto(body, (p["host"], 0))
            else:
                ns.enter(where)
                s = socket.socket(ICMP[v]["af"], socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
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
    def match(where, orig):
        """The probe an ICMP error is about: the echo request it quotes carries our id and a sequence number."""
        rid, seq = struct.unpack("!HH", orig[4:8])
        return waiting.get((where, seq)) if rid == ident else None
    def on_icmp(s, where):
        while True:
            try: data, addr = s.recvfrom(65535)
            except OSError: return
            icmp = data[(data[0] & 0x0f) * 4:]
            if len(icmp) < 8: continue
            kind, code = icmp[0], icmp[1]
            if kind == 0:
                p = match(where, icmp)
                if p: done(p, True)
            elif kind in (3, 11) and len(icmp) >= 36:
                inner = icmp[8:]
                orig = inner[(inner[0] & 0x0f) * 4:][:8]
                if len(orig) < 8 or orig[0] != 8: continue
                p = match(where, orig)
                if not p: continue
                if kind == 3 and code == 4:
                    done(p, False, reason="fragmentation needed: %s reports a next-hop MTU of %d" % (addr[0], struct.unpack("!H", icmp[6:8])[0]))
                elif kind == 3:
                    done(p, False, reason="destination unreachable (ICMP code %d) from %s" % (code, addr[0]))
                else:
                    done(p, False, reason="TTL exceeded at %s" % addr[0])
    def on_icmp6(s, where):
        # A raw ICMPv6 socket gets the ICMPv6 message alone (no IPv6 header), and every one the node
        # receives (neighbour discovery too): only echo replies and errors quoting our requests count.
        while True:
            try: icmp, addr = s.recvfrom(65535)
            except OSError: return
            if len(icmp) < 8: continue
            kind, code = icmp[0], icmp[1]
            if kind == 129:
                p = match(where, icmp)
                if p: done(p, True)
            elif kind in (1, 2, 3) and len(icmp) >= 8 + 40 + 8:
                # the quoted packet: its IPv6 header (next header 58: our probes carry no extension headers), then our request
                inner = icmp[8:]
                orig = inner[40:48]
                if inner[6] != 58 or orig[0] != 128: continue
                p = match(where, orig)
                if not p: continue
                src = seen(addr[0])
                if kind == 2:
                    done(p, False, reason="packet too big: %s reports a next-hop MTU of %d" % (src, struct.unpack("!I", icmp[4:8])[0]))
                elif kind == 1:
                    done(p, False, reason="destination unreachable (ICMPv6 code %d) from %s" % (code, src))
                else:
                    done(p, False, reason="hop limit exceeded at %s" % src)
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
            if kind == "icmp": (on_icmp if arg[1] == 4 else on_icmp6)(key.fileobj, arg[0])
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
    a = sys.argv[2:] + [None] * 7
    serve(int(a[0]), int(a[1] or 600), a[2], int(a[3]) if a[3] else None, a[4], a[5], int(a[6]) if a[6] else None)
elif mode == "batch":
    batch(sys.argv[2], float(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None, int(sys.argv[5]) if len(sys.argv) > 5 else 64)
else:
    client(mode, sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
