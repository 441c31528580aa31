/**
 * The OpenAPI v3 documents kubectl reads before it writes: it looks for the `fieldValidation` query
 * parameter on each kind's PATCH operation to decide that the server validates fields itself (then it
 * sends `fieldValidation=Strict` instead of validating against a schema of its own). The stand-in's
 * document describes its operations, not the full schemas.
 */
import { createHash } from 'node:crypto';
import { RESOURCES } from './resources.js';

const QUERY = (name: string, description: string) => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });
const COMMON = [
  QUERY('dryRun', 'When present, indicates that modifications should not be persisted.'),
  QUERY('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  QUERY('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields: Ignore, Warn or Strict.'),
];

function operation(action: string, kind: string, id: string) {
  return {
    operationId: id,
    parameters: action === 'get' || action === 'list' || action === 'delete' ? [] : COMMON,
    responses: { '200': { description: 'OK' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: '', version: 'v1', kind },
  };
}

export function openApiV3CoreDoc(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const r of RESOURCES) {
    const base = r.namespaced ? `/api/v1/namespaces/{namespace}/${r.plural}` : `/api/v1/${r.plural}`;
    const id = (verb: string) => `${verb}${r.namespaced ? 'Namespaced' : ''}${r.kind}`;
    paths[base] = {
      get: operation('list', r.kind, id('list')),
      ...(r.verbs.includes('create') ? { post: operation('post', r.kind, id('create')) } : {}),
    };
    paths[`${base}/{name}`] = {
      get: operation('get', r.kind, id('read')),
      put: operation('put', r.kind, id('replace')),
      patch: operation('patch', r.kind, id('patch')),
      ...(r.verbs.includes('delete') ? { delete: operation('delete', r.kind, id('delete')) } : {}),
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes (podnet lab stand-in)', version: 'v1.32.0' }, paths, components: { schemas: {} } };
}

export function openApiV3Root(): Record<string, unknown> {
  const hash = createHash('sha512').update(JSON.stringify(openApiV3CoreDoc())).digest('hex').toUpperCase().slice(0, 128);
  return { paths: { 'api/v1': { serverRelativeURL: `/openapi/v3/api/v1?hash=${hash}` } } };
}
