/**
 * Every object podnet creates in a cluster, checked against the Kubernetes OpenAPI schema from maintained
 * packages, not a hand-written one:
 *  - kubernetes-models (its ajv validators, compiled from the API's OpenAPI schema): types, enums, required
 *    fields;
 *  - @kubernetes/client-node's generated models (from the OpenAPI spec of its Kubernetes version): every key
 *    podnet writes must be a field the API knows. The OpenAPI schema leaves additionalProperties open, so
 *    the validators above accept a misspelt field, and the API server would drop it with only a warning
 *    (fieldValidation=Warn by default): `automountServiceAccountTokn: false` would leave the token mounted.
 * Plus what the schema cannot say and the API server's validation does: names (RFC 1123), label keys and
 * values, the annotations' size (the rules of k8s.io/apimachinery/pkg/util/validation), and the lab
 * stand-in's own validation and PodSecurity admission, which must accept them too. Negative tests prove
 * each check can fail.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Pod as PodModel } from 'kubernetes-models/v1/Pod';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { DEFAULT_HELPER_IMAGE, helperNamespace, helperPod, type HelperSettings } from '../../src/kube/objects.js';
import { DEFAULT_SUBJECT, rbacObjects, type RbacOptions } from '../../src/kube/rbac.js';
import { admitPod } from '../../src/lab/api/admission.js';
import { defaultPod, validateNamespace, validatePod } from '../../src/lab/api/validation.js';
import type { KObject, Pod } from '../../src/lab/api/types.js';

type Obj = Record<string, unknown> & { apiVersion?: string; kind?: string };

// ---------------------------------------------------------------------------------------------------
// 1. kubernetes-models: the OpenAPI schema's types, enums and required fields

interface Validating {
  validate(): void;
}
const MODELS: Record<string, new (data: never) => Validating> = {
  'v1/Namespace': Namespace,
  'v1/Pod': PodModel,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

/** Throws with ajv's errors (`data/spec/hostNetwork must be boolean`) when the schema refuses the object. */
function schemaValidate(o: Obj): void {
  const Model = MODELS[`${o.apiVersion}/${o.kind}`];
  assert.ok(Model, `no schema model for ${o.apiVersion} ${o.kind}`);
  // structuredClone: the model must see exactly podnet's JSON (no prototypes, no undefined)
  new Model(JSON.parse(JSON.stringify(o)) as never).validate();
}

// ---------------------------------------------------------------------------------------------------
// 2. client-node's generated models: no key the API does not know

type AttributeType = { baseName: string; type: string };
type ModelClass = { getAttributeTypeMap(): AttributeType[] };
const CLIENT_MODELS = k8s as unknown as Record<string, ModelClass | undefined>;
const CLIENT_TYPE: Record<string, string> = {
  Namespace: 'V1Namespace',
  Pod: 'V1Pod',
  ClusterRole: 'V1ClusterRole',
  ClusterRoleBinding: 'V1ClusterRoleBinding',
  Role: 'V1Role',
  RoleBinding: 'V1RoleBinding',
};

function unknownFieldsOf(value: unknown, type: string, path: string, out: string[]): void {
  let m: RegExpExecArray | null;
  if ((m = /^Array<(.+)>$/.exec(type))) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFieldsOf(v, m![1]!, `${path}[${i}]`, out));
    return;
  }
  if ((m = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
    if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) unknownFieldsOf(v, m[1]!, `${path}[${JSON.stringify(k)}]`, out);
    return;
  }
  const model = CLIENT_MODELS[type];
  // a primitive (string, number, boolean, Date, IntOrString, any): its value is the schema validator's concern
  if (typeof model?.getAttributeTypeMap !== 'function' || !value || typeof value !== 'object') return;
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    const t = fields.get(k);
    if (t === undefined) out.push(`${path}.${k}`);
    else unknownFieldsOf(v, t, `${path}.${k}`, out);
  }
}

