// The helper-pod mode: a short-lived pod mounts the run's directory of the claim, and the kit's
// exec+tar channel (verified, retried streaming) moves the files into or out of it. The task pod is never exec'd
// into; the helper is pinned to the task pod's node so ReadWriteOnce claims work.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import {
  KubeApiError,
  TransferError,
  type InputTree,
  type OutputSelection,
  type OutputSink,
  type PodSelector,
  type TransferContext,
  type TransferReport,
} from '@podrun/core';
import { FILES_VOLUME, INIT_CONTAINER, SIDECAR_CONTAINER, type ExecTarChannel } from '@podrun/transfer-kit';
import { MANAGED_LABEL, type RunLayout } from './layout.js';

/** The channel's files volume, backed here by the claim. */
const CLAIM_VOLUME = FILES_VOLUME;

const COMPONENT = 'pvc';
const HELPER_LABEL = `${MANAGED_LABEL}-helper`;

/** One shared watch for all helper pods of a namespace. */
export function helperSelector(namespace: string): PodSelector {
  return { namespace, labelSelector: `${HELPER_LABEL}=true` };
}

/** Name of the helper pod of a run for one direction. */
export function helperName(layout: RunLayout, direction: 'in' | 'out'): string {
  return `podrun-pvc-${layout.runId}-${direction}`;
}

function statusOf(pod: V1Pod, name: string) {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find(
    (s) => s.name === name,
  );
}

async function nodeOf(ctx: TransferContext, signal: AbortSignal): Promise<string | undefined> {
  const pod = await ctx.kube.waitForPod(
    ctx.podSelector ?? { namespace: ctx.namespace },
    ctx.podName,
    (p) => Boolean(p.spec?.nodeName) || p.status?.phase === 'Failed',
    signal,
  );
  return pod.spec?.nodeName;
}

/** Creates (or reuses) the helper pod built from the channel's contribution, with the claim as its files volume. */
async function startHelper(
  ctx: TransferContext,
  execTar: ExecTarChannel,
  layout: RunLayout,
  direction: 'in' | 'out',
  image: string,
  signal: AbortSignal,
): Promise<TransferContext> {
  const name = helperName(layout, direction);
  const selector = helperSelector(ctx.namespace);
  const helperCtx: TransferContext = { ...ctx, podName: name, podSelector: selector };
  const existing = await ctx.kube.getPod(ctx.namespace, name, signal);
  const waitFor = direction === 'in' ? INIT_CONTAINER : SIDECAR_CONTAINER;
  if (existing && statusOf(existing, waitFor)?.state?.terminated === undefined && !existing.metadata?.deletionTimestamp)
    return helperCtx;
  if (existing) await deleteHelper(ctx, name);
  const contribution = execTar.contribute({
    hasInputs: direction === 'in',
    hasOutputs: direction === 'out',
    paths: ctx.paths,
    identity: ctx.identity,
  });
  const withClaim = (c: V1Container): V1Container => ({
    ...c,
    image,
    volumeMounts: (c.volumeMounts ?? []).map((m) => (m.name === CLAIM_VOLUME ? { ...m, subPath: layout.runDir } : m)),
  });
  const root = ctx.paths.root;
  const nodeName = await nodeOf(ctx, signal);
  const pod: V1Pod = {
    metadata: { name, labels: { [HELPER_LABEL]: 'true', [MANAGED_LABEL]: layout.runId } },
    spec: {
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 0,
      ...(nodeName && { nodeName }),
      volumes: [{ name: CLAIM_VOLUME, persistentVolumeClaim: { claimName: layout.claimName } }],
      initContainers: [
        // A previous download's end marker must not stop this helper's sidecar at once.
        {
          name: 'reset-markers',
          image,
          command: ['sh', '-c', 'rm -f "$1/ended"', 'reset-markers', root],
          volumeMounts: [{ name: CLAIM_VOLUME, mountPath: root, subPath: layout.runDir }],
        },
        ...(contribution.initContainers ?? []).map(withClaim),
      ],
      containers: [
        { name: 'helper', image, command: ['sh', '-c', 'exit 0'] },
        ...(contribution.sidecars ?? []).map(withClaim),
      ],
    },
  };
  try {
    await ctx.kube.createPod(ctx.namespace, pod, signal);
  } catch (error) {
    if (!(error instanceof KubeApiError && error.status === 409)) throw error;
  }
  const ready = await ctx.kube.waitForPod(
    selector,
    name,
    (p) =>
      Boolean(
        statusOf(p, waitFor)?.state?.running || statusOf(p, waitFor)?.state?.terminated || p.status?.phase === 'Failed',
      ),
    signal,
  );
  if (!statusOf(ready, waitFor)?.state?.running && direction === 'out') {
    throw new TransferError(
      `the helper pod ${name} could not start (phase ${ready.status?.phase ?? 'unknown'}); check the helper image and that the claim ${layout.claimName} can be mounted`,
      {
        component: COMPONENT,
      },
    );
  }
  return helperCtx;
}

