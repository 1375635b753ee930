// The strategies the config names versus the objects passed to createKubernetesRunner: what is not
// built in must be passed (the error names the package), and a mismatch is refused, not run.
import { afterAll, expect, it } from 'vitest';
import { ConfigError, parseRunnerConfig, type FileTransfer } from '@podrun/core';
import { createKubeConfig, createKubePort } from '@podrun/kube';
import { createFollowLogCollector } from '@podrun/logs-follow';
import { createExecTarTransfer } from '@podrun/transfer-exec-tar';
import { createKubernetesRunner } from '@podrun/kubernetes-runner';

// Construction never calls the API: a port on an address nothing listens on is enough.
const kube = createKubePort({ kubeConfig: createKubeConfig({ masterUrl: 'https://127.0.0.1:9' }, {}) });
afterAll(() => kube.close());

function issueOf(run: () => unknown): { path: string; message: string } {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues[0]!;
  }
  throw new Error('expected a ConfigError');
}

it('builds its own defaults', () => {
  expect(createKubernetesRunner({ kube, config: parseRunnerConfig({}) }).type).toBeTruthy();
});

it('names the package to install when the configured type is not passed', () => {
  const pvc = issueOf(() =>
    createKubernetesRunner({ kube, config: parseRunnerConfig({ fileTransfer: { type: 'pvc' } }) }),
  );
  expect(pvc.path).toBe('taskRunner.fileTransfer.type');
  expect(pvc.message).toContain('npm install @podrun/transfer-pvc');
  expect(pvc.message).toContain('createPvcTransfer()');
  const poll = issueOf(() =>
    createKubernetesRunner({ kube, config: parseRunnerConfig({ logCollector: { type: 'poll' } }) }),
  );
  expect(poll.path).toBe('taskRunner.logCollector.type');
  expect(poll.message).toContain('npm install @podrun/logs-poll');
});

it('refuses a passed strategy that is not the configured type', () => {
  const follow = createFollowLogCollector();
  const issue = issueOf(() =>
    createKubernetesRunner({ kube, config: parseRunnerConfig({ logCollector: { type: 'poll' } }), logs: follow }),
  );
  expect(issue.path).toBe('taskRunner.logCollector.type');
  expect(issue.message).toContain('is "poll" but the strategy passed as `logs` is "follow"');
  const transfer = issueOf(() =>
    createKubernetesRunner({
      kube,
      config: parseRunnerConfig({ fileTransfer: { type: 'pvc' } }),
      transfer: createExecTarTransfer(),
    }),
  );
  expect(transfer.message).toContain('is "pvc" but the strategy passed as `transfer` is "exec-tar"');
});

it('refuses a built-in strategy of another type under the default type', () => {
  const pollNamed = { ...createFollowLogCollector(), name: 'poll' };
  const issue = issueOf(() => createKubernetesRunner({ kube, config: parseRunnerConfig({}), logs: pollNamed }));
  expect(issue.message).toContain('set the type to "poll"');
});

it('accepts a matching strategy, and a custom one under the default type', () => {
  const config = parseRunnerConfig({});
  const custom: FileTransfer = { ...createExecTarTransfer(), name: 'my-transfer' };
  expect(() => createKubernetesRunner({ kube, config, transfer: custom })).not.toThrow();
  expect(() => createKubernetesRunner({ kube, config, transfer: createExecTarTransfer() })).not.toThrow();
});
