import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { workspacePackages } from './vitest.workspace-packages.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const packages = workspacePackages(root);

// Tests import sibling packages from their TypeScript sources, so a test run never depends on a
// stale dist/ of another package.
const alias = packages.map((p) => ({
  find: new RegExp(`^${p.name.replace(/[/@-]/g, '\\$&')}$`),
  replacement: `${root}${p.dir}/src/index.ts`,
}));

export default defineConfig({
  resolve: { alias },
  test: {
    pool: 'forks',
    globalSetup: [`${root}tools/test-images/global-setup.ts`],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ['default'] : ['default'],
    projects: packages.map((p) => ({
      extends: true as const,
      test: {
        name: p.short,
        root: `${root}${p.dir}`,
        include: ['test/**/*.test.ts'],
      },
    })),
  },
});
