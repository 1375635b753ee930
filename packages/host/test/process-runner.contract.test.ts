import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createProcessRunner } from '@podrun/host';
import { describeTaskRunnerContract } from './contract/runner-contract.js';

describeTaskRunnerContract({
  name: 'Process runner',
  async setup() {
    const tempDir = await mkdtemp(join(tmpdir(), 'podrun-process-'));
    return {
      runner: createProcessRunner({ tempDir, env: { PATH: process.env.PATH } }),
      image: 'ignored',
      close: () => rm(tempDir, { recursive: true, force: true }),
    };
  },
});
