/**
 * The API's request handling, without sockets: a request (method, path, query, headers, body, user) in,
 * a JSON response or a stream out. Routes /api/v1 for the resources in resources.ts with list, watch,
 * get, create, update, patch, delete and the status, binding and log subresources; discovery, /version
 * and OpenAPI. Authorization, validation, admission and the resources' own rules run here; `pods/exec`
 * (a WebSocket upgrade) is the server's, through execArgv below.
 */
import { admitPod } from './admission.js';
import { deletePod } from './controllers.js';
import type { EventRecorder } from './events.js';
import type { Kubelet } from './kubelet.js';
import { logResponse } from './logs.js';
import { openApiV3CoreDoc, openApiV3Root } from './openapi.js';
import { applyPatch, patchTypeOf } from './patch.js';
import { authorize, type RequestAttributes } from './rbac.js';
import type { ApiRequest, ApiResponse } from './request.js';
import { apiGroupList, apiResourceList, apiVersions, SERVER_VERSION, type ResourceDef } from './resources.js';
import { generatedName, header, includeObject, json, parseBody, parseResourcePath, typed, untyped, verbOf, wantsTable, type Target } from './route.js';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import { namespaceObject, rootCaConfigMap, ROOT_CA_CONFIGMAP, UNDELETABLE_NAMESPACES } from './seed.js';
import { ApiError, badRequest, conflict, forbidden, invalid, methodNotAllowed, notFound, pathNotFound, STALE_OBJECT, successStatus } from './status.js';
import type { Store } from './store.js';
import { MODEL_OF_KIND, unknownFields } from './strict.js';
import { hasTable, toTable } from './tables.js';
import { isRecord, type KObject, type Pod } from './types.js';
import { validateConfigMap, validateEvent, validateNamespace, validatePod, validatePodUpdate, defaultPod } from './validation.js';
import type { WatchOptions } from './watch.js';
import { watchResponse } from './watchstream.js';

export interface ApiContext {
  store: Store;
  events: EventRecorder;
  /** the kubelet's part the API reads: a running container's exec argv and log file */
  kubelet: Pick<Kubelet, 'execArgv' | 'logFile'>;
  caPem: string;
  serverAddress: string;
  isLabNode: (name: string) => boolean;
}

export class ApiHandler {
  constructor(private readonly ctx: ApiContext) {}

  private get store(): Store {
    return this.ctx.store;
  }

  async handle(req: ApiRequest): Promise<ApiResponse> {
    const nonResource = this.nonResource(req);
    if (nonResource) return nonResource;
    const t = parseResourcePath(req.path);
    if (!t) throw pathNotFound();
    const verb = verbOf(req, t);
    const attrs: RequestAttributes = {
      verb,
      resource: t.def.plural,
      ...(t.subresource ? { subresource: t.subresource } : {}),
      // a namespace's own requests are authorized in that namespace, as the real authorizer does
      ...(t.namespace !== undefined ? { namespace: t.namespace } : t.def.plural === 'namespaces' && t.name ? { namespace: t.name } : {}),
      ...(t.name ? { name: t.name } : {}),
    };
    authorize(req.user, attrs);
    if (t.subresource === 'status' && !['GET', 'PUT', 'PATCH'].includes(req.method)) throw methodNotAllowed();
    if (t.subresource === 'exec') throw badRequest('Upgrade request required');
    if (t.subresource === 'log') return this.log(req, t);
    if (t.subresource === 'binding') return this.bind(req, t);
    switch (verb) {
      case 'list':
        return this.list(req, t);
      case 'watch':
        return this.watch(req, t);
      case 'get': {
        const o = typed(t.def, this.mustGet(t));
        return json(200, wantsTable(req) && hasTable(t.def.plural) ? toTable(t.def.plural, [o], o.metadata.resourceVersion ?? '', includeObject(req)) : o);
      }
      case 'create':
        if (t.name) throw methodNotAllowed();
        return this.create(req, t);
      case 'update':
      case 'patch':
        return this.write(req, t, verb);
      case 'delete':
        return this.remove(req, t);
      case 'deletecollection':
        return this.removeCollection(req, t);
      default:
        throw methodNotAllowed();
    }
  }