function unknownFields(o: Obj): string[] {
  const type = CLIENT_TYPE[String(o.kind)];
  assert.ok(type && CLIENT_MODELS[type], `no client-node model for ${o.kind}`);
  const out: string[] = [];
  unknownFieldsOf(o, type, String(o.kind), out);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// 3. What the API server validates beyond the schema (k8s.io/apimachinery/pkg/util/validation)

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const TOTAL_ANNOTATION_BYTES = 256 * 1024;

const isLabel = (s: string) => s.length <= 63 && DNS1123_LABEL.test(s);
const isSubdomain = (s: string) => s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
function isQualifiedName(key: string): boolean {
  const parts = key.split('/');
  if (parts.length > 2) return false;
  const name = parts.pop()!;
  const prefix = parts[0];
  return (prefix === undefined || isSubdomain(prefix)) && name.length <= 63 && QUALIFIED_NAME.test(name);
}
/** RBAC object names: ValidatePathSegmentName. */
const isPathSegment = (s: string) => s !== '' && s !== '.' && s !== '..' && !/[/%]/.test(s);

/** The API server's refusals of names, labels and annotations (as "field: why"). */
function apiValidationErrors(o: Obj): string[] {
  const errs: string[] = [];
  const meta = (o.metadata ?? {}) as { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  const name = meta.name ?? '';
  const rbac = String(o.apiVersion).startsWith('rbac.authorization.k8s.io/');
  if (o.kind === 'Namespace' && !isLabel(name)) errs.push(`metadata.name: ${JSON.stringify(name)} is not a DNS-1123 label`);
  if (o.kind === 'Pod' && !isSubdomain(name)) errs.push(`metadata.name: ${JSON.stringify(name)} is not a DNS-1123 subdomain`);
  if (rbac && !isPathSegment(name)) errs.push(`metadata.name: ${JSON.stringify(name)} is not a path segment name`);
  if (meta.namespace !== undefined && !isLabel(meta.namespace)) errs.push(`metadata.namespace: ${JSON.stringify(meta.namespace)} is not a DNS-1123 label`);
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    if (!isQualifiedName(k)) errs.push(`metadata.labels: key ${JSON.stringify(k)} is not a qualified name`);
    if (v.length > 63 || !LABEL_VALUE.test(v)) errs.push(`metadata.labels[${JSON.stringify(k)}]: ${JSON.stringify(v)} is not a valid label value`);
  }
  let bytes = 0;
  for (const [k, v] of Object.entries(meta.annotations ?? {})) {
    if (!isQualifiedName(k.toLowerCase())) errs.push(`metadata.annotations: key ${JSON.stringify(k)} is not a qualified name`);
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (bytes > TOTAL_ANNOTATION_BYTES) errs.push(`metadata.annotations: ${bytes} bytes, more than 256 KiB`);
  if (o.kind === 'Pod') {
    const spec = o.spec as { containers?: { name?: string }[] };
    for (const [i, c] of (spec.containers ?? []).entries()) if (!isLabel(c.name ?? '')) errs.push(`spec.containers[${i}].name: ${JSON.stringify(c.name)} is not a DNS-1123 label`);
  }
  for (const s of (o.subjects ?? []) as { kind: string; name: string; namespace?: string }[]) {
    if (s.kind === 'ServiceAccount' && (!isSubdomain(s.name) || !isLabel(s.namespace ?? ''))) errs.push(`subjects: ServiceAccount ${s.namespace}/${s.name} is not a valid name`);
  }
  return errs;
}

/** All three, with the object's own words in the failure. */
function assertValid(o: Obj, what: string): void {
  try {
    schemaValidate(o);
  } catch (err) {
    assert.fail(`${what}: the OpenAPI schema refuses it: ${(err as Error).message}`);
  }
  assert.deepEqual(unknownFields(o), [], `${what}: fields the API does not know`);
  assert.deepEqual(apiValidationErrors(o), [], `${what}: the API server's validation refuses it`);
}

// ---------------------------------------------------------------------------------------------------

const BASE: HelperSettings = {
  runId: 'a1b2c3',
  namespace: 'podnet-a1b2c3',
  image: DEFAULT_HELPER_IMAGE,
  owner: 'alice@ops-1 pid 4242',
  deadlineSeconds: 3600,
  node: 'node-1',
  name: 'podnet-a1b2c3-0',
};

/** A Node name as long as the API allows (253, a DNS subdomain of four labels). */
const LONGEST_NODE = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.');

const SETTINGS: [string, HelperSettings][] = [
  ['the defaults', BASE],
  ['a 253-character node name', { ...BASE, node: LONGEST_NODE, name: 'podnet-a1b2c3-31' }],
  ['a node name that is an FQDN with digits', { ...BASE, node: 'ip-10-0-12-34.eu-west-1.compute.internal', name: 'podnet-a1b2c3-7' }],
  ['a private registry by digest, a namespace the user named, a day-long deadline', {
    ...BASE,
    image: `registry.example.com:5000/platform/python@sha256:${'0123456789abcdef'.repeat(4)}`,
    namespace: 'ops',
    deadlineSeconds: 86_400,
    owner: 'svc-podnet@bastion.example.com pid 1',
    name: 'podnet-a1b2c3-999',
  }],
];

describe('the helper namespace', () => {
  for (const [what, s] of SETTINGS) {
    test(what, () => assertValid(helperNamespace(s, new Date('2025-06-01T10:00:00.123Z')), `namespace (${what})`));
  }

  test('the lab stand-in\'s API validation stores it', () => {
    validateNamespace(helperNamespace(BASE) as unknown as KObject);
  });
});

describe('the helper pod', () => {
  for (const [what, s] of SETTINGS) {
    test(what, () => {
      const pod = helperPod(s, new Date('2025-06-01T10:00:00.123Z'));
      assertValid(pod, `pod (${what})`);
      // the stand-in's API server validation (names, required fields, node affinity) and its defaults
      validatePod(defaultPod(pod as unknown as Pod));
    });
  }

  test('the namespace podnet creates admits it (PodSecurity privileged), a baseline one does not', () => {
    const pod = helperPod(BASE) as unknown as Pod;
    assert.deepEqual(admitPod(pod, helperNamespace(BASE) as unknown as KObject), { warnings: [] });
    const baseline = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ops', labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } } } as KObject;
    assert.equal(admitPod(pod, baseline).error?.code, 403);
  });
});

describe('the RBAC objects (podnet rbac)', () => {
  const variants: [string, RbacOptions][] = [
    ['the default', { name: 'podnet', subjects: [DEFAULT_SUBJECT], nodeStatus: true }],
    ['every subject kind, another name, no node status', {
      name: 'system:podnet-ops',
      subjects: [{ kind: 'User', name: 'alice@example.com' }, { kind: 'Group', name: 'oidc:sre' }, { kind: 'ServiceAccount', namespace: 'ops', name: 'podnet.runner' }],
      nodeStatus: false,
    }],
  ];
  for (const [what, o] of variants) {
    test(what, () => {
      const objs = rbacObjects(o).map((x) => x.object);
      assert.deepEqual(objs.map((x) => x.kind), ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
      for (const x of objs) assertValid(x, `${x.kind} (${what})`);
    });
  }
});

describe('the checks can fail', () => {
  test('the schema refuses a broken pod: a wrong type, a container without a name, a mapping for a list', () => {
    const pod = helperPod(BASE) as { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } };
    const wrongType = structuredClone(pod);
    wrongType.spec.hostNetwork = 'yes';
    assert.throws(() => schemaValidate(wrongType as unknown as Obj), /spec\/hostNetwork must be boolean/);
    const noName = structuredClone(pod);
    delete noName.spec.containers[0]!.name;
    assert.throws(() => schemaValidate(noName as unknown as Obj), /spec\/containers\/0 must have required property name/);
    const notAList = structuredClone(pod);
    notAList.spec.tolerations = { operator: 'Exists' };
    assert.throws(() => schemaValidate(notAList as unknown as Obj), /spec\/tolerations must be array/);
  });

  test('the schema refuses a binding without its roleRef', () => {
    const binding = structuredClone(rbacObjects({ name: 'podnet', subjects: [DEFAULT_SUBJECT], nodeStatus: true })[1]!.object);
    delete binding.roleRef;
    assert.throws(() => schemaValidate(binding), /must have required property roleRef/);
  });

  test('a misspelt field, which the schema lets through, is caught', () => {
    const pod = structuredClone(helperPod(BASE)) as { spec: Record<string, unknown> & { containers: { securityContext: Record<string, unknown> }[] } };
    delete pod.spec.automountServiceAccountToken;
    pod.spec.automountServiceAccountTokn = false;
    pod.spec.containers[0]!.securityContext = { privilegd: true };
    schemaValidate(pod as unknown as Obj);
    assert.deepEqual(unknownFields(pod as unknown as Obj), ['Pod.spec.containers[0].securityContext.privilegd', 'Pod.spec.automountServiceAccountTokn']);
  });

  test('names and labels the API server refuses are caught', () => {
    const pod = helperPod({ ...BASE, name: 'Podnet_A1', runId: 'x'.repeat(64) });
    assert.deepEqual(apiValidationErrors(pod), [
      'metadata.name: "Podnet_A1" is not a DNS-1123 subdomain',
      `metadata.labels["podnet.io/run"]: "${'x'.repeat(64)}" is not a valid label value`,
    ]);
    assert.deepEqual(apiValidationErrors(helperNamespace({ ...BASE, namespace: `podnet-${'a'.repeat(60)}` })), [`metadata.name: "podnet-${'a'.repeat(60)}" is not a DNS-1123 label`]);
  });
});
