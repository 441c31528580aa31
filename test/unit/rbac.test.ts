/**
 * podnet rbac: the rules as data (what a 403 is matched against), the objects and their YAML (one comment
 * per rule naming what needs it), and the command through oclif: flags, the default subject, --json, exit 2.
 * The objects' schema is checked in kube-objects.test.ts.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_SUBJECT, RBAC_RULES, describeRule, parseServiceAccount, rbacNameProblem, rbacObjects, renderRbacYaml, ruleFor, type RbacOptions } from '../../src/kube/rbac.js';
import { REPO, parseJsonDoc, type CliResult } from '../helpers/cli.js';

const OPTS: RbacOptions = { name: 'podnet', subjects: [DEFAULT_SUBJECT], nodeStatus: true };

type Obj = { kind: string; metadata: { name: string; namespace?: string }; rules?: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[]; subjects?: Record<string, string>[]; roleRef?: Record<string, string> };

describe('the rules', () => {
  test('what every path through the API needs, and nothing wider', () => {
    const grants = RBAC_RULES.map((r) => `${r.namespace ?? '*'} ${r.resources.join(',')}${r.resourceNames ? `[${r.resourceNames.join(',')}]` : ''}: ${r.verbs.join(',')}`);
    assert.deepEqual(grants, [
      '* nodes: get,list',
      '* nodes/status: patch',
      '* namespaces: create,delete,get,list',
      '* pods: create,delete,get,list,watch',
      '* pods/exec: create,get',
      '* events: list',
      'kube-system configmaps[kubeadm-config]: get',
    ]);
    for (const r of RBAC_RULES) {
      assert.deepEqual(r.apiGroups, [''], 'core API group only');
      assert.ok(!r.verbs.includes('*') && !r.resources.includes('*'), 'no wildcards');
      assert.ok(r.neededBy.length > 20, `${describeRule(r)} says which command needs it`);
    }
  });

  test('ruleFor finds the rule a 403 is missing; describeRule names it', () => {
    assert.equal(describeRule(ruleFor('get', 'pods/exec')!), 'pods/exec: create, get');
    assert.equal(describeRule(ruleFor('create', 'pods/exec')!), 'pods/exec: create, get');
    assert.equal(describeRule(ruleFor('get', 'configmaps')!), 'configmaps (kubeadm-config): get in kube-system');
    assert.equal(ruleFor('patch', 'nodes'), undefined, 'podnet never patches a Node, only its status');
    assert.equal(ruleFor('delete', 'nodes'), undefined);
  });
});

describe('the objects', () => {
  test('a ClusterRole with its binding, a Role in kube-system with its binding, all bound to the subjects', () => {
    const subjects = [
      { kind: 'User' as const, name: 'alice' },
      { kind: 'Group' as const, name: 'sre' },
      { kind: 'ServiceAccount' as const, namespace: 'ops', name: 'podnet' },
    ];
    const objs = rbacObjects({ name: 'podnet-ops', subjects, nodeStatus: true }).map((x) => x.object as unknown as Obj);
    assert.deepEqual(objs.map((o) => [o.kind, o.metadata.name, o.metadata.namespace]), [
      ['ClusterRole', 'podnet-ops', undefined],
      ['ClusterRoleBinding', 'podnet-ops', undefined],
      ['Role', 'podnet-ops', 'kube-system'],
      ['RoleBinding', 'podnet-ops', 'kube-system'],
    ]);
    assert.deepEqual(objs[1]!.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'podnet-ops' });
    assert.deepEqual(objs[3]!.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'podnet-ops' });
    const expected = [
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' },
      { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'sre' },
      // a ServiceAccount subject has no apiGroup (it is the core group's)
      { kind: 'ServiceAccount', name: 'podnet', namespace: 'ops' },
    ];
    assert.deepEqual(objs[1]!.subjects, expected);
    assert.deepEqual(objs[3]!.subjects, expected);
    assert.deepEqual(objs[2]!.rules, [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['kubeadm-config'], verbs: ['get'] }]);
    assert.ok(!objs[0]!.rules!.some((r) => r.resources.includes('configmaps')), 'no cluster-wide ConfigMap access');
  });

  test('--no-node-status leaves out nodes/status and nothing else', () => {
    const all = (rbacObjects(OPTS)[0]!.object as unknown as Obj).rules!.map((r) => r.resources[0]);
    const without = (rbacObjects({ ...OPTS, nodeStatus: false })[0]!.object as unknown as Obj).rules!.map((r) => r.resources[0]);
    assert.deepEqual(all.filter((r) => r !== 'nodes/status'), without);
    assert.ok(all.includes('nodes/status'));
  });

  test('the YAML: four documents equal to the objects, each rule under the comment naming what needs it', async () => {
    const text = await renderRbacYaml(OPTS, { defaultSubject: true, bin: 'podnet' });
    const docs = parseAllDocuments(text);
    assert.deepEqual(docs.map((d) => d.errors), [[], [], [], []]);
    assert.deepEqual(docs.map((d) => d.toJS()), rbacObjects(OPTS).map((x) => x.object));
    const lines = text.split('\n');
    for (const r of RBAC_RULES) {
      const at = lines.findIndex((l) => l.trim() === `# ${r.neededBy}`);
      assert.ok(at >= 0, `no comment for ${describeRule(r)}`);
      assert.match(lines[at + 1]!, /^ {2}- apiGroups: \[""\]$/);
      assert.equal(lines[at + 2], `    resources: [${r.resources.join(', ')}]`);
    }
    assert.match(text, /^# What podnet needs through the Kubernetes API \(podnet rbac\), for: User "podnet"\n# \(the default subject: name yours with --user/);
    assert.match(text, /root on every node/);
  });
});

describe('flag values', () => {
  test('--service-account NAMESPACE:NAME and --name', () => {
    assert.deepEqual(parseServiceAccount('ops:podnet'), { namespace: 'ops', name: 'podnet' });
    assert.deepEqual(parseServiceAccount('kube-system:podnet.runner'), { namespace: 'kube-system', name: 'podnet.runner' });
    assert.match(parseServiceAccount('podnet') as string, /no ":"/);
    assert.match(parseServiceAccount('Ops:podnet') as string, /namespace is not a DNS label/);
    assert.match(parseServiceAccount('ops:') as string, /name is not a DNS subdomain/);
    assert.match(parseServiceAccount('ops:a:b') as string, /name is not a DNS subdomain/);
    assert.equal(rbacNameProblem('system:podnet'), undefined);
    assert.match(rbacNameProblem('..')!, /may not be/);
    assert.match(rbacNameProblem('a b')!, /printable/);
  });
});

/** The command through oclif (its parse, init, emit and catch), from the sources: no build needed. */
async function rbac(args: string[]): Promise<CliResult> {
  const mod = pathToFileURL(join(REPO, 'src/commands/rbac.ts')).href;
  const code = `const { default: Rbac } = await import(${JSON.stringify(mod)}); await Rbac.run(process.argv.slice(1), ${JSON.stringify(REPO)});`;
  const r = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code, '--', ...args], { reject: false, cwd: REPO, env: { NO_COLOR: '1' }, timeout: 60_000 });
  return { exitCode: typeof r.exitCode === 'number' ? r.exitCode : 1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

describe('podnet rbac (the command)', () => {
  test('no subject: the User "podnet", said on stderr; YAML for kubectl apply on stdout', async () => {
    const r = await rbac([]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stderr, /^note: bound to the User "podnet"; name yours with --user, --group or --service-account/);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj);
    assert.deepEqual(docs.map((d) => d.kind), ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
    assert.deepEqual(docs[1]!.subjects, [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'podnet' }]);
  });

  test('--json: one document with the subjects, the rules (with what needs them) and the objects', async () => {
    const r = await rbac(['--json', '--group', 'sre', '--service-account', 'ops:podnet', '--name', 'podnet-sre', '--no-node-status']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stderr, '');
    const doc = parseJsonDoc(r.stdout) as unknown as { apiVersion: string; kind: string; defaultSubject: boolean; subjects: unknown[]; rules: { resources: string[]; neededBy: string }[]; items: Obj[] };
    assert.equal(doc.apiVersion, 'podnet/v1alpha1');
    assert.equal(doc.kind, 'RbacManifest');
    assert.equal(doc.defaultSubject, false);
    assert.deepEqual(doc.subjects, [{ kind: 'Group', name: 'sre' }, { kind: 'ServiceAccount', namespace: 'ops', name: 'podnet' }]);
    assert.ok(!doc.rules.some((x) => x.resources.includes('nodes/status')));
    assert.ok(doc.rules.every((x) => x.neededBy));
    assert.deepEqual(doc.items.map((o) => `${o.kind}/${o.metadata.name}`), ['ClusterRole/podnet-sre', 'ClusterRoleBinding/podnet-sre', 'Role/podnet-sre', 'RoleBinding/podnet-sre']);
  });

  test('bad values are exit 2 naming the flag; --json gives the Error document', async () => {
    const sa = await rbac(['--service-account', 'podnet']);
    assert.equal(sa.exitCode, 2);
    assert.equal(sa.stdout, '');
    assert.match(sa.stderr, /^error: --service-account: "podnet": no ":" between the namespace and the name; expected NAMESPACE:NAME/);
    const name = await rbac(['--name', 'a/b', '--json']);
    assert.equal(name.exitCode, 2);
    const doc = parseJsonDoc(name.stdout) as unknown as { kind: string; error: { message: string; exitCode: number } };
    assert.equal(doc.kind, 'Error');
    assert.match(doc.error.message, /^--name: "a\/b": it may not contain/);
    const empty = await rbac(['--user', '']);
    assert.equal(empty.exitCode, 2);
    assert.match(empty.stderr, /--user: empty/);
  });
});
