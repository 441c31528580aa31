/**
 * The three PATCH formats of the Kubernetes API: JSON merge patch (RFC 7386), strategic merge patch (lists
 * merged by their patchMergeKey — conditions by `type`, containers by `name` — with the `$patch`,
 * `$retainKeys`, `$deleteFromPrimitiveList/…` and `$setElementOrder/…` directives) and JSON patch
 * (RFC 6902). Pure functions over JSON values; a bad patch throws an ApiError.
 */
import { badRequest, unprocessable, unsupportedMediaType, ApiError } from './status.js';
import { clone, isRecord } from './types.js';

export type PatchType = 'json' | 'merge' | 'strategic';

export const PATCH_MEDIA_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
};

export function patchTypeOf(contentType: string | undefined): PatchType {
  const base = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const t = PATCH_MEDIA_TYPES[base];
  if (!t) throw unsupportedMediaType(base, [...Object.keys(PATCH_MEDIA_TYPES), 'application/apply-patch+yaml (not served by the stand-in)']);
  return t;
}

/** RFC 7386: objects merge key by key, null deletes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return clone(patch);
  const result: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete result[k];
    else result[k] = applyMergePatch(result[k], v);
  }
  return result;
}

/** How a list is merged by a strategic merge patch: by a key field, as a set of primitives, or replaced. */
export interface ListStrategy {
  mergeKey?: string;
  /** a list of primitives merged as a set (patchStrategy "merge" without a key) */
  primitive?: boolean;
}

/** The lists with a patch strategy in the objects the stand-in serves (from the Kubernetes API types). */
const LIST_STRATEGIES: Record<string, ListStrategy> = {
  'metadata.finalizers': { primitive: true },
  'metadata.ownerReferences': { mergeKey: 'uid' },
  'spec.containers': { mergeKey: 'name' },
  'spec.initContainers': { mergeKey: 'name' },
  'spec.ephemeralContainers': { mergeKey: 'name' },
  'spec.containers.env': { mergeKey: 'name' },
  'spec.containers.ports': { mergeKey: 'containerPort' },
  'spec.containers.volumeMounts': { mergeKey: 'mountPath' },
  'spec.containers.volumeDevices': { mergeKey: 'devicePath' },
  'spec.volumes': { mergeKey: 'name' },
  'spec.imagePullSecrets': { mergeKey: 'name' },
  'spec.hostAliases': { mergeKey: 'ip' },
  'spec.topologySpreadConstraints': { mergeKey: 'topologyKey' },
  'spec.podCIDRs': { primitive: true },
  'status.conditions': { mergeKey: 'type' },
  'status.addresses': { mergeKey: 'type' },
  'status.podIPs': { mergeKey: 'ip' },
  'status.hostIPs': { mergeKey: 'ip' },
};

/** The strategy of the list at a path of field names (init and ephemeral containers read as containers). */
export function listStrategy(path: readonly string[]): ListStrategy | undefined {
  const key = path.join('.').replace(/^spec\.(initContainers|ephemeralContainers)\./, 'spec.containers.');
  return LIST_STRATEGIES[key];
}

const DIRECTIVE = '$patch';
const RETAIN = '$retainKeys';
const DELETE_FROM = '$deleteFromPrimitiveList/';
const ORDER = '$setElementOrder/';

function isDirectiveKey(k: string): boolean {
  return k === DIRECTIVE || k === RETAIN || k.startsWith(DELETE_FROM) || k.startsWith(ORDER);
}

/** A patch value without its directives, as a replacement value. */
function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((e) => !(isRecord(e) && e[DIRECTIVE] !== undefined && Object.keys(e).length === 1)).map(strip);
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (!isDirectiveKey(k) && x !== null) out[k] = strip(x);
  return out;
}

function orderBy(list: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const keyOf = (e: unknown) => (mergeKey && isRecord(e) ? e[mergeKey] : e);
  const wanted = order.map((o) => (mergeKey && isRecord(o) ? o[mergeKey] : o));
  const inOrder = wanted.flatMap((w) => list.filter((e) => keyOf(e) === w));
  return [...inOrder, ...list.filter((e) => !wanted.includes(keyOf(e)))];
}

