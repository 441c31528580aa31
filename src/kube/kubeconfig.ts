/**
 * Boundary: the kubeconfig files that doctor --kubeconfig names, and the files they name in turn. Everything
 * is checked here, before @kubernetes/client-node sees it: the client reads files with readFileSync, whole and
 * unbounded, so a kubeconfig of /dev/zero (or a token-file or client-key pointing there) would never return.
 * Every file must be a regular file within a size cap (util/files.ts), and every problem is one UserError
 * naming --kubeconfig (exit 2, before any node is touched). No client-node import here.
 */
import { existsSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { describeValue } from '../util/describe.js';
import { UserError } from '../util/errors.js';
import { checkInputFile, readInputFile, type InputFileSpec } from '../util/files.js';

/** Kubeconfigs with embedded certificates for many clusters stay far below this. */
export const MAX_KUBECONFIG_BYTES = 4 * 1024 * 1024;
/** Certificates, keys and tokens that a kubeconfig names by path. */
export const MAX_REFERENCED_FILE_BYTES = 1024 * 1024;

const EXPECTED = 'a kubeconfig file';
export const KUBECONFIG_HINT = 'pass a readable kubeconfig file (several may be joined with ":", as in KUBECONFIG)';

export interface KubeconfigText {
  path: string;
  /** YAML text for the client: the file as read, or "{}" for an empty one */
  text: string;
}

function spec(label = '--kubeconfig', what = EXPECTED, maxBytes = MAX_KUBECONFIG_BYTES): InputFileSpec {
  return { label, what, maxBytes, hint: KUBECONFIG_HINT };
}

/** The files of a --kubeconfig value: one path, or several joined with ":" as in KUBECONFIG (empty entries skipped, as kubectl does). */
export function kubeconfigPaths(value: string, label = '--kubeconfig'): string[] {
  const paths = value.split(':').filter((p) => p !== '');
  if (paths.length === 0) throw new UserError(`${label}: ${value === '' ? 'empty' : `${describeValue(value)} names no file`}; expected the path of ${EXPECTED}`, KUBECONFIG_HINT);
  return paths;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function oneLine(text: string): string {
  return (text.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
}

/**
 * Parse one kubeconfig's YAML and check the files that the client reads while loading it (users' token files).
 * Returns false for an empty document (only comments, or nothing).
 */
function checkKubeconfig(path: string, text: string, label = '--kubeconfig'): boolean {
  const cannot = (reason: string) => new UserError(`${label}: cannot load ${describeValue(path)}: ${reason}; expected ${EXPECTED}`, KUBECONFIG_HINT);
  const doc = parseDocument(text);
  const err = doc.errors[0];
  if (err) {
    const line = err.linePos?.[0]?.line;
    throw cannot(`malformed YAML${line !== undefined ? ` at line ${line}` : ''}: ${oneLine(err.message)}`);
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (e) {
    throw cannot(`malformed YAML: ${oneLine(e instanceof Error ? e.message : String(e))}`);
  }
  if (raw === null || raw === undefined) return false;
  if (!isMapping(raw)) throw cannot(`${Array.isArray(raw) ? 'a list' : `a single value ${describeValue(raw)}`}, not a mapping of clusters, contexts and users`);
  for (const key of ['clusters', 'contexts', 'users'] as const) {
    if (raw[key] !== undefined && raw[key] !== null && !Array.isArray(raw[key])) throw cannot(`${key} is ${describeValue(raw[key])}, not a list`);
  }
  const users = Array.isArray(raw.users) ? raw.users : [];
  users.forEach((u: unknown, i) => {
    const user = isMapping(u) && isMapping(u.user) ? u.user : undefined;
    const authConfig = user && isMapping(user['auth-provider']) && isMapping(user['auth-provider'].config) ? user['auth-provider'].config : undefined;
    // The client reads both relative to the working directory, token-file while loading, tokenFile per request.
    for (const [field, value] of [
      [`users[${i}].user.token-file`, user?.['token-file']],
      [`users[${i}].user.auth-provider.config.tokenFile`, authConfig?.tokenFile],
    ] as const) {
      if (typeof value === 'string' && value !== '') checkReferencedFile(`${describeValue(path)} ${field}`, value, 'a token file', label);
    }
  });
  return true;
}

/**
 * A file that a kubeconfig names (a token, a certificate, a key): a regular file within the cap, or a UserError
 * naming --kubeconfig and the field. `where` says which kubeconfig and field: `"/root/.kube/config" users[0].user.token-file`.
 */
export function checkReferencedFile(where: string, path: string, what: string, label = '--kubeconfig'): void {
  checkInputFile(path, spec(`${label}: ${where}`, what, MAX_REFERENCED_FILE_BYTES));
}

/** Read and check every file of a --kubeconfig value, in order. */
export function readKubeconfigs(value: string, label = '--kubeconfig'): KubeconfigText[] {
  let paths = kubeconfigPaths(value, label);
  // kubectl skips a KUBECONFIG entry that does not exist (not a --kubeconfig that does not)
  if (label === 'KUBECONFIG') {
    const there = paths.filter((p) => existsSync(p));
    if (there.length) paths = there;
  }
  return paths.map((path) => {
    const text = readInputFile(path, spec(label));
    // (the client cannot load an empty document; kubectl treats it as an empty config)
    return { path, text: checkKubeconfig(path, text, label) ? text : '{}' };
  });
}
