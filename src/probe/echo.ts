/**
 * The echo service that runs inside probe pods, and its client: a small Python 3 program (a common
 * interpreter on nodes) that answers every TCP connection and UDP datagram with the source address it
 * saw, so the sender can check for NAT. It is sent to the node on stdin, never installed.
 */
export const ECHO_PY = String.raw`
import socket, sys, threading, os
def serve(port, ttl):
    # A backstop: whatever happens to podnet, the echo service never outlives the probe for long.
    import signal
    signal.alarm(ttl)
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind(("0.0.0.0", port)); t.listen(4096)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # Every node's probes arrive at once: a deep receive buffer keeps the burst from being dropped.
    u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    u.bind(("0.0.0.0", port))
    def udp():
        while True:
            data, addr = u.recvfrom(65535)
            u.sendto(("%s %d\n" % (addr[0], len(data))).encode(), addr)
    threading.Thread(target=udp, daemon=True).start()
    sys.stdout.write("ready\n"); sys.stdout.flush()
    while True:
        c, addr = t.accept()
        try:
            c.sendall(("%s\n" % addr[0]).encode())
        finally:
            c.close()
def client(proto, host, port, timeout, size=16):
    try:
        if proto == "tcp":
            s = socket.create_connection((host, port), timeout=timeout)
            data = s.recv(256)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(timeout)
            s.sendto(b"x" * size, (host, port)); data, _ = s.recvfrom(256)
        print("ok " + data.decode().split()[0])
    except Exception as e:
        print("fail " + type(e).__name__)
def probe(p, timeout):
    import json, subprocess
    r = {"id": p["id"]}
    try:
        if p["proto"] in ("icmp", "mtu"):
            args = ["ping", "-n", "-c", "1", "-W", str(int(timeout)), p["host"]]
            if p["proto"] == "mtu":
                args[1:1] = ["-M", "do", "-s", str(p["size"])]
            rc = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout + 1)
            r["ok"] = rc.returncode == 0
            if not r["ok"]:
                r["reason"] = (rc.stderr.decode().strip().splitlines() or ["no reply"])[-1][:120]
        elif p["proto"] == "tcp":
            s = socket.create_connection((p["host"], p["port"]), timeout=timeout)
            r["observed"] = s.recv(256).decode().split()[0]; r["ok"] = True; s.close()
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(timeout)
            s.sendto(b"x" * p.get("size", 16), (p["host"], p["port"]))
            data, _ = s.recvfrom(256); r["observed"] = data.decode().split()[0]; r["ok"] = True
    except Exception as e:
        r["ok"] = False; r["reason"] = type(e).__name__
    return r
def batch(path, timeout):
    import json
    probes = json.load(open(path))
    out = [None] * len(probes)
    gate = threading.BoundedSemaphore(64)
    def run(i):
        with gate:
            out[i] = probe(probes[i], timeout)
    def rounds(indexes):
        ts = [threading.Thread(target=run, args=(i,)) for i in indexes]
        for t in ts: t.start()
        for t in ts: t.join()
    rounds(range(len(probes)))
    # One retry for what failed: a lost UDP datagram under load is not a broken network; a real fault fails twice.
    again = [i for i, r in enumerate(out) if not r["ok"]]
    if again:
        first = {i: out[i] for i in again}
        rounds(again)
        for i in again:
            if not out[i]["ok"]:
                out[i] = first[i]
            else:
                out[i]["retried"] = True
    for r in out:
        print(json.dumps(r))
mode = sys.argv[1]
if mode == "serve":
    serve(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3].isdigit() else 600)
elif mode == "batch":
    batch(sys.argv[2], float(sys.argv[3]))
else:
    client(mode, sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
`;
