/**
 * JUnit XML of doctor and probe reports: well-formed (checked with Python's XML parser, which CI has),
 * counts that match, failures carrying what explains them, hostile text escaped.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { doctorJunit, probeJunit, renderJunit } from '../../src/cli/junit.js';
import type { DoctorReport } from '../../src/services/doctor.js';
import type { ProbeReport, ProbeResult } from '../../src/services/probe.js';

/** Parse with a real XML parser; returns [suite name, tests, failures, skipped, [case names with outcome]]. */
function parse(xmlText: string): unknown {
  const py = `import sys, json, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
out = {"tests": root.get("tests"), "failures": root.get("failures"), "skipped": root.get("skipped"), "suites": []}
for s in root.findall("testsuite"):
    cases = []
    for c in s.findall("testcase"):
        f = c.find("failure")
        k = c.find("skipped")
        cases.append([c.get("classname"), c.get("name"), "fail:" + f.get("message") + "|" + (f.text or "") if f is not None else ("skip:" + k.get("message") if k is not None else "pass")])
    out["suites"].append([s.get("name"), s.get("tests"), s.get("failures"), cases])
print(json.dumps(out))`;
  const r = spawnSync('python3', ['-c', py], { input: xmlText, encoding: 'utf8' });
  assert.equal(r.status, 0, `not well-formed XML: ${r.stderr}\n${xmlText}`);
  return JSON.parse(r.stdout);
}

describe('junit', () => {
  test('hostile text is escaped and control characters replaced', () => {
    const x = renderJunit('t', new Map([['s<&>"', [{ classname: 'c', name: 'a"b<c>&d\u0001e', failure: { message: '<boom> & "x"', body: 'line\n\u001b[31mred' } }]]]));
    assert.deepEqual(parse(x), { tests: '1', failures: '1', skipped: '0', suites: [['s<&>"', '1', '1', [['c', 'a"b<c>&d?e', 'fail:<boom> & "x"|line\n?[31mred']]]] });
  });

  test('doctor: a suite per node, a case per finding; a clean node passes one case', () => {
    const report: DoctorReport = {
      clusterCIDR: '10.244.0.0/16',
      clusterCIDRs: ['10.244.0.0/16'],
      nodes: [
        { node: 'n1', reachable: true },
        { node: 'n2', reachable: true },
      ],
      findings: [
        { id: 'forward-drop', node: 'n1', severity: 'error', message: 'FORWARD policy DROP', evidence: '-P FORWARD DROP', fix: 'podnet up' },
        { id: 'conntrack-full', node: 'n1', severity: 'warning', message: 'conntrack 90% full', evidence: 'count', fix: 'raise it' },
        { id: 'kube-node-unknown', node: 'n9', severity: 'warning', message: 'Node n9 is not in the inventory', evidence: '-', fix: 'add it' },
      ],
      summary: { errors: 1, warnings: 2, info: 0 },
    };
    assert.deepEqual(parse(doctorJunit(report)), {
      tests: '4',
      failures: '1',
      skipped: '0',
      suites: [
        ['n1', '2', '1', [['doctor.n1', 'forward-drop', 'fail:forward-drop: FORWARD policy DROP|FORWARD policy DROP\nevidence: -P FORWARD DROP\nfix: podnet up'], ['doctor.n1', 'conntrack-full', 'pass']]],
        ['n2', '1', '0', [['doctor.n2', 'no errors', 'pass']]],
        ['cluster', '1', '0', [['doctor.cluster', 'n9: kube-node-unknown', 'pass']]],
      ],
    });
  });

  test('probe: a suite per check, a case per cell; failures say what explains them, or that nothing does', () => {
    const cell = (src: string, dst: string, status: ProbeResult['status'], reason?: string): ProbeResult => ({ check: 'pod-tcp', src, dst, status, reason, target: '10.244.1.2:8080' }) as ProbeResult;
    const results = [cell('n1', 'n2', 'pass'), cell('n2', 'n1', 'fail', 'timeout'), cell('n1', 'n1', 'fail', 'refused'), cell('n2', 'n2', 'skip', 'n2: python3 is missing')];
    const report = {
      results,
      failures: [
        { cell: results[1]!, explanations: [{ id: 'forward-drop', node: 'n1', severity: 'error', message: 'FORWARD DROP', evidence: '-', fix: 'podnet up' }], unexplained: false },
        { cell: results[2]!, explanations: [], unexplained: true },
      ],
    } as unknown as ProbeReport;
    assert.deepEqual(parse(probeJunit(report, { 'pod-tcp': 'pod→pod TCP' })), {
      tests: '4',
      failures: '2',
      skipped: '1',
      suites: [
        [
          'pod→pod TCP',
          '4',
          '2',
          [
            ['probe.pod-tcp', 'n1 → n2 (10.244.1.2:8080)', 'pass'],
            ['probe.pod-tcp', 'n2 → n1 (10.244.1.2:8080)', 'fail:timeout|timeout\nn1: forward-drop: FORWARD DROP (fix: podnet up)'],
            ['probe.pod-tcp', 'n1 → n1 (10.244.1.2:8080)', 'fail:refused|refused\nunexplained: no doctor finding on either node explains it'],
            ['probe.pod-tcp', 'n2 → n2 (10.244.1.2:8080)', 'skip:n2: python3 is missing'],
          ],
        ],
      ],
    });
  });
});
