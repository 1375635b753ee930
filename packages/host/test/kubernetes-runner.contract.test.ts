// The same contract as the Process runner, for the Kubernetes runner on the embedded cluster,
// built through the registry exactly as a host builds it.
import { startCluster } from '@podrun/kube-emulator';
import { testImageArchives } from '@podrun/test-utils';
import type { EmbeddedCluster } from '@podrun/kube-emulator';
import { createRunnerRegistry, registerKubernetesRunner } from '@podrun/host';
import type { HostTaskRunner } from '@podrun/host';
import { describeTaskRunnerContract } from './contract/runner-contract.js';

/** The real test images (tools/test-images, exported by the vitest global setup). */
const imageArchives = testImageArchives();

describeTaskRunnerContract({
  name: 'Kubernetes runner (embedded cluster)',
  async setup() {
    const cluster: EmbeddedCluster = await startCluster({ imageArchives });
    const closers: (() => void | Promise<void>)[] = [];
    const registry = createRunnerRegistry();
    registerKubernetesRunner(registry);
    const runner = (await registry.create(
      { type: 'io.kestra.plugin.ee.kubernetes.runner.Kubernetes', waitForLogs: 'PT5S' },
      {
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        env: {},
        tempDir: cluster.stateDir,
        cluster: { kubeconfigPath: cluster.kubeconfigPath },
        shared: (_key, create, close) => {
          const value = create();
          if (close) closers.push(() => close(value));
          return value;
        },
      },
    )) as HostTaskRunner;
    return {
      runner,
      image: 'busybox',
      async close() {
        for (const close of closers) await close();
        await cluster.stop();
      },
    };
  },
});
