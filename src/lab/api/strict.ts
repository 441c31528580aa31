/**
 * Strict field validation (`?fieldValidation=Strict`, what kubectl sends): fields the Kubernetes schema
 * does not have are refused (`strict decoding error: unknown field "spec.containers[0].imagee"`), or
 * warned about with Warn. The schema is the one @kubernetes/client-node's models are generated from (the
 * Kubernetes OpenAPI spec), read model by model as a request needs it.
 */
import { isRecord } from './types.js';

interface Attribute {
  baseName: string;
  type: string;
}

type ModelLoader = (name: string) => Promise<Attribute[] | undefined>;

const cache = new Map<string, Promise<Attribute[] | undefined>>();

/** A model's attributes from client-node's generated models (undefined when it has no such model). */
export const clientNodeModel: ModelLoader = (name) => {
  let p = cache.get(name);
  if (!p) {
    p = import(`@kubernetes/client-node/dist/gen/models/${name}.js`)
      .then((m: Record<string, { getAttributeTypeMap?: () => Attribute[] }>) => m[name]?.getAttributeTypeMap?.())
      .catch(() => undefined);
    cache.set(name, p);
  }
  return p;
};

/** The model of a kind the stand-in serves. */
export const MODEL_OF_KIND: Record<string, string> = { Pod: 'V1Pod', Namespace: 'V1Namespace', ConfigMap: 'V1ConfigMap', Node: 'V1Node', Event: 'CoreV1Event', Binding: 'V1Binding' };

const SCALARS = new Set(['string', 'number', 'boolean', 'any', 'Date', 'IntOrString', 'object']);

/** The fields of `value` that the schema of `type` does not have, as paths (`spec.containers[0].foo`). */
export async function unknownFields(value: unknown, type: string, load: ModelLoader = clientNodeModel, path = ''): Promise<string[]> {
  if (value === null || value === undefined || SCALARS.has(type)) return [];
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) return Array.isArray(value) ? (await Promise.all(value.map((v, i) => unknownFields(v, arr[1]!, load, `${path}[${i}]`)))).flat() : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return isRecord(value) ? (await Promise.all(Object.entries(value).map(([k, v]) => unknownFields(v, map[1]!, load, path ? `${path}.${k}` : k)))).flat() : [];
  const attrs = await load(type);
  if (!attrs || !isRecord(value)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const a = attrs.find((x) => x.baseName === k);
    const p = path ? `${path}.${k}` : k;
    if (!a) out.push(p);
    else out.push(...(await unknownFields(v, a.type, load, p)));
  }
  return out;
}
