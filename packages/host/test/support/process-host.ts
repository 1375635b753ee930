// A host whose tasks run as local processes (the process runner), with its state and temporary
// files under `dir`: the fast way to test flows where a pod adds nothing.
import { join } from 'node:path';
import { createHost, createRunnerRegistry, registerProcessRunner } from '@podrun/host';
import type { HostOptions } from '@podrun/host';

export function processHost(dir: string, extra: Partial<HostOptions> = {}) {
  const registry = createRunnerRegistry();
  registerProcessRunner(registry);
  return createHost({
    registry,
    stateDir: join(dir, 'state'),
    env: { PATH: process.env.PATH },
    tempDir: dir,
    ...extra,
  });
}