  private nonResource(req: ApiRequest): ApiResponse | undefined {
    if (req.method !== 'GET') return undefined;
    switch (req.path.replace(/\/+$/, '')) {
      case '/version':
        return json(200, SERVER_VERSION);
      case '/api':
        return json(200, apiVersions(this.ctx.serverAddress));
      case '/api/v1':
        return json(200, apiResourceList());
      case '/apis':
        return json(200, apiGroupList());
      case '/openapi/v3':
        return json(200, openApiV3Root());
      case '/openapi/v3/api/v1':
        return json(200, openApiV3CoreDoc());
      case '/healthz':
      case '/livez':
      case '/readyz':
        return { kind: 'text', status: 200, body: 'ok' };
      default:
        return undefined;
    }
  }

  private mustGet(t: Target): KObject {
    const o = this.store.get(t.def.plural, t.namespace, t.name!);
    if (!o) throw notFound(t.def.plural, t.name!);
    return o;
  }

  private filterFor(req: ApiRequest, t: Target): (o: KObject) => boolean {
    const labels = parseLabelSelector(req.query.get('labelSelector'));
    const fields = parseFieldSelector(req.query.get('fieldSelector'), Object.keys(t.def.fields({ metadata: {} })));
    return (o) => matchLabels(labels, o.metadata.labels) && matchFields(fields, t.def.fields(o));
  }

  private list(req: ApiRequest, t: Target): ApiResponse {
    const filter = this.filterFor(req, t);
    const items = this.store.list(t.def.plural, t.namespace).filter(filter);
    const rv = this.store.resourceVersion;
    if (wantsTable(req) && hasTable(t.def.plural)) return json(200, toTable(t.def.plural, items.map((o) => typed(t.def, o)), rv, includeObject(req)));
    return json(200, { kind: `${t.def.kind}List`, apiVersion: 'v1', metadata: { resourceVersion: rv }, items: items.map(untyped) });
  }

  private watch(req: ApiRequest, t: Target): ApiResponse {
    const opts: WatchOptions = {
      resource: t.def.plural,
      kind: t.def.kind,
      apiVersion: 'v1',
      ...(t.namespace !== undefined ? { namespace: t.namespace } : {}),
      filter: this.filterFor(req, t),
      resourceVersion: req.query.get('resourceVersion') ?? '',
      sendInitialEvents: req.query.get('sendInitialEvents') === 'true',
      allowBookmarks: req.query.get('allowWatchBookmarks') === 'true',
    };
    const table = wantsTable(req) && hasTable(t.def.plural) ? includeObject(req) : undefined;
    const timeout = Math.min(Number(req.query.get('timeoutSeconds') ?? 1800) || 1800, 3600);
    return watchResponse(this.store, opts, table, timeout);
  }

  private async strictCheck(req: ApiRequest, def: ResourceDef, obj: unknown, warnings: string[]): Promise<void> {
    const mode = req.query.get('fieldValidation') ?? 'Warn';
    if (mode === 'Ignore') return;
    const model = MODEL_OF_KIND[def.kind];
    if (!model) return;
    const unknown = await unknownFields(obj, model);
    if (!unknown.length) return;
    const texts = unknown.map((f) => `unknown field "${f}"`);
    if (mode === 'Strict') throw badRequest(`strict decoding error: ${texts.join(', ')}`);
    warnings.push(...texts);
  }

