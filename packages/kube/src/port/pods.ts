// Pod CRUD. Creates are the one unsafe call: a create whose connection dropped may or may not
// have happened, so before sending it again we look for the pod it would have made.
import { randomUUID } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { KubeApiError } from '@podrun/core';
import { networkError, networkFailure } from '../http/errors.js';
import { withRetry } from '../http/retry.js';
import { readText, type Transport } from '../http/transport.js';
import { fromJson } from './serialize.js';

/** Annotation carrying the id of the create request that made a pod. */
export const CREATE_REQUEST_ANNOTATION = 'podrun.io/create-request';

const podsPath = (ns: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`;
const podPath = (ns: string, name: string) => `${podsPath(ns)}/${encodeURIComponent(name)}`;

interface ListJson<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

/** A list and the resourceVersion to watch from. */
export interface PodListing {
  pods: V1Pod[];
  resourceVersion: string;
}

/** Whether a failure leaves it open if the server applied the request. */
function ambiguous(error: unknown): boolean {
  if (networkFailure(error) === 'dropped') return true;
  return error instanceof KubeApiError && (error.status ?? 0) >= 500;
}

function selectorFor(labels: Record<string, string> | undefined): string | undefined {
  const pairs = Object.entries(labels ?? {});
  return pairs.length ? pairs.map(([k, v]) => `${k}=${v}`).join(',') : undefined;
}

/** Pod calls over the transport. */
export class PodsApi {
  constructor(private readonly t: Transport) {}

  /**
   * Creates a pod. Retries 429, refused connections and 409 Conflict; after a dropped connection
   * or 5xx it first looks for the pod by name (or, with generateName, by labels and the
   * create-request annotation) and returns it if the earlier attempt did create it.
   */
  async create(ns: string, pod: V1Pod, signal?: AbortSignal): Promise<V1Pod> {
    const token = randomUUID();
    const body: V1Pod = {
      ...pod,
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { ...pod.metadata, annotations: { ...pod.metadata?.annotations, [CREATE_REQUEST_ANNOTATION]: token } },
    };
    const what = `create pod ${ns}/${pod.metadata?.name ?? `${pod.metadata?.generateName ?? ''}*`}`;
    let unsure = false;
    return await withRetry(
      async () => {
        if (unsure) {
          const made = await this.findCreated(ns, body, token, signal);
          if (made) return made;
        }
        try {
          const res = await this.t.send({ method: 'POST', path: podsPath(ns), body, signal, what });
          if ((res.statusCode ?? 0) >= 300) return await this.t.fail(res, what);
          const text = await readText(res).catch((error: unknown) => {
            throw networkError(error, this.t.context(what));
          });
          return fromJson<V1Pod>(JSON.parse(text), 'V1Pod');
        } catch (error) {
          unsure ||= ambiguous(error);
          throw error;
        }
      },
      // After an ambiguous failure the next attempt checks before re-posting, so the loop may
      // treat the call as idempotent.
      { policy: this.t.policy, kind: 'idempotent', signal, onRetry: this.t.onRetry(what) },
    );
  }

  private async findCreated(ns: string, pod: V1Pod, token: string, signal?: AbortSignal): Promise<V1Pod | undefined> {
    const mine = (p: V1Pod | undefined) => p?.metadata?.annotations?.[CREATE_REQUEST_ANNOTATION] === token;
    if (pod.metadata?.name) {
      const found = await this.get(ns, pod.metadata.name, signal);
      return mine(found) ? found : undefined;
    }
    const listing = await this.list(ns, selectorFor(pod.metadata?.labels), signal);
    return listing.pods.find(mine);
  }

  /** The pod, or undefined when it does not exist. */
  async get(ns: string, name: string, signal?: AbortSignal): Promise<V1Pod | undefined> {
    try {
      const json = await this.t.json<unknown>(
        { method: 'GET', path: podPath(ns, name), signal, what: `get pod ${ns}/${name}` },
        'idempotent',
      );
      return fromJson<V1Pod>(json, 'V1Pod');
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Every pod matching the selector (following `continue` pages), with the list's resourceVersion. */
  async list(ns: string, labelSelector?: string, signal?: AbortSignal): Promise<PodListing> {
    const pods: V1Pod[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.t.json<ListJson<unknown>>(
        {
          method: 'GET',
          path: podsPath(ns),
          query: { labelSelector, limit: 500, continue: cont },
          signal,
          what: `list pods in ${ns}`,
        },
        'idempotent',
      );
      for (const item of page.items ?? []) pods.push(fromJson<V1Pod>(item, 'V1Pod'));
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { pods, resourceVersion };
  }

  /** Deletes; a missing pod is not an error. */
  async delete(ns: string, name: string, gracePeriodSeconds?: number): Promise<void> {
    const body = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', gracePeriodSeconds };
    try {
      await this.t.json(
        {
          method: 'DELETE',
          path: podPath(ns, name),
          query: { gracePeriodSeconds },
          body,
          what: `delete pod ${ns}/${name}`,
        },
        'idempotent',
      );
    } catch (error) {
      if (error instanceof KubeApiError && error.status === 404) return;
      throw error;
    }
  }

  /** JSON merge patch of labels and annotations (null removes a key). */
  async patchMetadata(
    ns: string,
    name: string,
    metadata: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> },
  ): Promise<V1Pod> {
    const patch: Record<string, unknown> = {};
    if (metadata.labels) patch.labels = metadata.labels;
    if (metadata.annotations) patch.annotations = metadata.annotations;
    const json = await this.t.json<unknown>(
      {
        method: 'PATCH',
        path: podPath(ns, name),
        body: { metadata: patch },
        contentType: 'application/merge-patch+json',
        what: `patch pod ${ns}/${name}`,
      },
      'idempotent',
    );
    return fromJson<V1Pod>(json, 'V1Pod');
  }
}
