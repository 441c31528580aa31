/**
 * Who may do what: bearer tokens name users (written at `lab up` into users.json and the kubeconfig), and
 * each user either belongs to system:masters (everything) or has a short list of RBAC-like rules. A
 * request a user may not make is a 403 whose message names the verb, resource, group and namespace
 * exactly as the real authorizer's does.
 */
import { timingSafeEqual } from 'node:crypto';
import { forbidden, type ApiError } from './status.js';
import type { User } from './types.js';

export interface Rule {
  verbs: string[];
  /** "pods", "pods/exec", "*" */
  resources: string[];
  /** absent: every namespace (and cluster-scoped resources) */
  namespaces?: string[];
}

export interface UserEntry {
  name: string;
  token: string;
  groups: string[];
  rules?: Rule[];
}

export interface UsersFile {
  users: UserEntry[];
}

export interface RequestAttributes {
  verb: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export const MASTERS = 'system:masters';

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The user of an `Authorization: Bearer …` header, if the token is known. */
export function authenticate(users: UsersFile, authorization: string | undefined): (User & { entry: UserEntry }) | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return undefined;
  const entry = users.users.find((u) => sameToken(u.token, m[1]!));
  return entry ? { name: entry.name, groups: [...entry.groups, 'system:authenticated'], entry } : undefined;
}

function resourceName(a: RequestAttributes): string {
  return a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
}

export function allowed(entry: UserEntry, a: RequestAttributes): boolean {
  if (entry.groups.includes(MASTERS)) return true;
  const res = resourceName(a);
  return (entry.rules ?? []).some(
    (r) =>
      (r.verbs.includes('*') || r.verbs.includes(a.verb)) &&
      (r.resources.includes('*') || r.resources.includes(res)) &&
      (!r.namespaces || (a.namespace !== undefined && r.namespaces.includes(a.namespace))),
  );
}

/** `pods "x" is forbidden: User "u" cannot create resource "pods/exec" in API group "" in the namespace "default"` */
export function forbiddenFor(user: User, a: RequestAttributes): ApiError {
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return forbidden(a.resource, a.name, `User "${user.name}" cannot ${a.verb} resource "${resourceName(a)}" in API group "" ${scope}`);
}

/** Throws the 403 when the user may not make the request. */
export function authorize(user: User & { entry: UserEntry }, a: RequestAttributes): void {
  if (!allowed(user.entry, a)) throw forbiddenFor(user, a);
}
