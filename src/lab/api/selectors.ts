/**
 * Label and field selectors as the API server parses and applies them (list, watch, delete): the
 * set-based label grammar (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`) and field
 * selectors over the fields a resource supports (`spec.nodeName=node-1,status.phase!=Failed`).
 */
import { badRequest } from './status.js';

export type LabelOp = '=' | '!=' | 'in' | 'notin' | 'exists' | '!exists' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function parseError(why: string): Error {
  return badRequest(`unable to parse requirement: ${why}`);
}

function checkKey(key: string): string {
  if (!KEY.test(key) || key.length > 316) throw parseError(`invalid label key "${key}": a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  return key;
}

function checkValue(v: string): string {
  if (!VALUE.test(v) || v.length > 63) throw parseError(`invalid label value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
  return v;
}

/** Split on commas that are not inside parentheses. */
function splitTop(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function parseLabelSelector(text: string | null | undefined): LabelRequirement[] {
  if (!text || text.trim() === '') return [];
  return splitTop(text).map((raw) => {
    const part = raw.trim();
    if (part === '') throw parseError('found \'\', expected: !, identifier, or \'end of string\'');
    let m = /^!\s*(\S+)$/.exec(part);
    if (m) return { key: checkKey(m[1]!), op: '!exists', values: [] };
    m = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/.exec(part);
    if (m) {
      const values = m[3]!.split(',').map((v) => checkValue(v.trim()));
      return { key: checkKey(m[1]!), op: m[2] as 'in' | 'notin', values };
    }
    m = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/.exec(part);
    if (m) {
      const op = m[2] === '==' ? '=' : m[2] === '>' ? 'gt' : m[2] === '<' ? 'lt' : (m[2] as '=' | '!=');
      const value = m[3]!.trim();
      if ((op === 'gt' || op === 'lt') && !/^-?\d+$/.test(value)) throw parseError(`for 'Gt', 'Lt' operators, the value must be an integer`);
      return { key: checkKey(m[1]!), op, values: [checkValue(value)] };
    }
    if (/^\S+$/.test(part)) return { key: checkKey(part), op: 'exists', values: [] };
    throw parseError(`found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
  });
}

export function matchLabels(reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case '=':
        return has && v === r.values[0];
      case '!=':
        return !has || v !== r.values[0];
      case 'in':
        return has && r.values.includes(v!);
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v!)) return false;
        return r.op === 'gt' ? Number(v) > Number(r.values[0]) : Number(v) < Number(r.values[0]);
      }
    }
  });
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

/** Split on an unescaped separator; `\,` `\=` `\!` `\\` are escapes. */
function splitEscaped(text: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      cur += ch + text[++i]!;
    } else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/** The first unescaped `=`, `==` or `!=` of a requirement. */
function findOperator(part: string): { at: number; op: '=' | '==' | '!=' } | undefined {
  for (let i = 0; i < part.length; i++) {
    const ch = part[i];
    if (ch === '\\') {
      i++;
      continue;
    }
    if (ch === '!' && part[i + 1] === '=') return { at: i, op: '!=' };
    if (ch === '=') return { at: i, op: part[i + 1] === '=' ? '==' : '=' };
  }
  return undefined;
}

/** Parse a field selector; `supported` is the resource's list of selectable fields. */
export function parseFieldSelector(text: string | null | undefined, supported: readonly string[]): FieldRequirement[] {
  if (!text || text.trim() === '') return [];
  return splitEscaped(text, ',').map((part) => {
    const found = findOperator(part);
    if (!found) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    const field = unescape(part.slice(0, found.at).trim());
    const value = unescape(part.slice(found.at + found.op.length));
    if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
    return { field, op: found.op === '!=' ? '!=' : '=', value };
  });
}

export function matchFields(reqs: FieldRequirement[], fields: Record<string, string>): boolean {
  return reqs.every((r) => ((fields[r.field] ?? '') === r.value) === (r.op === '='));
}
