/**
 * Reports as JUnit XML for CI pipelines (`--junit FILE` on doctor and probe): one test suite per node
 * (doctor) or per check (probe), one test case per finding or cell. Pure rendering plus one file write.
 * The format is the de-facto one CI systems read (Jenkins, GitLab, GitHub actions): testsuites >
 * testsuite(name, tests, failures, skipped) > testcase(classname, name) with failure/skipped children.
 */
import { writeFileSync } from 'node:fs';
import type { DoctorReport } from '../services/doctor.js';
import type { ProbeReport } from '../services/probe.js';
import { UserError } from '../util/errors.js';
import { describeValue } from '../util/describe.js';

export interface JunitCase {
  classname: string;
  name: string;
  failure?: { message: string; body: string };
  skipped?: string;
  /** what a passing case still wants to say (a warning) */
  out?: string;
}

// XML 1.0 cannot carry most control characters at all, even escaped: they are replaced.
function allowedInXml(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  return c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

function xml(text: string): string {
  return [...text]
    .map((ch) => (allowedInXml(ch) ? ch : '?'))
    .join('')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export function renderJunit(name: string, suites: Map<string, JunitCase[]>): string {
  const all = [...suites.values()].flat();
  const count = (cases: JunitCase[]) => ({ tests: cases.length, failures: cases.filter((c) => c.failure).length, skipped: cases.filter((c) => c.skipped !== undefined).length });
  const t = count(all);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="${xml(name)}" tests="${t.tests}" failures="${t.failures}" skipped="${t.skipped}">`];
  for (const [suite, cases] of suites) {
    const c = count(cases);
    out.push(`  <testsuite name="${xml(suite)}" tests="${c.tests}" failures="${c.failures}" skipped="${c.skipped}" errors="0">`);
    for (const k of cases) {
      const open = `    <testcase classname="${xml(k.classname)}" name="${xml(k.name)}"`;
      if (k.failure) out.push(`${open}>`, `      <failure message="${xml(k.failure.message)}">${xml(k.failure.body)}</failure>`, '    </testcase>');
      else if (k.skipped !== undefined) out.push(`${open}>`, `      <skipped message="${xml(k.skipped)}"/>`, '    </testcase>');
      else if (k.out) out.push(`${open}>`, `      <system-out>${xml(k.out)}</system-out>`, '    </testcase>');
      else out.push(`${open}/>`);
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

/** doctor: a suite per node; a case per finding (errors fail), and one "checks" case per node that found no error. */
export function doctorJunit(report: DoctorReport): string {
  const suites = new Map<string, JunitCase[]>();
  for (const n of report.nodes) {
    const findings = report.findings.filter((f) => f.node === n.node);
    const cases: JunitCase[] = findings.map((f) => {
      const body = `${f.message}\nevidence: ${f.evidence}\nfix: ${f.fix}`;
      const name = `${f.id}${f.family === 'ipv6' ? ' [IPv6]' : ''}`;
      return f.severity === 'error'
        ? { classname: `doctor.${n.node}`, name, failure: { message: `${name}: ${f.message}`, body } }
        : { classname: `doctor.${n.node}`, name, out: `${f.severity}: ${body}` };
    });
    if (!findings.some((f) => f.severity === 'error')) cases.unshift({ classname: `doctor.${n.node}`, name: 'no errors' });
    suites.set(n.node, cases);
  }
  // Findings about no listed node (the API, nodes missing from the inventory).
  const others = report.findings.filter((f) => !report.nodes.some((n) => n.node === f.node));
  if (others.length) {
    suites.set('cluster', others.map((f) => (f.severity === 'error' ? { classname: 'doctor.cluster', name: `${f.node}: ${f.id}`, failure: { message: f.message, body: `${f.evidence}\nfix: ${f.fix}` } } : { classname: 'doctor.cluster', name: `${f.node}: ${f.id}`, out: f.message })));
  }
  return renderJunit('podnet doctor', suites);
}

/** probe: a suite per check; a case per cell (failed, skipped, warned or passed), failures with what explains them. */
export function probeJunit(report: ProbeReport, labels: Record<string, string>): string {
  const suites = new Map<string, JunitCase[]>();
  const why = new Map(report.failures.map((f) => [f.cell, f]));
  for (const r of report.results) {
    const label = labels[r.check] ?? r.check;
    const list = suites.get(label) ?? [];
    const k: JunitCase = { classname: `probe.${r.check}`, name: `${r.src} → ${r.dst}${r.target ? ` (${r.target})` : ''}` };
    if (r.status === 'fail') {
      const f = why.get(r);
      const explained = f?.explanations.map((e) => `${e.node}: ${e.id}: ${e.message} (fix: ${e.fix})`) ?? [];
      const tail = f?.unexplained ? ['unexplained: no doctor finding on either node explains it'] : f?.blockedBy ? [`could not run because of ${f.blockedBy}`] : [];
      k.failure = { message: r.reason ?? 'failed', body: [r.reason ?? 'failed', ...explained, ...tail].join('\n') };
    } else if (r.status === 'skip') k.skipped = r.reason ?? 'could not run';
    else if (r.status === 'warn') k.out = `warning: ${r.reason ?? ''}`;
    list.push(k);
    suites.set(label, list);
  }
  return renderJunit('podnet probe', suites);
}

/** Write the report; a path that cannot be written is bad input (the checks already ran and printed). */
export function writeJunit(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new UserError(`--junit: cannot write ${describeValue(path)} (${code}); expected a writable file path`);
  }
}
