/**
 * How podnet talks to a node's shell over any byte stream (an SSH session, a pods/exec stream): each
 * script framed as a here-document with a random delimiter and followed by end markers, the node lock
 * taken by the session's own shell. Pure text in, text out.
 */
import { lastLine } from './util.js';
import type { LockResult } from './types.js';

/**
 * What the session's shell is sent for one script: the script as a here-document (quoted delimiter:
 * no expansion; the delimiter is random, so no script line can end it early) for a fresh `sh -s`, then
 * the exit code after an end marker on stdout and an end marker on stderr. Each marker follows a
 * newline so it starts a line whatever the script printed last; the parser drops that newline again.
 */
export function frameScript(script: string, nonce: string): string {
  const body = script.endsWith('\n') ? script : `${script}\n`;
  // fd 9 is the session's node lock (see lockCommand): scripts, and what they leave running, must not hold it.
  return `sh -s 9>&- <<'@@podnet:${nonce}'\n${body}@@podnet:${nonce}\n${endMarkers(nonce)}`;
}

function endMarkers(nonce: string): string {
  return `printf '\\n@@podnet:end ${nonce} %s\\n' "$?"; printf '\\n@@podnet:end ${nonce}\\n' >&2\n`;
}

/** The node-wide lock podnet's changing runs take; it lives in /run, so a reboot clears it. */
export const LOCK_FILE = '/run/podnet.lock';

/**
 * Run in the session's own shell (not a child), so the lock on fd 9 lasts exactly as long as the
 * session: released when podnet closes it, and when podnet dies (the node's sshd ends the session).
 * `command exec` keeps a failing redirection from ending the shell. Exit 75 = held by another run
 * (its owner line follows), 127 = no flock on the node.
 */
export function lockCommand(owner: string): string {
  const o = owner.replace(/[^A-Za-z0-9 @:._,()/-]/g, '?');
  return `if ! command -v flock >/dev/null 2>&1; then (exit 127); elif ! command exec 9>>${LOCK_FILE}; then (exit 1); elif flock -n 9; then printf '%s\\n' '${o}' > ${LOCK_FILE}.owner; else cat ${LOCK_FILE}.owner 2>/dev/null; (exit 75); fi`;
}

export function frameInShell(command: string, nonce: string): string {
  return `${command}\n${endMarkers(nonce)}`;
}

export const LOCK_FAILED_MARK = '@@podnet:lock-failed';

/**
 * The lock and a script in one round trip: the session's shell takes the lock, then runs the script only
 * if it got it; otherwise the holder (or nothing) and a marker with the lock's exit code are printed.
 */
export function frameLocked(script: string, nonce: string, owner: string): string {
  const body = script.endsWith('\n') ? script : `${script}\n`;
  return `${lockCommand(owner)}
podnet_lock=$?
if [ "$podnet_lock" -eq 0 ]; then sh -s 9>&- <<'@@podnet:${nonce}'
${body}@@podnet:${nonce}
else printf '\\n${LOCK_FAILED_MARK} ${nonce} %s\\n' "$podnet_lock"; fi
${endMarkers(nonce)}`;
}

/** What a lock attempt's exit code and output mean. */
export function lockOutcome(code: number, stdout: string, stderr: string): LockResult {
  if (code === 0) return { locked: true };
  if (code === 75) return { locked: false, holder: lastLine(stdout) || 'another podnet run' };
  if (code === 127) return { locked: false, error: 'flock is missing on the node (util-linux): podnet cannot keep two runs from changing it at once', hint: 'install util-linux on the node' };
  return { locked: false, error: `cannot open ${LOCK_FILE}: ${lastLine(stderr) || `exit ${code}`}`, hint: 'connect as root, or set ssh.sudo: true for a user with passwordless sudo' };
}

/** Split a framed run's output off the session's streams; undefined until both end markers arrived. */
export function parseFramed(out: string, err: string, nonce: string): { exitCode: number; stdout: string; stderr: string; restOut: string; restErr: string } | undefined {
  const om = `\n@@podnet:end ${nonce} `;
  const em = `\n@@podnet:end ${nonce}\n`;
  const oi = out.indexOf(om);
  const ei = err.indexOf(em);
  if (oi < 0 || ei < 0) return undefined;
  const eol = out.indexOf('\n', oi + om.length);
  if (eol < 0) return undefined;
  return {
    exitCode: Number(out.slice(oi + om.length, eol)),
    stdout: out.slice(0, oi),
    stderr: err.slice(0, ei),
    restOut: out.slice(eol + 1),
    restErr: err.slice(ei + em.length),
  };
}

