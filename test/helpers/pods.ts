/**
 * Pods for lab tests, made the way a container runtime makes them: a netns on the node and CNI ADD of the
 * node's installed conflist (podnet's CNI runtime), DEL afterwards. Plus the echo service that reports
 * the source address it saw, to prove there is no NAT.
 */
import assert from 'node:assert/strict';
import type { TestLab } from './lab.js';
import { podIpsFromResult, renderCniAdd, renderCniDel, resultFromOutput, type PortMapping } from '../../src/cni/runtime.js';
import { ECHO_PY } from '../../src/probe/echo.js';
import { sh } from '../../src/util/shell.js';

export interface TestPod {
  node: string;
  id: string;
  /** the pod's address: its IPv4 one, or its IPv6 one on an IPv6-only network */
  ip: string;
  /** its address of each family */
  ips: { ipv4?: string; ipv6?: string };
  portMappings: PortMapping[];
}

const BIN = '/usr/lib/cni';

/** Where a test pod's network namespace is pinned (as the probe does: never under /run/netns). */
export function podNetns(id: string): string {
  return `/run/podnet-test-pods/${id}`;
}

async function conflist(lab: TestLab, node: string): Promise<Record<string, unknown>> {
  const r = await lab.onNode(node, ['cat', '/etc/cni/net.d/10-podnet.conflist']);
  assert.equal(r.exitCode, 0, `no conflist on ${node}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

export async function createPod(lab: TestLab, node: string, id: string, portMappings: PortMapping[] = []): Promise<TestPod> {
  const r = await lab.shOnNode(node, renderCniAdd(await conflist(lab, node), BIN, { id, netns: podNetns(id), portMappings }));
  assert.equal(r.exitCode, 0, `CNI ADD on ${node}: ${r.stderr}`);
  const ips = podIpsFromResult(resultFromOutput(r.stdout) ?? '');
  const ip = ips.ipv4 ?? ips.ipv6;
  assert.ok(ip, `no IP in CNI result: ${r.stdout}`);
  return { node, id, ip, ips, portMappings };
}

export async function deletePod(lab: TestLab, pod: TestPod): Promise<void> {
  const r = await lab.shOnNode(pod.node, `[ -f /run/echo-${pod.id}.pid ] && kill $(cat /run/echo-${pod.id}.pid); rm -f /run/echo-${pod.id}.pid; ${renderCniDel(await conflist(lab, pod.node), BIN, { id: pod.id, netns: podNetns(pod.id), portMappings: pod.portMappings })}`);
  assert.equal(r.exitCode, 0, `CNI DEL on ${pod.node}: ${r.stderr}`);
}

/** Start the echo service (TCP and UDP on `port`) inside the pod; resolves when it listens. */
export async function startEcho(lab: TestLab, pod: TestPod, port = 8080): Promise<void> {
  const script = `cat > /run/podnet-echo.py <<'PY'\n${ECHO_PY}\nPY
nsenter --net=${sh(podNetns(pod.id))} python3 /run/podnet-echo.py serve ${port} 600 /run/echo-${pod.id}.pid`;
  const r = await lab.shOnNode(pod.node, script);
  assert.ok(r.exitCode === 0 && /^ready \d+/.test(r.stdout), `echo in ${pod.id}: ${r.stdout}${r.stderr}`);
}

/** Connect from a pod (or, with from.pod undefined, from the node itself) and return what the echo saw. */
export async function connect(lab: TestLab, from: { node: string; pod?: TestPod }, ip: string, port: number, proto: 'tcp' | 'udp' = 'tcp'): Promise<string> {
  const client = `cat > /run/podnet-echo.py <<'PY'\n${ECHO_PY}\nPY
${from.pod ? `nsenter --net=${sh(podNetns(from.pod.id))} ` : ''}python3 /run/podnet-echo.py ${proto} ${sh(ip)} ${port} 3`;
  const r = await lab.shOnNode(from.node, client);
  return r.stdout.trim();
}
