/** The API's requests and responses, as the handler sees them (no sockets). */
import type { UserEntry } from './rbac.js';
import type { User } from './types.js';

export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  user: User & { entry: UserEntry };
}

export interface StreamSink {
  write(chunk: string): void;
  end(): void;
}

export type ApiResponse =
  | { kind: 'json'; status: number; body: unknown; warnings?: string[] }
  | { kind: 'text'; status: number; body: string }
  | { kind: 'stream'; contentType: string; start: (out: StreamSink) => () => void };
