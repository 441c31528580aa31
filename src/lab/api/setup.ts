/**
 * `lab up --api` on the host's side: a CA and a serving certificate made with the openssl CLI, the
 * images built from busybox-static (and Debian's python3 for the python image), two users with bearer tokens (an administrator and a read-only
 * viewer, for 403s), the kubeconfig next to the inventory, and the server started inside the operator
 * network namespace (in the lab's cgroup), waited for until it serves. Read back for `lab status`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { runLocal, runLocalScript } from '../../transport/local.js';
import { sh } from '../../util/shell.js';
import { PodnetError, ExitCode, UserError } from '../../util/errors.js';
import { netnsInodeOf, nsInode, processAlive, processName } from '../host.js';
import type { LabPlan } from '../topology.js';
import {
  BUSYBOX_CANDIDATES,
  buildImages,
  isStaticElf,
  parseLdd,
  PYTHON_BASE_MODULES,
  PYTHON_CANDIDATES,
  PYTHON_PROBE,
  PYTHON_PROGRAMS,
  pythonElfFiles,
  pythonImageModules,
  pythonLayer,
  type PythonLayer,
  type PythonProbe,
} from './images.js';
import { apiPaths, labKubeconfigPath, type ApiPaths } from './paths.js';
import { MASTERS, type UsersFile } from './rbac.js';
import { RBAC_RULES } from '../../kube/rbac.js';

export interface LabApiInfo {
  server: string;
  kubeconfig: string;
  state: 'running' | 'stopped';
  /** the kubeconfig's contexts: the administrator (current), the read-only viewer, and a user with exactly what `podnet rbac` grants */
  contexts: { admin: string; viewer: string; podnet: string };
}

const TOOLS: { what: string; candidates: string[]; pkg: string }[] = [
  { what: 'openssl', candidates: ['/usr/bin/openssl'], pkg: 'openssl' },
  { what: 'setpriv', candidates: ['/usr/bin/setpriv'], pkg: 'util-linux' },
  { what: 'python3', candidates: PYTHON_CANDIDATES, pkg: 'python3' },
];

/** What --api needs beyond the lab itself: openssl, setpriv, python3 and a static busybox (the images' content). */
export function apiPreflight(exists: (p: string) => boolean = existsSync, isStatic: (p: string) => boolean = isStaticElf): string {
  const missing = TOOLS.filter((t) => !t.candidates.some(exists));
  const busybox = BUSYBOX_CANDIDATES.find((p) => exists(p) && isStatic(p));
  const pkgs = [...new Set([...missing.map((m) => m.pkg), ...(busybox ? [] : ['busybox-static'])])];
  if (pkgs.length) {
    const what = [...missing.map((m) => m.what), ...(busybox ? [] : ['a static busybox'])];
    throw new UserError(`--api: missing ${what.join(', ')}`, `install the Debian package${pkgs.length > 1 ? 's' : ''}: apt-get install -y ${pkgs.join(' ')}`);
  }
  return busybox!;
}

export function apiContexts(plan: LabPlan): LabApiInfo['contexts'] {
  return { admin: plan.name, viewer: `${plan.name}-viewer`, podnet: `${plan.name}-podnet` };
}

