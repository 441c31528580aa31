/**
 * Boundary: the host's kernel objects the lab owns — network namespaces under /run/netns, mounts under
 * the lab directory, the lab's cgroup and the processes inside its namespaces. Read from /proc and
 * /run/netns directly (no spawns) so that discovery is fast and works after a crash.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync, type Dirent } from 'node:fs';

export function listNetns(): string[] {
  try {
    return readdirSync('/run/netns');
  } catch {
    return [];
  }
}

export function nsInode(path: string): number | undefined {
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}

/** Mount points (decoded) below or at `dir`, deepest first, from /proc/self/mountinfo. */
export function mountsUnder(dir: string): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const decoded = mp.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (decoded === dir || decoded.startsWith(`${dir}/`)) out.push(decoded);
  }
  return out.sort((a, b) => b.length - a.length);
}

/** The cgroup v2 mount point, if any (pure cgroup2 or the "unified" half of a hybrid setup). */
export function cgroup2Root(): string | undefined {
  try {
    const text = readFileSync('/proc/self/mountinfo', 'utf8');
    for (const line of text.split('\n')) {
      const [left, right] = line.split(' - ');
      if (right?.startsWith('cgroup2 ')) return left?.split(' ')[4];
    }
  } catch {
    /* no /proc: not Linux */
  }
  return undefined;
}

/** A cgroup and every cgroup below it, parents first (none when it does not exist). */
export function cgroupDirs(cgroupDir: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(cgroupDir, { withFileTypes: true });
  } catch {
    return [];
  }
  return [cgroupDir, ...entries.filter((e) => e.isDirectory()).flatMap((e) => cgroupDirs(`${cgroupDir}/${e.name}`))];
}

/** The processes in a cgroup and in the cgroups below it (the stand-in kubelet puts containers there). */
export function cgroupPids(cgroupDir: string): number[] {
  return cgroupDirs(cgroupDir).flatMap((d) => {
    try {
      return readFileSync(`${d}/cgroup.procs`, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  });
}

/** Processes whose network or mount namespace is one of the given inodes. */
export function pidsInNamespaces(netInodes: Set<number>, mntInodes: Set<number>): number[] {
  const pids: number[] = [];
  if (netInodes.size === 0 && mntInodes.size === 0) return pids;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    if (matches(`/proc/${entry}/ns/net`, netInodes) || matches(`/proc/${entry}/ns/mnt`, mntInodes)) pids.push(pid);
  }
  return pids;
}

function linkInode(link: string): number | undefined {
  try {
    const m = /\[(\d+)\]/.exec(readlinkSync(link));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function matches(link: string, inodes: Set<number>): boolean {
  if (inodes.size === 0) return false;
  const ino = linkInode(link);
  return ino !== undefined && inodes.has(ino);
}

export function netnsInodeOf(pid: number): number | undefined {
  return linkInode(`/proc/${pid}/ns/net`);
}

export function processAlive(pid: number): boolean {
  return existsSync(`/proc/${pid}`) && !readFileSafe(`/proc/${pid}/stat`).includes(') Z ');
}

export function processName(pid: number): string {
  return readFileSafe(`/proc/${pid}/comm`).trim();
}

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
