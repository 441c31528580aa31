/**
 * `pods/exec` over WebSocket, as the API server streams it since Kubernetes 1.30: subprotocols
 * v5.channel.k8s.io (preferred) and v4.channel.k8s.io; every binary message starts with its channel
 * (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize); the command's end is a v4 Status on channel 3 —
 * Success, or Failure with reason NonZeroExitCode and the code as an ExitCode cause — and a normal
 * close. v5 adds the client's "close stream" signal (channel 255, then the stream's channel), which is
 * how `kubectl exec -i` says stdin has ended.
 */
import { spawn } from 'node:child_process';
import type { WebSocket } from 'ws';
import { exitCodeOf } from './runtime.js';

export const EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;
export type ExecProtocol = (typeof EXEC_PROTOCOLS)[number];

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const;

/** The subprotocol the server picks from the client's offer (its own preference order), if any. */
export function pickProtocol(offered: Iterable<string>): ExecProtocol | undefined {
  const set = new Set([...offered].map((p) => p.trim()));
  return EXEC_PROTOCOLS.find((p) => set.has(p));
}

/** The v4 status JSON written on channel 3 when the command has ended. */
export function exitStatus(code: number): Record<string, unknown> {
  if (code === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command, exit code ${code}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

export function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from([channel]), body]);
}

export type ClientMessage = { kind: 'stdin'; data: Buffer } | { kind: 'close'; channel: number } | { kind: 'resize'; data: Buffer } | { kind: 'ignored' };

/** Decode one binary message from the client. */
export function decodeClientMessage(msg: Buffer, protocol: ExecProtocol): ClientMessage {
  if (msg.length === 0) return { kind: 'ignored' };
  const ch = msg[0];
  if (ch === CHANNEL.stdin) return { kind: 'stdin', data: msg.subarray(1) };
  if (ch === CHANNEL.resize) return { kind: 'resize', data: msg.subarray(1) };
  if (ch === CHANNEL.close && protocol === 'v5.channel.k8s.io' && msg.length >= 2) return { kind: 'close', channel: msg[1]! };
  return { kind: 'ignored' };
}

export interface ExecStreams {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/**
 * Run argv for one WebSocket and stream it. Without a terminal the command reads stdin as sent; with
 * `tty` (no pseudo-terminal in the stand-in) stderr is sent on stdout's channel, as a terminal would merge it.
 */
export function runExecSession(ws: WebSocket, protocol: ExecProtocol, argv: string[], streams: ExecStreams, onEnd?: (code: number) => void): void {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: [streams.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  const send = (channel: number, data: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(frame(channel, data), { binary: true });
  };
  child.stdout?.on('data', (d: Buffer) => streams.stdout && send(CHANNEL.stdout, d));
  child.stderr?.on('data', (d: Buffer) => (streams.tty ? streams.stdout && send(CHANNEL.stdout, d) : streams.stderr && send(CHANNEL.stderr, d)));
  child.stdin?.on('error', () => undefined);
  let done = false;
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    if (!isBinary) return;
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    const m = decodeClientMessage(buf, protocol);
    if (m.kind === 'stdin' && child.stdin && !child.stdin.writableEnded) child.stdin.write(m.data);
    else if (m.kind === 'close' && m.channel === CHANNEL.stdin) child.stdin?.end();
  });
  // the client went away: stdin ends (the command itself runs on, as in a real cluster)
  ws.on('close', () => {
    if (!done) child.stdin?.end();
  });
  ws.on('error', () => undefined);
  child.on('error', () => undefined);
  child.on('close', (code, signal) => {
    done = true;
    const exit = exitCodeOf(code, signal);
    if (ws.readyState === ws.OPEN) {
      ws.send(frame(CHANNEL.error, JSON.stringify(exitStatus(exit))), { binary: true });
      ws.close(1000);
    }
    onEnd?.(exit);
  });
}
