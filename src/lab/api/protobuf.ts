/**
 * Request bodies in Kubernetes' protobuf encoding: kubectl's typed clients (`kubectl create namespace`,
 * `kubectl create configmap`) send `application/vnd.kubernetes.protobuf`, the "k8s\0" envelope around a
 * runtime.Unknown holding the object. The stand-in decodes the kinds those commands create (Namespace,
 * ConfigMap) into the JSON the rest of the server reads; anything else is a 415.
 */
import { unsupportedMediaType } from './status.js';

type Scalar = 'string' | 'bytes' | 'int64' | 'int32' | 'bool';
interface MessageSchema {
  [field: number]: { name: string; type: Scalar | MessageSchema | { map: [Scalar, Scalar] }; repeated?: boolean };
}

const TIME: MessageSchema = { 1: { name: 'seconds', type: 'int64' }, 2: { name: 'nanos', type: 'int32' } };
const OWNER_REFERENCE: MessageSchema = {
  1: { name: 'kind', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' },
  6: { name: 'controller', type: 'bool' },
  7: { name: 'blockOwnerDeletion', type: 'bool' },
};
const OBJECT_META: MessageSchema = {
  1: { name: 'name', type: 'string' },
  2: { name: 'generateName', type: 'string' },
  3: { name: 'namespace', type: 'string' },
  5: { name: 'uid', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'generation', type: 'int64' },
  8: { name: 'creationTimestamp', type: TIME },
  9: { name: 'deletionTimestamp', type: TIME },
  10: { name: 'deletionGracePeriodSeconds', type: 'int64' },
  11: { name: 'labels', type: { map: ['string', 'string'] } },
  12: { name: 'annotations', type: { map: ['string', 'string'] } },
  13: { name: 'ownerReferences', type: OWNER_REFERENCE, repeated: true },
  14: { name: 'finalizers', type: 'string', repeated: true },
};
export const SCHEMAS: Record<string, MessageSchema> = {
  Namespace: {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'spec', type: { 1: { name: 'finalizers', type: 'string', repeated: true } } },
    3: { name: 'status', type: { 1: { name: 'phase', type: 'string' } } },
  },
  ConfigMap: {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'data', type: { map: ['string', 'string'] } },
    3: { name: 'binaryData', type: { map: ['string', 'bytes'] } },
    4: { name: 'immutable', type: 'bool' },
  },
};
const TYPE_META: MessageSchema = { 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } };
const UNKNOWN: MessageSchema = { 1: { name: 'typeMeta', type: TYPE_META }, 2: { name: 'raw', type: 'bytes' }, 3: { name: 'contentEncoding', type: 'string' }, 4: { name: 'contentType', type: 'string' } };
export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

class Reader {
  pos = 0;
  constructor(private readonly b: Buffer) {}
  get done(): boolean {
    return this.pos >= this.b.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.b.length) throw new Error('truncated varint');
      const byte = this.b[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
      shift += 7n;
    }
  }
  bytes(): Buffer {
    const n = Number(this.varint());
    if (this.pos + n > this.b.length) throw new Error('truncated field');
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

function scalar(type: Scalar, r: Reader): unknown {
  switch (type) {
    case 'string':
      return r.bytes().toString('utf8');
    case 'bytes':
      return r.bytes().toString('base64');
    case 'bool':
      return r.varint() !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, r.varint()));
    case 'int64':
      return Number(BigInt.asIntN(64, r.varint()));
  }
}

function rfc3339(t: Record<string, unknown>): string {
  return new Date(Number(t.seconds ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function decodeMessage(buf: Buffer, schema: MessageSchema): Record<string, unknown> {
  const r = new Reader(buf);
  const out: Record<string, unknown> = {};
  while (!r.done) {
    const key = Number(r.varint());
    const field = key >>> 3;
    const wire = key & 7;
    const f = schema[field];
    if (!f) {
      r.skip(wire);
      continue;
    }
    let value: unknown;
    if (typeof f.type === 'string') value = scalar(f.type, r);
    else if ('map' in f.type && Array.isArray(f.type.map)) {
      const [kt, vt] = f.type.map as [Scalar, Scalar];
      const entry = decodeMessage(r.bytes(), { 1: { name: 'k', type: kt }, 2: { name: 'v', type: vt } });
      const m = (out[f.name] as Record<string, unknown> | undefined) ?? {};
      m[String(entry.k ?? '')] = entry.v ?? '';
      out[f.name] = m;
      continue;
    } else {
      value = decodeMessage(r.bytes(), f.type as MessageSchema);
      if (f.type === TIME) value = rfc3339(value as Record<string, unknown>);
    }
    if (f.repeated) out[f.name] = [...((out[f.name] as unknown[] | undefined) ?? []), value];
    // Go's encoder writes every non-pointer field: an empty string or a zero time means "not set"
    else if (value !== '' && !(f.type === TIME && value === rfc3339({}))) out[f.name] = value;
  }
  return out;
}

/** A protobuf request body as the JSON object it encodes (kinds in SCHEMAS only). */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  const refuse = (why: string) => unsupportedMediaType(`application/vnd.kubernetes.protobuf: ${why}`, ['application/json']);
  if (body.length < 4 || !body.subarray(0, 4).equals(PROTOBUF_MAGIC)) throw refuse('no k8s envelope');
  let unknown: Record<string, unknown>;
  try {
    unknown = decodeMessage(body.subarray(4), UNKNOWN);
  } catch (e) {
    throw refuse(e instanceof Error ? e.message : String(e));
  }
  const tm = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const schema = tm.kind ? SCHEMAS[tm.kind] : undefined;
  if (!schema) throw refuse(`the stand-in decodes ${Object.keys(SCHEMAS).join(' and ')} objects only, not ${tm.kind ?? 'this'}`);
  const raw = Buffer.from(String(unknown.raw ?? ''), 'base64');
  try {
    return { apiVersion: tm.apiVersion, kind: tm.kind, ...decodeMessage(raw, schema) };
  } catch (e) {
    throw refuse(e instanceof Error ? e.message : String(e));
  }
}
