/**
 * The kernel's neighbour (ARP) table is one table for the whole machine: every network namespace
 * counts against the limits of the initial namespace (net.ipv4.neigh.default.gc_thresh2/3, 512/1024 by
 * default), and past gc_thresh3 the kernel drops packets ("neighbor table overflow"). A real node has a
 * table of its own; N lab nodes share one, and a full mesh among them needs about N² entries (every
 * node ARPs every other node) plus a few per node (operator, probe and test pods). A 32-node lab needs
 * ~1,500, more than the default allows.
 *
 * So while labs exist whose needs do not fit comfortably in the host's limits, `lab up` raises both by
 * the labs' total need, and the `lab down` that removes the last such lab puts back what was there
 * (unless somebody else changed the value in between: then it is left alone). Small labs (up to 16
 * nodes) never touch the host. The record lives in /run/podnet/neigh.json (tmpfs: gone at reboot, as
 * are the sysctl values).
 *
 * IPv6's neighbour table (NDP) is a second machine-wide table with limits of its own
 * (net.ipv6.neigh.default.gc_thresh2/3): labs with an IPv6 underlay are counted against it the same
 * way, recorded in /run/podnet/neigh6.json (hostNeighIoFor('ipv6')).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { LAB_ROOT } from './topology.js';
import type { IpFamily } from '../net/family.js';

export const NEIGH_KEYS = ['gc_thresh2', 'gc_thresh3'] as const;
type Key = (typeof NEIGH_KEYS)[number];
type Limits = Record<Key, number>;

export interface NeighState {
  /** the host's values before the first lab raised them */
  original: Limits;
  /** the values podnet set, if it raised them (restored only while they are still in place) */
  applied?: Limits;
  /** lab name → entries it needs */
  labs: Record<string, number>;
}

export interface NeighChange {
  key: string;
  from: number;
  to: number;
}

const SYSCTL_DIR = '/proc/sys/net/ipv4/neigh/default';
export const NEIGH_STATE_FILE = `${dirname(LAB_ROOT)}/neigh.json`;
const SYSCTL_DIR6 = '/proc/sys/net/ipv6/neigh/default';
export const NEIGH6_STATE_FILE = `${dirname(LAB_ROOT)}/neigh6.json`;

/** Neighbour entries a lab of `nodes` nodes can need at once: a full mesh plus a handful per node. */
export function neighNeed(nodes: number): number {
  return nodes * nodes + 16 * nodes;
}

/**
 * Pure: the limits to run with for these labs. Unchanged (undefined) while the labs' total need fits
 * in half of the host's own hard limit; otherwise the host's values plus the total need.
 */
export function neighTarget(original: Limits, labs: Record<string, number>): Limits | undefined {
  const need = Object.values(labs).reduce((a, b) => a + b, 0);
  if (need <= original.gc_thresh3 / 2) return undefined;
  return { gc_thresh2: original.gc_thresh2 + need, gc_thresh3: original.gc_thresh3 + need };
}

export interface NeighIo {
  read(key: Key): number;
  write(key: Key, value: number): void;
  loadState(): NeighState | undefined;
  saveState(state: NeighState | undefined): void;
  /** the sysctl names' prefix in what changed; net.ipv4.neigh.default unless given */
  sysctlPrefix?: string;
}

function hostIo(sysctlDir: string, stateFile: string, sysctlPrefix: string): NeighIo {
  return {
    read: (key) => Number(readFileSync(`${sysctlDir}/${key}`, 'utf8').trim()),
    write: (key, value) => writeFileSync(`${sysctlDir}/${key}`, `${value}\n`),
    loadState: () => (existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as NeighState) : undefined),
    saveState: (state) => {
      if (!state) return rmSync(stateFile, { force: true });
      mkdirSync(dirname(stateFile), { recursive: true });
      // Beside it and renamed: a lab up or down running at the same time never reads half a file.
      const tmp = `${stateFile}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
      renameSync(tmp, stateFile);
    },
    sysctlPrefix,
  };
}

export const hostNeighIo: NeighIo = hostIo(SYSCTL_DIR, NEIGH_STATE_FILE, 'net.ipv4.neigh.default');
const hostNeigh6Io: NeighIo = hostIo(SYSCTL_DIR6, NEIGH6_STATE_FILE, 'net.ipv6.neigh.default');

/** The host's neighbour table of one family (IPv4: ARP, IPv6: NDP). */
export function hostNeighIoFor(family: IpFamily): NeighIo {
  return family === 'ipv6' ? hostNeigh6Io : hostNeighIo;
}

function current(io: NeighIo): Limits {
  return { gc_thresh2: io.read('gc_thresh2'), gc_thresh3: io.read('gc_thresh3') };
}

/** Apply the limits for `labs`; returns what changed on the host. */
function settle(io: NeighIo, original: Limits, applied: Limits | undefined, labs: Record<string, number>): NeighChange[] {
  const target = neighTarget(original, labs);
  const now = current(io);
  const changes: NeighChange[] = [];
  // Raise thresh3 before thresh2 and lower thresh2 before thresh3, so thresh2 ≤ thresh3 throughout.
  const order: Key[] = target && target.gc_thresh3 >= now.gc_thresh3 ? ['gc_thresh3', 'gc_thresh2'] : ['gc_thresh2', 'gc_thresh3'];
  for (const key of order) {
    // Without a target, restore the original, but only where our value is still in place.
    const want = target ? target[key] : applied && now[key] === applied[key] ? original[key] : now[key];
    if (want !== now[key]) {
      io.write(key, want);
      changes.push({ key: `${io.sysctlPrefix ?? 'net.ipv4.neigh.default'}.${key}`, from: now[key], to: want });
    }
  }
  io.saveState(Object.keys(labs).length ? { original, applied: target, labs } : undefined);
  return changes;
}

/** Record that lab `name` with `nodes` nodes exists, and raise the host's limits if the labs need it. */
export function reserveNeighbours(name: string, nodes: number, io: NeighIo = hostNeighIo): NeighChange[] {
  const state = io.loadState();
  const labs = { ...(state?.labs ?? {}), [name]: neighNeed(nodes) };
  return settle(io, state?.original ?? current(io), state?.applied, labs);
}

/** Forget lab `name`; lower the limits again (to the host's own values once no lab needs more). */
export function releaseNeighbours(name: string, io: NeighIo = hostNeighIo): NeighChange[] {
  const state = io.loadState();
  if (!state || !(name in state.labs)) return [];
  const labs = { ...state.labs };
  delete labs[name];
  return settle(io, state.original, state.applied, labs);
}

/** "net.ipv4.neigh.default.gc_thresh3 1024 → 2560" */
export function describeNeighChange(c: NeighChange): string {
  return `${c.key} ${c.from} → ${c.to}`;
}
