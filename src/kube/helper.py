# podnet's node-access helper: python3 in the helper pod (src/kube/objects.ts) runs it, sent in the pod's
# command and in each pods/exec request, never installed. Two modes:
#   watch GRACE LINGER  the pod's main process. It ends the pod once the sessions it served are gone for
#                       LINGER seconds (podnet closed them, or podnet died and the API server closed its
#                       streams, which ends their shells), or when none came within GRACE seconds. So a
#                       helper pod never outlives the podnet run that made it by more than a few seconds.
#   enter               one session (pods/exec): records its PID for the watcher, keeps the image's root
#                       open on fd 8 (programs podnet runs from the image, such as the probe's, chroot
#                       there), enters PID 1's namespaces (the pod has hostPID: PID 1 is the node's init)
#                       and execs the node's own `sh -s`, which reads podnet's scripts from the stream as
#                       the SSH session's shell does.
import os, sys, time

SESSIONS = "/tmp/podnet-sessions"
LIBC = []

def setns(fd, kind):
    # os.setns is Python 3.12+; older interpreters go through libc
    if hasattr(os, "setns"): return os.setns(fd, kind)
    import ctypes
    if not LIBC: LIBC.append(ctypes.CDLL(None, use_errno=True))
    if LIBC[0].setns(fd, kind) != 0:
        e = ctypes.get_errno(); raise OSError(e, os.strerror(e))

def started(pid):
    """The process's start time (field 22 of /proc/PID/stat): a PID reused later is not the session."""
    try:
        with open("/proc/%s/stat" % pid) as f: stat = f.read()
    except OSError: return None
    return stat[stat.rindex(")") + 2:].split()[19]

def watch(grace, linger):
    os.makedirs(SESSIONS, exist_ok=True)
    t0, seen, idle = time.monotonic(), False, None
    while True:
        alive = 0
        for name in os.listdir(SESSIONS):
            pid, _, start = name.partition("-")
            if started(pid) == start: alive += 1
            else:
                try: os.unlink(os.path.join(SESSIONS, name))
                except OSError: pass
        now = time.monotonic()
        if alive: seen, idle = True, None
        elif seen:
            idle = idle or now
            if now - idle >= linger: return
        elif now - t0 >= grace: return
        time.sleep(0.5)

# The namespaces entered, mount last: /proc/1 is read through the pod's own /proc until then.
NAMESPACES = (("ipc", 0x08000000), ("uts", 0x04000000), ("net", 0x40000000), ("mnt", 0x00020000))
NODE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

def enter():
    # PID 1 must be the node's init (hostPID), not this pod's own first process: entering that would run
    # podnet's scripts in the pod's filesystem and report them done.
    if os.readlink("/proc/1/ns/mnt") == os.readlink("/proc/self/ns/mnt") or os.readlink("/proc/1/ns/pid") != os.readlink("/proc/self/ns/pid"):
        sys.exit("podnet helper: PID 1 is not the node's init (the pod does not share the host's PID namespace): refusing to enter")
    pid = os.getpid()
    os.makedirs(SESSIONS, exist_ok=True)
    open(os.path.join(SESSIONS, "%d-%s" % (pid, started(pid))), "w").close()
    root = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    if root != 8: os.dup2(root, 8); os.close(root)
    os.set_inheritable(8, True)
    for name, kind in NAMESPACES:
        fd = os.open("/proc/1/ns/" + name, os.O_RDONLY)
        setns(fd, kind)
        os.close(fd)
    os.chdir("/")
    env = {"PATH": NODE_PATH, "HOME": "/root", "LC_ALL": "C", "PODNET_ACCESS": "kube"}
    os.execve("/bin/sh", ["sh", "-s"], env)

if sys.argv[1] == "watch": watch(float(sys.argv[2]), float(sys.argv[3]))
elif sys.argv[1] == "enter": enter()
else: sys.exit("usage: helper.py watch GRACE LINGER | enter")
