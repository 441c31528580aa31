/**
 * Reading a request: which resource, namespace, name and subresource its path names, the verb it is for
 * the authorizer, whether it wants a Table, and its body (JSON, or protobuf for the kinds kubectl's typed
 * clients send).
 */
import { randomBytes } from 'node:crypto';
import { decodeProtobufObject } from './protobuf.js';
import type { ApiRequest, ApiResponse } from './request.js';
import { resourceDef, type ResourceDef } from './resources.js';
import { badRequest, unsupportedMediaType } from './status.js';
import type { IncludeObject } from './tables.js';
import type { KObject } from './types.js';

/** Where a request points: resource, namespace, name, subresource. */
export interface Target {
  def: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  watchPath: boolean;
}

const NS_SUBRESOURCES = ['status', 'finalize'];

export function parseResourcePath(path: string): Target | undefined {
  let parts: string[];
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (parts[0] !== 'api' || parts[1] !== 'v1') return undefined;
  let rest = parts.slice(2);
  const watchPath = rest[0] === 'watch';
  if (watchPath) rest = rest.slice(1);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !NS_SUBRESOURCES.includes(rest[2]!)) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  const def = resource ? resourceDef(resource) : undefined;
  if (!def || extra.length) return undefined;
  if (namespace !== undefined && !def.namespaced) return undefined;
  if (def.namespaced && namespace === undefined && name !== undefined) return undefined;
  if (subresource && !def.subresources.some((s) => s.name === subresource)) return undefined;
  return { def, namespace, name, subresource, watchPath };
}

export function header(req: ApiRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

export function wantsTable(req: ApiRequest): boolean {
  return (header(req, 'accept') ?? '').split(',').some((p) => /;\s*as=Table/.test(p) && /g=meta\.k8s\.io/.test(p));
}

export function includeObject(req: ApiRequest): IncludeObject {
  const v = req.query.get('includeObject');
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

export function typed(def: ResourceDef, o: KObject): KObject {
  return { kind: def.kind, apiVersion: 'v1', ...o };
}

/** List items carry no kind or apiVersion (as the real API encodes them). */
export function untyped(o: KObject): KObject {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return rest as KObject;
}

export function json(status: number, body: unknown, warnings?: string[]): ApiResponse {
  return { kind: 'json', status, body, ...(warnings?.length ? { warnings } : {}) };
}

export function parseBody(req: ApiRequest): unknown {
  const type = (header(req, 'content-type') ?? 'application/json').split(';')[0]!.trim();
  if (type === 'application/vnd.kubernetes.protobuf') return decodeProtobufObject(req.body);
  if (req.method !== 'PATCH' && type !== 'application/json' && type !== '*/*' && type !== '') throw unsupportedMediaType(type, ['application/json', 'application/vnd.kubernetes.protobuf (Namespace and ConfigMap only)']);
  try {
    return JSON.parse(req.body.toString('utf8') || 'null');
  } catch (e) {
    throw badRequest(`error decoding the request body: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
export function generatedName(prefix: string): string {
  const b = randomBytes(5);
  return prefix + [...b].map((x) => NAME_CHARS[x % NAME_CHARS.length]).join('');
}

export function verbOf(req: ApiRequest, t: Target): string {
  if (t.subresource === 'exec' || t.subresource === 'binding') return 'create';
  switch (req.method) {
    case 'GET':
      return t.name ? 'get' : isWatch(req, t) ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return t.name ? 'delete' : 'deletecollection';
    default:
      return req.method.toLowerCase();
  }
}

export function isWatch(req: ApiRequest, t: Target): boolean {
  const w = req.query.get('watch');
  return t.watchPath || w === 'true' || w === '1';
}

