// pods/log as a byte stream over podrun's transport. client-node's Log class throws away the
// Status body of 4xx answers (only "Error occurred in log request" survives), drops tailLines: 0
// and sends pretty=<follow>; here the 400 message ("container ... is waiting to start") reaches
// the caller inside a KubeApiError.
import type { Readable } from 'node:stream';
import type { PodLogOptions } from '@podrun/core';
import type { Transport } from '../http/transport.js';

/**
 * Opens the log of one container. Transient failures before the server answers are retried;
 * the returned stream ends when the server ends it (for `follow`, when the container has
 * terminated and all output was sent). Aborting `signal` destroys the stream with an AbortError.
 */
export async function openPodLogs(
  t: Transport,
  namespace: string,
  name: string,
  options: PodLogOptions,
  signal?: AbortSignal,
): Promise<Readable> {
  return await t.stream({
    method: 'GET',
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/log`,
    query: {
      container: options.container,
      follow: options.follow || undefined,
      timestamps: options.timestamps || undefined,
      sinceTime: options.sinceTime,
      limitBytes: options.limitBytes,
      tailLines: options.tailLines,
      previous: options.previous || undefined,
    },
    signal,
    what: `read the log of container ${options.container} in pod ${namespace}/${name}`,
  });
}