  private checkTypeMeta(def: ResourceDef, body: Record<string, unknown>): void {
    if (body.kind !== undefined && body.kind !== def.kind) throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${def.kind})`);
    if (body.apiVersion !== undefined && body.apiVersion !== 'v1') throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (v1)`);
  }

  /** The namespace a new object goes into: it must exist and not be terminating. */
  private checkNamespace(t: Target, name: string): void {
    if (!t.def.namespaced) return;
    const ns = this.store.get('namespaces', undefined, t.namespace!);
    if (!ns) throw notFound('namespaces', t.namespace!);
    if (ns.metadata.deletionTimestamp) throw forbidden(t.def.plural, name, `unable to create new content in namespace ${t.namespace} because it is being terminated`);
  }

  private async create(req: ApiRequest, t: Target): Promise<ApiResponse> {
    const body = parseBody(req);
    if (!isRecord(body)) throw badRequest(`Object 'Kind' is missing in '${req.body.toString('utf8').slice(0, 100)}'`);
    this.checkTypeMeta(t.def, body);
    const warnings: string[] = [];
    await this.strictCheck(req, t.def, body, warnings);
    const meta = isRecord(body.metadata) ? { ...(body.metadata as KObject['metadata']) } : {};
    if (t.def.namespaced) {
      if (meta.namespace && meta.namespace !== t.namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      meta.namespace = t.namespace;
    }
    if (!meta.name && meta.generateName) meta.name = generatedName(meta.generateName);
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) delete meta[k];
    let obj: KObject = { ...body, apiVersion: 'v1', kind: t.def.kind, metadata: meta };
    this.checkNamespace(t, meta.name ?? '');
    switch (t.def.plural) {
      case 'pods': {
        validatePod(obj as Pod);
        obj = defaultPod(obj as Pod);
        const ns = this.store.get('namespaces', undefined, t.namespace!)!;
        const a = admitPod(obj as Pod, ns);
        warnings.push(...a.warnings);
        if (a.error) throw a.error;
        break;
      }
      case 'namespaces':
        validateNamespace(obj);
        obj = namespaceObject(meta.name!, meta.labels, { ...meta });
        break;
      case 'configmaps':
        validateConfigMap(obj);
        break;
      case 'events':
        validateEvent(obj);
        break;
      default:
        throw methodNotAllowed();
    }
    if (req.query.get('dryRun') === 'All') return json(201, obj, warnings);
    const created = this.store.create(t.def.plural, obj);
    if (t.def.plural === 'namespaces') this.store.create('configmaps', rootCaConfigMap(meta.name!, this.ctx.caPem));
    return json(201, typed(t.def, created), warnings);
  }

  /** PUT and PATCH: the object as the request wants it, then the resource's rules for what may change. */
  private async write(req: ApiRequest, t: Target, verb: 'update' | 'patch'): Promise<ApiResponse> {
    const old = this.mustGet(t);
    const warnings: string[] = [];
    let wanted: Record<string, unknown>;
    let expect: string | undefined;
    if (verb === 'patch') {
      const type = patchTypeOf(header(req, 'content-type'));
      let patch: unknown;
      try {
        patch = JSON.parse(req.body.toString('utf8'));
      } catch (e) {
        throw badRequest(`error decoding patch: ${e instanceof Error ? e.message : String(e)}`);
      }
      wanted = applyPatch(type, typed(t.def, old), patch);
      const rv = (wanted.metadata as KObject['metadata'] | undefined)?.resourceVersion;
      if (rv && rv !== old.metadata.resourceVersion) throw conflict(t.def.plural, t.name!, STALE_OBJECT);
    } else {
      const body = parseBody(req);
      if (!isRecord(body)) throw badRequest('the request body is not an object');
      this.checkTypeMeta(t.def, body);
      const meta = (isRecord(body.metadata) ? body.metadata : {}) as KObject['metadata'];
      if (meta.name !== undefined && meta.name !== t.name) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${t.name})`);
      expect = meta.resourceVersion;
      if (!expect) throw invalid(t.def.kind, t.name!, [{ type: 'Invalid', field: 'metadata.resourceVersion', value: '0x0', detail: 'must be specified for an update' }]);
      wanted = body;
    }
    await this.strictCheck(req, t.def, wanted, warnings);
    const meta = { ...(isRecord(wanted.metadata) ? (wanted.metadata as KObject['metadata']) : {}), name: old.metadata.name, namespace: old.metadata.namespace };
    let next: KObject;
    if (t.subresource === 'status') next = { ...old, status: wanted.status };
    else next = { ...wanted, metadata: { ...meta, deletionTimestamp: old.metadata.deletionTimestamp, deletionGracePeriodSeconds: old.metadata.deletionGracePeriodSeconds }, ...(old.status !== undefined ? { status: old.status } : {}) } as KObject;
    if (next.metadata.deletionTimestamp === undefined) delete next.metadata.deletionTimestamp;
    if (next.metadata.deletionGracePeriodSeconds === undefined) delete next.metadata.deletionGracePeriodSeconds;
    next.kind = t.def.kind;
    next.apiVersion = 'v1';
    switch (t.def.plural) {
      case 'pods':
        if (!t.subresource) {
          validatePod(next as Pod);
          validatePodUpdate(next as Pod, old as Pod);
        }
        break;
      case 'namespaces':
        if (!t.subresource) {
          validateNamespace(next);
          next.metadata.labels = { ...(next.metadata.labels ?? {}), 'kubernetes.io/metadata.name': t.name! };
          next.spec = old.spec;
        }
        break;
      case 'configmaps':
        validateConfigMap(next);
        break;
      case 'events':
        validateEvent(next);
        break;
    }
    if (req.query.get('dryRun') === 'All') return json(200, next, warnings);
    const saved = this.store.update(t.def.plural, next, expect);
    // an object being deleted goes when its last finalizer does
    if (saved.metadata.deletionTimestamp && !(saved.metadata.finalizers ?? []).length && t.def.plural !== 'pods') this.store.remove(t.def.plural, t.namespace, t.name!);
    return json(200, typed(t.def, saved), warnings);
  }

  private deleteOptions(req: ApiRequest): { grace?: number; uid?: string; resourceVersion?: string } {
    const body = req.body.length ? parseBody(req) : undefined;
    const b = isRecord(body) ? body : {};
    const pre = isRecord(b.preconditions) ? b.preconditions : {};
    const q = req.query.get('gracePeriodSeconds');
    const grace = q !== null ? Number(q) : typeof b.gracePeriodSeconds === 'number' ? b.gracePeriodSeconds : undefined;
    if (grace !== undefined && !Number.isInteger(grace)) throw badRequest(`gracePeriodSeconds: ${String(grace)} is not a whole number of seconds`);
    return { grace, uid: typeof pre.uid === 'string' ? pre.uid : undefined, resourceVersion: typeof pre.resourceVersion === 'string' ? pre.resourceVersion : undefined };
  }

  private remove(req: ApiRequest, t: Target): ApiResponse {
    const old = this.mustGet(t);
    const opts = this.deleteOptions(req);
    if (opts.uid && opts.uid !== old.metadata.uid) throw conflict(t.def.plural, t.name!, `Precondition failed: UID in precondition: ${opts.uid}, UID in object meta: ${old.metadata.uid}`);
    if (opts.resourceVersion && opts.resourceVersion !== old.metadata.resourceVersion) throw conflict(t.def.plural, t.name!, `Precondition failed: ResourceVersion in precondition: ${opts.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    if (req.query.get('dryRun') === 'All') return json(200, typed(t.def, old));
    switch (t.def.plural) {
      case 'pods':
        return json(200, typed(t.def, deletePod(this.store, old as Pod, opts.grace, this.ctx.isLabNode)));
      case 'namespaces': {
        if (UNDELETABLE_NAMESPACES.includes(t.name!)) throw forbidden('namespaces', t.name, 'this namespace may not be deleted');
        if (old.metadata.deletionTimestamp) return json(200, typed(t.def, old));
        const next = this.store.update('namespaces', { ...old, metadata: { ...old.metadata, deletionTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), deletionGracePeriodSeconds: 0 }, status: { phase: 'Terminating' } });
        return json(200, typed(t.def, next));
      }
      case 'configmaps':
        if (t.name === ROOT_CA_CONFIGMAP) {
          // the root CA publisher puts it back at once
          this.store.remove(t.def.plural, t.namespace, t.name);
          this.store.create('configmaps', rootCaConfigMap(t.namespace!, this.ctx.caPem));
          return json(200, successStatus({ name: t.name, kind: t.def.plural, uid: old.metadata.uid }));
        }
        this.store.remove(t.def.plural, t.namespace, t.name!);
        return json(200, successStatus({ name: t.name, kind: t.def.plural, uid: old.metadata.uid }));
      case 'events':
        this.store.remove(t.def.plural, t.namespace, t.name!);
        return json(200, successStatus({ name: t.name, kind: t.def.plural, uid: old.metadata.uid }));
      default:
        throw methodNotAllowed();
    }
  }

  private removeCollection(req: ApiRequest, t: Target): ApiResponse {
    if (!t.def.verbs.includes('deletecollection')) throw methodNotAllowed();
    const filter = this.filterFor(req, t);
    const opts = this.deleteOptions(req);
    const gone: KObject[] = [];
    for (const o of this.store.list(t.def.plural, t.namespace).filter(filter)) {
      if (t.def.plural === 'pods') gone.push(deletePod(this.store, o as Pod, opts.grace, this.ctx.isLabNode));
      else gone.push(this.store.remove(t.def.plural, o.metadata.namespace, o.metadata.name!));
    }
    return json(200, { kind: `${t.def.kind}List`, apiVersion: 'v1', metadata: { resourceVersion: this.store.resourceVersion }, items: gone.map(untyped) });
  }

  private bind(req: ApiRequest, t: Target): ApiResponse {
    if (req.method !== 'POST') throw methodNotAllowed();
    const pod = this.mustGet(t) as Pod;
    const body = parseBody(req);
    const target = isRecord(body) && isRecord(body.target) ? body.target : {};
    const node = typeof target.name === 'string' ? target.name : '';
    if (!node) throw invalid('Binding', t.name!, [{ type: 'Required', field: 'target.name' }]);
    if (pod.spec.nodeName) throw conflict('pods/binding', t.name!, `pod ${t.name} is already assigned to node "${pod.spec.nodeName}"`);
    this.store.update('pods', { ...pod, spec: { ...pod.spec, nodeName: node } });
    return json(201, successStatus());
  }

  private log(req: ApiRequest, t: Target): ApiResponse {
    if (req.method !== 'GET') throw methodNotAllowed();
    const pod = this.mustGet(t) as Pod;
    const { file, running } = this.ctx.kubelet.logFile(pod, req.query.get('container') ?? undefined, req.query.get('previous') === 'true');
    const tail = req.query.get('tailLines');
    return logResponse(file, running, tail === null ? undefined : Number(tail), req.query.get('follow') === 'true');
  }

  /** For the server's exec upgrade: authorize, find the pod and its running container, build the argv. */
  execArgv(user: ApiRequest['user'], namespace: string, name: string, container: string | undefined, command: string[]): string[] {
    authorize(user, { verb: 'create', resource: 'pods', subresource: 'exec', namespace, name });
    const pod = this.store.get('pods', namespace, name) as Pod | undefined;
    if (!pod) throw notFound('pods', name);
    if (command.length === 0) throw badRequest('you must specify at least 1 command');
    return this.ctx.kubelet.execArgv(pod, container, command);
  }
}

export { ApiError, parseResourcePath };
export type { ApiRequest, ApiResponse, StreamSink } from './request.js';
