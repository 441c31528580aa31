/**
 * Boundary: local files named on the command line (or in a file so named). Input files are small; reading one
 * must never hang or exhaust memory on a wrong path (/dev/zero, a FIFO, a terminal, a huge log), so a file is
 * read only when it is a regular file within a size cap, and the read itself stops at the cap. Every problem is
 * one UserError line naming the flag (or field) and what was expected.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { describeValue } from './describe.js';
import { UserError } from './errors.js';

export interface InputFileSpec {
  /** who named the file, first in the message: "--kubeconfig", "--kubeconfig: users[0].user.token-file" */
  label: string;
  /** what it should be, after "expected": "a kubeconfig file" */
  what: string;
  maxBytes: number;
  hint?: string;
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENAMETOOLONG':
      return 'file name too long';
    case 'EISDIR':
      return 'a directory';
    default:
      return `cannot be read (${code ?? (err instanceof Error ? err.message.split('\n')[0] : String(err))})`;
  }
}

function problem(path: string, reason: string, spec: InputFileSpec): UserError {
  return new UserError(`${spec.label}: cannot load ${describeValue(path)}: ${reason}; expected ${spec.what}`, spec.hint);
}

function humanBytes(n: number): string {
  return n % (1024 * 1024) === 0 ? `${n / (1024 * 1024)} MiB` : n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}

function checkStats(path: string, st: Stats, spec: InputFileSpec): void {
  if (!st.isFile()) throw problem(path, `${kindOf(st)}, not a regular file`, spec);
  if (st.size > spec.maxBytes) throw problem(path, `${st.size} bytes is larger than ${humanBytes(spec.maxBytes)}`, spec);
}

/** Refuse a path that could not be read as an input file (missing, unreadable, not regular, too large) without reading it. */
export function checkInputFile(path: string, spec: InputFileSpec): void {
  if (path === '') throw new UserError(`${spec.label}: empty; expected the path of ${spec.what}`, spec.hint);
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw problem(path, reasonOf(e), spec);
  }
  checkStats(path, st, spec);
}

/** Read a small input file as UTF-8: a regular file of at most spec.maxBytes, or a UserError. */
export function readInputFile(path: string, spec: InputFileSpec): string {
  // stat before open: opening a device or a FIFO can block or have side effects.
  checkInputFile(path, spec);
  let fd: number;
  try {
    // O_NONBLOCK: should the path have become a FIFO since the stat, open returns instead of waiting for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    throw problem(path, reasonOf(e), spec);
  }
  try {
    checkStats(path, fstatSync(fd), spec);
    // The size can be wrong (a file still growing, /proc): read at most one byte more than allowed.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, spec.maxBytes + 1 - total));
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (e) {
        throw problem(path, reasonOf(e), spec);
      }
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > spec.maxBytes) throw problem(path, `larger than ${humanBytes(spec.maxBytes)}`, spec);
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