/** The certificates (bash, run as root on the host, inside the lab's tmpfs). */
export function renderApiSetupScript(plan: LabPlan, paths: ApiPaths): string {
  const api = plan.api!;
  const sans = [...api.addresses.map((a) => `IP:${a}`), 'IP:127.0.0.1', 'DNS:localhost', 'DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local'];
  const ext = [`subjectAltName=${sans.join(',')}`, 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth'].join('\n');
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes';
  return [
    'set -euo pipefail',
    'umask 077',
    `mkdir -p ${sh(paths.dir)} ${sh(paths.images)}`,
    `openssl req -x509 ${ec} -days 3650 -keyout ${sh(paths.caKey)} -out ${sh(paths.caCert)} -subj ${sh(`/CN=podnet-lab-${plan.name}-ca`)} -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' 2>/dev/null`,
    `openssl req ${ec} -keyout ${sh(paths.serverKey)} -out ${sh(`${paths.dir}/apiserver.csr`)} -subj /CN=kube-apiserver 2>/dev/null`,
    `printf '%s\\n' ${sh(ext)} > ${sh(`${paths.dir}/apiserver.ext`)}`,
    `openssl x509 -req -in ${sh(`${paths.dir}/apiserver.csr`)} -CA ${sh(paths.caCert)} -CAkey ${sh(paths.caKey)} -set_serial 0x$(openssl rand -hex 16) -days 365 -extfile ${sh(`${paths.dir}/apiserver.ext`)} -out ${sh(paths.serverCert)} 2>/dev/null`,
    `chmod 644 ${sh(paths.caCert)}`,
    '',
  ].join('\n');
}

type Tokens = { admin: string; viewer: string; podnet: string };

export function renderKubeconfig(plan: LabPlan, caPem: string, tokens: Tokens): string {
  const ctx = apiContexts(plan);
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: plan.name, cluster: { server: plan.api!.server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [
      { name: `${plan.name}-admin`, user: { token: tokens.admin } },
      { name: `${plan.name}-viewer`, user: { token: tokens.viewer } },
      { name: `${plan.name}-podnet`, user: { token: tokens.podnet } },
    ],
    contexts: [
      { name: ctx.admin, context: { cluster: plan.name, user: `${plan.name}-admin`, namespace: 'default' } },
      { name: ctx.viewer, context: { cluster: plan.name, user: `${plan.name}-viewer`, namespace: 'default' } },
      { name: ctx.podnet, context: { cluster: plan.name, user: `${plan.name}-podnet`, namespace: 'default' } },
    ],
    'current-context': ctx.admin,
  };
  return `# kubeconfig of lab "${plan.name}"; written by podnet lab up --api.
# The server is podnet's stand-in API server inside the lab's operator namespace: it serves only what podnet
# needs (nodes, namespaces, pods with exec, events, config maps). Use it from there:
#   podnet lab exec --name ${plan.name} -- kubectl get nodes -o wide
# Context ${ctx.viewer} may only read (get, list, watch): every write is a 403.
# Context ${ctx.podnet} may do exactly what \`podnet rbac\` grants (its rules, by resource and namespace).
${stringify(doc)}`;
}

export function renderUsers(plan: LabPlan, tokens: Tokens): UsersFile {
  return {
    users: [
      { name: `${plan.name}-admin`, token: tokens.admin, groups: [MASTERS] },
      { name: `${plan.name}-viewer`, token: tokens.viewer, groups: [], rules: [{ verbs: ['get', 'list', 'watch'], resources: ['*'] }] },
      // podnet rbac's rules as the stand-in checks rules (resourceNames aside: a little wider, never narrower)
      { name: `${plan.name}-podnet`, token: tokens.podnet, groups: [], rules: RBAC_RULES.map((r) => ({ verbs: [...r.verbs], resources: [...r.resources], ...(r.namespace ? { namespaces: [r.namespace] } : {}) })) },
    ],
  };
}

function serverEntry(): string[] {
  const js = fileURLToPath(new URL('./main.js', import.meta.url));
  if (existsSync(js)) return [js];
  // running from the TypeScript sources (tests through tsx)
  return ['--import', import.meta.resolve('tsx'), fileURLToPath(new URL('./main.ts', import.meta.url))];
}

/** Background the server inside the operator namespace, in the lab's cgroup. */
export function renderApiStartScript(plan: LabPlan, paths: ApiPaths, cgroupDir: string | undefined, argv: string[]): string {
  return [
    'set -euo pipefail',
    ...(cgroupDir ? [`echo $$ > ${sh(`${cgroupDir}/cgroup.procs`)} 2>/dev/null || true`] : []),
    `nsenter --net=${sh(`/run/netns/${plan.operator.netns}`)} -- setsid ${argv.map(sh).join(' ')} --lab-dir ${sh(plan.dir)} </dev/null >>${sh(paths.log)} 2>&1 &`,
    '',
  ].join('\n');
}

function lastLogLine(paths: ApiPaths): string {
  try {
    return readFileSync(paths.log, 'utf8').trim().split('\n').filter(Boolean).pop() ?? '';
  } catch {
    return '';
  }
}

/**
 * What the python image takes from the machine's python3: the interpreter, the standard-library files the
 * helper's and the probe's imports load (found by importing them, not by copying the whole library), and
 * the shared libraries ldd names for the interpreter and those extension modules.
 */
async function pythonImageLayer(python: string): Promise<PythonLayer> {
  const modules = pythonImageModules(PYTHON_PROGRAMS.map((u) => readFileSync(u, 'utf8')));
  const r = await runLocal(python, ['-I', '-S', '-c', PYTHON_PROBE, ...modules], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) throw new Error(`${python} exited ${r.exitCode}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
  const probe = JSON.parse(r.stdout) as PythonProbe;
  const missing = probe.missing.filter((m) => PYTHON_BASE_MODULES.includes(m));
  if (missing.length) throw new Error(`${python} has no module ${missing.join(', ')}`);
  const ldd = await runLocal('/usr/bin/ldd', pythonElfFiles(probe), { timeoutMs: 30_000 });
  if (ldd.exitCode !== 0) throw new Error(`ldd exited ${ldd.exitCode}: ${ldd.stderr.trim().split('\n').pop() ?? ''}`);
  return pythonLayer(probe, parseLdd(ldd.stdout));
}

export async function startLabApi(plan: LabPlan, cgroupDir: string | undefined): Promise<LabApiInfo> {
  const busybox = apiPreflight();
  const paths = apiPaths(plan.dir);
  const fail = (why: string) => new PodnetError(`lab "${plan.name}": the stand-in API server did not start: ${why}`, ExitCode.NODE, 'the partial lab was removed; run with --verbose for details');
  const setup = await runLocalScript(renderApiSetupScript(plan, paths), { timeoutMs: 60_000 });
  if (setup.exitCode !== 0) throw fail(setup.stderr.trim().split('\n').pop() || `setup exited ${setup.exitCode}`);
  const applets = await runLocal(busybox, ['--list'], { timeoutMs: 30_000 });
  if (applets.exitCode !== 0) throw fail(`${busybox} --list exited ${applets.exitCode}`);
  let python: PythonLayer;
  try {
    python = await pythonImageLayer(PYTHON_CANDIDATES.find((p) => existsSync(p))!);
  } catch (e) {
    throw fail(`the python image: ${e instanceof Error ? e.message : String(e)}`);
  }
  buildImages(paths.images, busybox, applets.stdout.split('\n').filter(Boolean), python);
  const tokens = { admin: randomBytes(24).toString('hex'), viewer: randomBytes(24).toString('hex'), podnet: randomBytes(24).toString('hex') };
  writeFileSync(paths.users, `${JSON.stringify(renderUsers(plan, tokens), null, 2)}\n`, { mode: 0o600 });
  writeFileSync(labKubeconfigPath(plan.dir), renderKubeconfig(plan, readFileSync(paths.caCert, 'utf8'), tokens), { mode: 0o600 });
  const start = await runLocalScript(renderApiStartScript(plan, paths, cgroupDir, [process.execPath, ...serverEntry()]), { timeoutMs: 30_000 });
  if (start.exitCode !== 0) throw fail(start.stderr.trim().split('\n').pop() || `exit ${start.exitCode}`);
  const t0 = Date.now();
  while (!existsSync(paths.ready)) {
    const last = lastLogLine(paths);
    if (/fatal:/.test(last)) throw fail(last.replace(/^\S+ fatal: /, ''));
    if (Date.now() - t0 > 30_000) throw fail(`not ready within 30s${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return labApiInfo(plan)!;
}

/** The lab's API as it is now (undefined for a lab without one). */
export function labApiInfo(plan: LabPlan): LabApiInfo | undefined {
  if (!plan.api) return undefined;
  const paths = apiPaths(plan.dir);
  let running = false;
  try {
    const pid = Number(readFileSync(paths.pid, 'utf8').trim());
    running = pid > 0 && processAlive(pid) && processName(pid) === 'node' && netnsInodeOf(pid) === nsInode(`/run/netns/${plan.operator.netns}`);
  } catch {
    running = false;
  }
  return { server: plan.api.server, kubeconfig: labKubeconfigPath(plan.dir), state: running ? 'running' : 'stopped', contexts: apiContexts(plan) };
}