/** Deletes a helper pod at once; a missing one is fine. */
export async function deleteHelper(ctx: Pick<TransferContext, 'kube' | 'namespace'>, name: string): Promise<void> {
  // A missing pod is fine and transient failures are retried by the port; anything else (403)
  // leaves a pod holding the claim, which can keep the task pod from being scheduled.
  await ctx.kube.deletePod(ctx.namespace, name, { gracePeriodSeconds: 0 }).catch((error: unknown) => {
    throw new TransferError(
      `could not delete the helper pod ${name} (${error instanceof Error ? error.message : String(error)}); it keeps the claim mounted: check that the runner may delete pods, and delete it by hand`,
      { component: COMPONENT, cause: error, details: { retriable: false } },
    );
  });
}

/** Stages the inputs into the claim through an input helper; the channel writes the ready marker. */
export async function stageThroughHelper(
  ctx: TransferContext,
  execTar: ExecTarChannel,
  layout: RunLayout,
  image: string,
  inputs: InputTree,
  signal: AbortSignal,
): Promise<TransferReport> {
  const helper = await startHelper(ctx, execTar, layout, 'in', image, signal);
  const report = await execTar.uploadInputs(helper, inputs, signal);
  await deleteHelper(ctx, helper.podName);
  return report;
}

/** Reads the selected outputs from the claim through an output helper, then lets it go. */
export async function readThroughHelper(
  ctx: TransferContext,
  execTar: ExecTarChannel,
  layout: RunLayout,
  image: string,
  select: OutputSelection,
  sink: OutputSink,
  signal: AbortSignal,
): Promise<TransferReport> {
  const helper = await startHelper(ctx, execTar, layout, 'out', image, signal);
  try {
    return await execTar.downloadOutputs(helper, select, sink, signal);
  } finally {
    await deleteHelper(ctx, helper.podName);
  }
}

/** Removes the run's directory from an existing claim with a one-shot pod. */
export async function removeThroughHelper(ctx: TransferContext, layout: RunLayout, image: string): Promise<void> {
  const name = `podrun-pvc-${layout.runId}-rm`;
  const parent = layout.runDir.split('/').slice(0, -1).join('/');
  const base = layout.runDir.split('/').at(-1)!;
  await ctx.kube
    .createPod(ctx.namespace, {
      metadata: { name, labels: { [HELPER_LABEL]: 'true', [MANAGED_LABEL]: layout.runId } },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 0,
        volumes: [{ name: CLAIM_VOLUME, persistentVolumeClaim: { claimName: layout.claimName } }],
        containers: [
          {
            name: 'remove',
            image,
            command: ['rm', '-rf', `/claim/${base}`],
            volumeMounts: [{ name: CLAIM_VOLUME, mountPath: '/claim', ...(parent && { subPath: parent }) }],
          },
        ],
      },
    })
    .catch(() => undefined);
  await ctx.kube
    .waitForPod(
      helperSelector(ctx.namespace),
      name,
      (p) => ['Succeeded', 'Failed'].includes(p.status?.phase ?? ''),
      AbortSignal.timeout(60_000),
    )
    .catch(() => undefined);
  await deleteHelper(ctx, name);
}
