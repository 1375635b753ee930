// `npm run test:live`: the conformance suites against a real cluster. Set PODRUN_LIVE_KUBECONFIG
// (and optionally PODRUN_LIVE_NAMESPACE, PODRUN_LIVE_IMAGE); without it every suite is skipped
// with the reason printed.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { workspacePackages } from './vitest.workspace-packages.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const alias = workspacePackages(root).map((p) => ({
  find: new RegExp(`^${p.name.replace(/[/@-]/g, '\\$&')}$`),
  replacement: `${root}${p.dir}/src/index.ts`,
}));

export default defineConfig({
  resolve: { alias },
  test: {
    root,
    pool: 'forks',
    // Real clusters pull images and schedule pods: give every step room.
    testTimeout: 900_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    include: ['packages/**/test/conformance.test.ts', 'packages/conformance/test/*.test.ts'],
    env: { PODRUN_CONFORMANCE_MODE: 'live' },
  },
});
