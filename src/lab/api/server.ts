/**
 * The HTTPS side of the stand-in: TLS with the lab's CA-signed certificate, bearer-token authentication
 * (users.json, re-read when it changes), JSON and Status bodies, chunked watch streams, `Warning`
 * headers, the `pods/exec` WebSocket upgrade, and an access log (one line per request, for counting what
 * a command asks of the API).
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { WebSocketServer } from 'ws';
import { ApiHandler, type ApiRequest, type ApiResponse } from './handler.js';
import { authenticate, type UsersFile } from './rbac.js';
import { ApiError, internalError, tooLarge, unauthorized, type StatusBody } from './status.js';
import { pickProtocol, runExecSession } from './exec.js';

const MAX_BODY = 3 * 1024 * 1024;
const ANONYMOUS_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

export interface ServerOptions {
  key: Buffer;
  cert: Buffer;
  usersFile: string;
  accessLog: string;
  log: (line: string) => void;
}

class Users {
  private mtime = -1;
  private users: UsersFile = { users: [] };

  constructor(private readonly file: string) {}

  get(): UsersFile {
    const m = statSync(this.file).mtimeMs;
    if (m !== this.mtime) {
      this.users = JSON.parse(readFileSync(this.file, 'utf8')) as UsersFile;
      this.mtime = m;
    }
    return this.users;
  }
}

function statusOf(err: unknown, log: (l: string) => void): StatusBody {
  if (err instanceof ApiError) return err.body;
  log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return internalError(err instanceof Error ? err.message : String(err)).body;
}

function warningHeader(texts: string[]): string[] {
  return texts.map((t) => `299 - ${JSON.stringify(t.replace(/[\r\n]+/g, ' '))}`);
}

export class ApiServer {
  private readonly servers: Server[] = [];
  private readonly users: Users;
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => pickProtocol(offered) ?? false });

  constructor(
    private readonly handler: ApiHandler,
    private readonly opts: ServerOptions,
  ) {
    this.users = new Users(opts.usersFile);
  }

  private access(req: IncomingMessage, user: string, status: number, t0: number): void {
    try {
      appendFileSync(this.opts.accessLog, `${new Date().toISOString()} ${user || '-'} ${req.method} ${req.url} ${status} ${Date.now() - t0}ms\n`);
    } catch {
      /* the lab is going away */
    }
  }

  async listen(addresses: string[], port: number): Promise<void> {
    for (const host of addresses) {
      const server = createServer({ key: this.opts.key, cert: this.opts.cert, minVersion: 'TLSv1.2' }, (req, res) => void this.onRequest(req, res));
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
      server.on('clientError', (_e, socket) => socket.destroy());
      server.keepAliveTimeout = 65_000;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      this.servers.push(server);
    }
  }

  close(): void {
    for (const s of this.servers) s.close();
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) throw tooLarge(`the request body is larger than ${MAX_BODY} bytes`);
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = Date.now();
    const url = new URL(req.url ?? '/', 'https://stand-in');
    let userName = '';
    const sendJson = (status: number, body: unknown, warnings: string[] = []) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private', ...(warnings.length ? { Warning: warningHeader(warnings) } : {}) });
      res.end(text);
      this.access(req, userName, status, t0);
    };
    try {
      const body = await this.readBody(req);
      const user = authenticate(this.users.get(), req.headers.authorization);
      if (!user && !ANONYMOUS_PATHS.has(url.pathname)) throw unauthorized();
      userName = user?.name ?? 'system:anonymous';
      const apiReq: ApiRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
        user: user ?? { name: 'system:anonymous', groups: ['system:unauthenticated'], entry: { name: 'system:anonymous', token: '', groups: [] } },
      };
      const r: ApiResponse = await this.handler.handle(apiReq);
      if (r.kind === 'json') return sendJson(r.status, r.body, r.warnings);
      if (r.kind === 'text') {
        res.writeHead(r.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(r.body) });
        res.end(r.body);
        return this.access(req, userName, r.status, t0);
      }
      res.writeHead(200, { 'Content-Type': r.contentType, 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      // a stream (watch, log -f) is logged when it starts
      this.access(req, userName, 200, t0);
      let closed = false;
      const stop = r.start({
        write: (chunk) => {
          if (!closed) res.write(chunk);
        },
        end: () => {
          if (closed) return;
          closed = true;
          res.end();
        },
      });
      res.on('close', () => {
        closed = true;
        stop();
      });
    } catch (err) {
      const s = statusOf(err, this.opts.log);
      if (!res.headersSent) sendJson(s.code, s);
      else res.destroy();
    }
  }

  /** `pods/exec` over WebSocket; anything else asking for an upgrade is refused. */
  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const t0 = Date.now();
    const url = new URL(req.url ?? '/', 'https://stand-in');
    let userName = '';
    const refuse = (s: StatusBody) => {
      const text = JSON.stringify(s);
      socket.end(`HTTP/1.1 ${s.code} ${s.reason ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
      this.access(req, userName, s.code, t0);
    };
    try {
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
      const user = authenticate(this.users.get(), req.headers.authorization);
      if (!user) throw unauthorized();
      userName = user.name;
      if (!m) throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the stand-in API upgrades pods/exec requests only', reason: 'BadRequest', code: 400 });
      const q = url.searchParams;
      const argv = this.handler.execArgv(user, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), q.get('container') ?? undefined, q.getAll('command'));
      const protocol = pickProtocol(String(req.headers['sec-websocket-protocol'] ?? '').split(','));
      if (!protocol) throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'no supported exec subprotocol offered; the stand-in speaks v5.channel.k8s.io and v4.channel.k8s.io', reason: 'BadRequest', code: 400 });
      const flag = (n: string, dflt: boolean) => (q.get(n) === null ? dflt : q.get(n) === 'true' || q.get(n) === '1');
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        runExecSession(ws, protocol, argv, { stdin: flag('stdin', false), stdout: flag('stdout', true), stderr: flag('stderr', true), tty: flag('tty', false) }, () => this.access(req, userName, 101, t0));
      });
    } catch (err) {
      refuse(statusOf(err, this.opts.log));
    }
  }
}
