// The integrator's view: every package packed as a release packs it, only the tarballs installed
// in a fresh project outside the monorepo (no workspace links, no sources), and each README's
// first example run there as written — a runner composed with a non-default transfer (pvc) and
// collector (poll) on the embedded cluster, a flow through the host, the emulator on its own.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packWorkspaces } from '../../../tools/packaging/pack.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');

/** The README whose first ```js block must run as written, and what it must print. */
const examples: { readme: string; prints: RegExp }[] = [
  {
    readme: 'packages/kubernetes-runner/README.md',
    prints: /exit 0, vars \{"done":true\}, out\.txt: HELLO FROM THE INTEGRATOR/,
  },
  { readme: 'packages/host/README.md', prints: /\[shell\] Hello from a pod\nexecution SUCCESS/ },
  { readme: 'packages/kube-emulator/README.md', prints: /nodes: podrun-node/ },
];

function firstJsBlock(readme: string): string {
  const match = /```js\n([\s\S]*?)\n```/.exec(readFileSync(join(root, readme), 'utf8'));
  if (!match) throw new Error(`${readme} has no \`\`\`js example`);
  return match[1]!;
}

describe('the packed packages, installed outside the monorepo', () => {
  let project: string;

  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'podrun-integrator-'));
    const packed = packWorkspaces(root, join(project, 'tarballs'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'integrator', private: true, type: 'module' }));
    // Third-party dependencies come from the npm cache that `npm ci` filled; podrun's only from the tarballs.
    await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', ...packed.map((p) => p.tarball)],
      { cwd: project, maxBuffer: 16 * 1024 * 1024 },
    );
  }, 180_000);

  afterAll(() => rmSync(project, { recursive: true, force: true }));

  it('installs each @podrun package from its tarball, not from the workspace', () => {
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string; link?: boolean }>;
    };
    const podrun = Object.entries(lock.packages).filter(([path]) => /node_modules\/(@podrun\/|podrun$)/.test(path));
    expect(podrun.length).toBeGreaterThanOrEqual(15);
    for (const [path, entry] of podrun) {
      expect(entry.link, path).toBeUndefined();
      expect(entry.resolved ?? '', path).toMatch(/\.tgz$/);
    }
  });

  for (const { readme, prints } of examples) {
    it(`runs the first example of ${readme} as written`, async () => {
      const file = join(project, `${readme.split('/').at(-2)}.mjs`);
      writeFileSync(file, firstJsBlock(readme));
      const { stdout } = await run(process.execPath, [file], { cwd: project, maxBuffer: 16 * 1024 * 1024 });
      expect(stdout).toMatch(prints);
    }, 120_000);
  }
});
