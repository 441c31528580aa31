/**
 * Events (core/v1) as the kubelet and the scheduler record them: one Event object per distinct
 * (object, reason, message, source), whose count and lastTimestamp grow when it happens again — what
 * `kubectl describe` and `kubectl get events` show.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from './store.js';
import { timestamp } from './store.js';
import type { KObject } from './types.js';

export interface EventSource {
  component: string;
  host?: string;
}

export class EventRecorder {
  /** dedup key → the Event's namespace/name */
  private readonly seen = new Map<string, { namespace: string; name: string }>();

  constructor(private readonly store: Store) {}

  record(about: KObject, type: 'Normal' | 'Warning', reason: string, message: string, source: EventSource, fieldPath?: string): void {
    const namespace = about.metadata.namespace || 'default';
    // nothing is recorded into a namespace that is gone (a pod's last events after its namespace went)
    if (!this.store.get('namespaces', undefined, namespace)) return;
    const key = [about.metadata.uid, reason, message, source.component, source.host ?? '', fieldPath ?? '', type].join('\u0000');
    const now = timestamp();
    const known = this.seen.get(key);
    const existing = known ? this.store.get('events', known.namespace, known.name) : undefined;
    if (existing) {
      this.store.update('events', { ...existing, count: Number(existing.count ?? 1) + 1, lastTimestamp: now });
      return;
    }
    const name = `${about.metadata.name}.${randomBytes(8).toString('hex')}`;
    this.store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        kind: about.kind,
        namespace: about.metadata.namespace,
        name: about.metadata.name,
        uid: about.metadata.uid,
        apiVersion: about.apiVersion ?? 'v1',
        resourceVersion: about.metadata.resourceVersion,
        ...(fieldPath ? { fieldPath } : {}),
      },
      reason,
      message,
      source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    });
    this.seen.set(key, { namespace, name });
  }

  /** Forget what was recorded about objects of a namespace (it is being removed). */
  forgetNamespace(namespace: string): void {
    for (const [k, v] of this.seen) if (v.namespace === namespace) this.seen.delete(k);
  }
}
