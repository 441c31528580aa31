/**
 * `Status` error bodies as the Kubernetes API sends them (kind Status, a reason, a message shaped like the
 * real one, details naming the object): what clients such as kubectl and client-go decode and print.
 */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

export class ApiError extends Error {
  constructor(readonly body: StatusBody) {
    super(body.message);
  }

  get code(): number {
    return this.body.code;
  }
}

function failure(code: number, reason: string, message: string, details?: StatusBody['details']): ApiError {
  return new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
}

export function successStatus(details?: StatusBody['details']): StatusBody {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', ...(details ? { details } : {}), code: 200 };
}

/** `pods "x"` or `nodes.metrics.k8s.io "x"` as the real messages name a resource. */
function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export function notFound(resource: string, name: string, group = ''): ApiError {
  return failure(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource });
}

/** A path the server does not serve at all (not a missing object). */
export function pathNotFound(): ApiError {
  return failure(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(resource: string, name: string, group = ''): ApiError {
  return failure(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, { name, ...(group ? { group } : {}), kind: resource });
}

export function conflict(resource: string, name: string, why: string): ApiError {
  return failure(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, { name, kind: resource });
}

export const STALE_OBJECT = 'the object has been modified; please apply your changes to the latest version and try again';

export function forbidden(resource: string, name: string | undefined, why: string): ApiError {
  const subject = name ? `${resource} "${name}"` : resource;
  return failure(403, 'Forbidden', `${subject} is forbidden: ${why}`, { ...(name ? { name } : {}), kind: resource });
}

export function unauthorized(): ApiError {
  return failure(401, 'Unauthorized', 'Unauthorized');
}

export function badRequest(message: string): ApiError {
  return failure(400, 'BadRequest', message);
}

export function methodNotAllowed(): ApiError {
  return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function unsupportedMediaType(type: string, accepted: string[]): ApiError {
  return failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format${type ? ` (${type})` : ''} - accepted media types include: ${accepted.join(', ')}`);
}

export function notAcceptable(message: string): ApiError {
  return failure(406, 'NotAcceptable', message);
}

export function gone(message: string): ApiError {
  return failure(410, 'Expired', message);
}

export function tooLarge(message: string): ApiError {
  return failure(413, 'RequestEntityTooLarge', message);
}

/** 422 without field errors (a JSON patch that does not apply). */
export function unprocessable(message: string): ApiError {
  return failure(422, 'Invalid', message);
}

export function internalError(message: string): ApiError {
  return failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

/** One field's error, as the API's validation reports it (field.ErrorList). */
export interface FieldError {
  type: 'Required' | 'Invalid' | 'NotSupported' | 'Forbidden' | 'Duplicate' | 'TooLong' | 'NotFound';
  field: string;
  value?: unknown;
  detail?: string;
  supported?: string[];
}

const CAUSE_REASON: Record<FieldError['type'], string> = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  NotSupported: 'FieldValueNotSupported',
  Forbidden: 'FieldValueForbidden',
  Duplicate: 'FieldValueDuplicate',
  TooLong: 'FieldValueTooLong',
  NotFound: 'FieldValueNotFound',
};

function quoteValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v) ?? 'null';
}

/** The error text after the field: "Required value", `Invalid value: "x": why`. */
export function fieldErrorBody(e: FieldError): string {
  const detail = e.detail ? `: ${e.detail}` : '';
  switch (e.type) {
    case 'Required':
      return `Required value${detail}`;
    case 'Invalid':
      return `Invalid value: ${quoteValue(e.value)}${detail}`;
    case 'NotSupported':
      return `Unsupported value: ${quoteValue(e.value)}${e.supported ? `: supported values: ${e.supported.map((s) => JSON.stringify(s)).join(', ')}` : ''}`;
    case 'Forbidden':
      return `Forbidden${detail}`;
    case 'Duplicate':
      return `Duplicate value: ${quoteValue(e.value)}`;
    case 'TooLong':
      return `Too long${detail}`;
    case 'NotFound':
      return `Not found: ${quoteValue(e.value)}`;
  }
}

/** 422 Invalid: `Pod "x" is invalid: spec.containers[0].image: Required value` (a list in brackets when several). */
export function invalid(kind: string, name: string, errors: FieldError[], group = ''): ApiError {
  const texts = errors.map((e) => `${e.field}: ${fieldErrorBody(e)}`);
  const list = texts.length === 1 ? texts[0] : `[${texts.join(', ')}]`;
  const causes = errors.map((e) => ({ reason: CAUSE_REASON[e.type], message: fieldErrorBody(e), field: e.field }));
  return failure(422, 'Invalid', `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${list}`, { name, ...(group ? { group } : {}), kind, causes });
}
