// createKubePort over a plain client-node KubeConfig loaded from the emulator's cluster.kubeconfig,
// exactly as the emulator README shows: the port adopts it (TLS client certificate, CA, namespace).
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ErrorCodes } from '@podrun/core';
import { startCluster, type EmbeddedCluster } from '@podrun/kube-emulator';
import { createKubePort, type PodrunKubePort } from '@podrun/kube';
import { sleeper } from './support/cluster.js';

let cluster: EmbeddedCluster;
let port: PodrunKubePort;

beforeAll(async () => {
  cluster = await startCluster();
  // Pod objects are enough here; keep them Pending so no sandbox is built.
  cluster.faults.stopScheduling();
  const kc = new KubeConfig();
  kc.loadFromString(cluster.kubeconfig);
  port = createKubePort({ kubeConfig: kc });
});
afterAll(async () => {
  await port?.close();
  await cluster?.stop();
});

it('creates, reads and watches pods through a KubeConfig loaded from cluster.kubeconfig', async () => {
  expect(port.defaultNamespace).toBe('default');
  const created = await port.createPod(port.defaultNamespace, sleeper({ case: 'plain' }));
  const name = created.metadata!.name!;
  expect((await port.getPod('default', name))?.metadata?.uid).toBe(created.metadata!.uid);
  const seen = await port.waitForPod({ namespace: 'default', labelSelector: 'case=plain' }, name, () => true);
  expect(seen.metadata?.name).toBe(name);
  await port.deletePod('default', name, { gracePeriodSeconds: 0 });
});

it('refuses something that is not a KubeConfig, naming the option', () => {
  const wrong = { kubeConfig: cluster.kubeconfig } as unknown as Parameters<typeof createKubePort>[0];
  expect(() => createKubePort(wrong)).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG_INVALID }));
  expect(() => createKubePort(wrong)).toThrow(/kubeConfig/);
});

it('refuses an empty KubeConfig with what to do', () => {
  expect(() => createKubePort({ kubeConfig: new KubeConfig() })).toThrow(/names no cluster; load a kubeconfig/);
});