function mergeList(orig: unknown, patch: unknown[], path: string[]): unknown[] {
  const current = Array.isArray(orig) ? orig : [];
  const strategy = listStrategy(path);
  if (patch.some((e) => isRecord(e) && e[DIRECTIVE] === 'replace')) return strip(patch) as unknown[];
  if (!strategy) return strip(patch) as unknown[];
  if (strategy.primitive) return [...current, ...patch.filter((e) => !current.includes(e))];
  const key = strategy.mergeKey!;
  const result = [...current];
  for (const item of patch) {
    if (!isRecord(item)) throw badRequest(`unable to find api field in struct for the patch: list ${path.join('.')} merges by "${key}" and needs objects`);
    if (item[key] === undefined) throw badRequest(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    const at = result.findIndex((o) => isRecord(o) && o[key] === item[key]);
    if (item[DIRECTIVE] === 'delete') {
      if (at >= 0) result.splice(at, 1);
      continue;
    }
    if (at >= 0) result[at] = mergeMap(result[at] as Record<string, unknown>, item, path);
    else result.push(strip(item));
  }
  return result;
}

function mergeMap(orig: Record<string, unknown>, patch: Record<string, unknown>, path: string[]): Record<string, unknown> | undefined {
  if (patch[DIRECTIVE] === 'delete') return undefined;
  if (patch[DIRECTIVE] === 'replace') return strip(patch) as Record<string, unknown>;
  if (patch[DIRECTIVE] !== undefined) throw badRequest(`Unknown patch type: ${String(patch[DIRECTIVE])}`);
  const result: Record<string, unknown> = { ...orig };
  const orders: [string, unknown[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k === RETAIN || k === DIRECTIVE) continue;
    if (k.startsWith(ORDER)) {
      if (Array.isArray(v)) orders.push([k.slice(ORDER.length), v]);
      continue;
    }
    if (k.startsWith(DELETE_FROM)) {
      const field = k.slice(DELETE_FROM.length);
      if (Array.isArray(result[field]) && Array.isArray(v)) result[field] = (result[field] as unknown[]).filter((e) => !v.includes(e));
      continue;
    }
    if (v === null) delete result[k];
    else if (Array.isArray(v)) result[k] = mergeList(result[k], v, [...path, k]);
    else if (isRecord(v)) {
      const merged = mergeMap(isRecord(result[k]) ? (result[k] as Record<string, unknown>) : {}, v, [...path, k]);
      if (merged === undefined) delete result[k];
      else result[k] = merged;
    } else result[k] = v;
  }
  for (const [field, order] of orders) {
    if (Array.isArray(result[field])) result[field] = orderBy(result[field] as unknown[], order, listStrategy([...path, field])?.mergeKey);
  }
  const retain = patch[RETAIN];
  if (Array.isArray(retain)) for (const k of Object.keys(result)) if (!retain.includes(k)) delete result[k];
  return result;
}

/** A strategic merge patch of an object (the list strategies of the Kubernetes types above). */
export function applyStrategicMergePatch(target: Record<string, unknown>, patch: unknown): Record<string, unknown> {
  if (!isRecord(patch)) throw badRequest('the patch is not a JSON object');
  return mergeMap(target, patch, []) ?? {};
}

interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw jsonPatchError(`invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function jsonPatchError(why: string): ApiError {
  return unprocessable(why);
}

function parentOf(doc: unknown, parts: string[], path: string): { parent: Record<string, unknown> | unknown[]; last: string } {
  let cur: unknown = doc;
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isRecord(cur)) cur = cur[p];
    else cur = undefined;
    if (cur === undefined) throw jsonPatchError(`doc is missing path: "${path}"`);
  }
  if (!Array.isArray(cur) && !isRecord(cur)) throw jsonPatchError(`doc is missing path: "${path}"`);
  return { parent: cur, last: parts[parts.length - 1]! };
}

function getAt(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const p of pointer(path)) {
    cur = Array.isArray(cur) ? cur[Number(p)] : isRecord(cur) ? cur[p] : undefined;
    if (cur === undefined) throw jsonPatchError(`doc is missing path: "${path}"`);
  }
  return cur;
}

function arrayIndex(list: unknown[], last: string, forAdd: boolean, path: string): number {
  if (forAdd && last === '-') return list.length;
  if (!/^(0|[1-9]\d*)$/.test(last)) throw jsonPatchError(`invalid array index in "${path}"`);
  const i = Number(last);
  if (i > list.length || (!forAdd && i === list.length)) throw jsonPatchError(`array index out of bounds in "${path}"`);
  return i;
}

function addAt(doc: unknown, path: string, value: unknown): unknown {
  const parts = pointer(path);
  if (parts.length === 0) return clone(value);
  const { parent, last } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true, path), 0, clone(value));
  else parent[last] = clone(value);
  return doc;
}

function removeAt(doc: unknown, path: string): unknown {
  const parts = pointer(path);
  const { parent, last } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false, path), 1);
  else {
    if (!(last in parent)) throw jsonPatchError(`doc is missing path: "${path}"`);
    delete parent[last];
  }
  return doc;
}

/** RFC 6902 on a copy of `doc`. */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('a JSON patch must be a list of operations');
  let out = clone(doc);
  for (const raw of ops as JsonPatchOp[]) {
    if (!isRecord(raw) || typeof raw.path !== 'string') throw jsonPatchError('an operation without a path');
    switch (raw.op) {
      case 'add':
        out = addAt(out, raw.path, raw.value);
        break;
      case 'remove':
        out = removeAt(out, raw.path);
        break;
      case 'replace':
        if (raw.path === '') {
          out = clone(raw.value);
          break;
        }
        getAt(out, raw.path);
        out = addAt(removeAt(out, raw.path), raw.path, raw.value);
        break;
      case 'move': {
        const v = getAt(out, raw.from ?? '');
        out = addAt(removeAt(out, raw.from ?? ''), raw.path, v);
        break;
      }
      case 'copy':
        out = addAt(out, raw.path, getAt(out, raw.from ?? ''));
        break;
      case 'test':
        if (JSON.stringify(getAt(out, raw.path)) !== JSON.stringify(raw.value)) throw jsonPatchError(`testing value ${raw.path} failed`);
        break;
      default:
        throw jsonPatchError(`Unexpected kind: ${String(raw.op)}`);
    }
  }
  return out;
}

/** Apply a patch of the given type to an object. */
export function applyPatch(type: PatchType, target: Record<string, unknown>, patch: unknown): Record<string, unknown> {
  const out = type === 'merge' ? applyMergePatch(target, patch) : type === 'strategic' ? applyStrategicMergePatch(target, patch) : applyJsonPatch(target, patch);
  if (!isRecord(out)) throw badRequest('the patched object is not a JSON object');
  return out;
}
