// The integrator's view: every package packed as a release packs it, only the tarballs installed
// in a fresh project outside the monorepo (no workspace links, no sources), and each README's
// first example run there as written — a runner composed with a non-default transfer (pvc) and
// collector (poll) on the embedded cluster, a flow through the host, the emulator on its own.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packWorkspaces } from '../../../tools/packaging/pack.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');

/** Each package README whose first example is a program (```js), and what it must print. */
const examples: { readme: string; prints: RegExp }[] = [
  {
    readme: 'packages/core/README.md',
    prints: /5000 default\n[\s\S]*\{ rows: 42 \}\nPODRUN_CONFIG_INVALID [\s\S]*waitUntilRunning/,
  },
  { readme: 'packages/kube/README.md', prints: /exec exit 0: from exec/ },
  {
    readme: 'packages/pod-spec/README.md',
    prints: /etl-load-\w+: busybox, init init-files\n.*podrun\.io\/taskrun-id=load-1/,
  },
  {
    readme: 'packages/transfer/kit/README.md',
    prints: /work\/a\.csv \(8 bytes\)[\s\S]*'a\.csv -> a\.csv \(workingDir\)', 'out\/b\.csv -> b\.csv \(outputDir\)'/,
  },
  {
    readme: 'packages/transfer/exec-tar/README.md',
    prints: /\[ 'kestra-files' \] \[ 'init-files' \] \[ 'out-files' \]/,
  },
  {
    readme: 'packages/transfer/pvc/README.md',
    prints: /pvc needsExec: true\npvc needsExec: true\npvc needsExec: false/,
  },
  { readme: 'packages/transfer/object-storage/README.md', prints: /object-storage needsExec: false/ },
  { readme: 'packages/logs/kit/README.md', prints: /^one\ntwo\nthree\n/ },
  { readme: 'packages/logs/follow/README.md', prints: /line 1\nline 2\nline 3\ncursor/ },
  { readme: 'packages/logs/poll/README.md', prints: /poll \{ live: true, splitsStreams: false \}/ },
  {
    readme: 'packages/kubernetes-runner/README.md',
    prints: /exit 0, vars \{"done":true\}, out\.txt: HELLO FROM THE INTEGRATOR/,
  },
  { readme: 'packages/host/README.md', prints: /\[shell\] Hello from a pod\nexecution SUCCESS/ },
  { readme: 'packages/kube-emulator/README.md', prints: /nodes: podrun-node/ },
];

/** The first fenced block of `lang` in a README. */
function firstBlock(readme: string, lang: string): string {
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```').exec(readFileSync(join(root, readme), 'utf8'));
  if (!match) throw new Error(`${readme} has no \`\`\`${lang} example`);
  return match[1]!;
}

describe('the packed packages, installed outside the monorepo', () => {
  let project: string;

  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'podrun-integrator-'));
    const packed = packWorkspaces(root, join(project, 'tarballs'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'integrator', private: true, type: 'module' }));
    // Third-party dependencies come from the npm cache that `npm ci` filled; podrun's only from the tarballs.
    // vitest too: the conformance README's example is a test file (vitest is its optional peer).
    const vitest = `vitest@${(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.vitest}`;
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--ignore-scripts',
        vitest,
        ...packed.map((p) => p.tarball),
      ],
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
      writeFileSync(file, firstBlock(readme, 'js'));
      const { stdout } = await run(process.execPath, [file], { cwd: project, maxBuffer: 16 * 1024 * 1024 });
      expect(stdout).toMatch(prints);
    }, 120_000);
  }
  it('runs the first command of the CLI README as written, on the embedded cluster (no kubeconfig)', async () => {
    cpSync(join(root, 'examples'), join(project, 'examples'), { recursive: true });
    const line = firstBlock('packages/cli/README.md', 'sh')
      .split('\n')[0]!
      .replace(/\s+#.*$/, '');
    expect(line).toBe('npx podrun run examples/new-shell.yml');
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: project };
    delete env.KUBECONFIG;
    const { stdout } = await run('sh', ['-c', line], { cwd: project, env, maxBuffer: 16 * 1024 * 1024 });
    expect(stdout).toMatch(/Hello World/);
  }, 120_000);

  it('runs the conformance README example as a test file (its lifecycle group, selected with vitest -t)', async () => {
    writeFileSync(join(project, 'conformance.test.ts'), firstBlock('packages/conformance/README.md', 'ts'));
    const { stdout } = await run('npx', ['vitest', 'run', 'conformance.test.ts', '-t', 'lifecycle'], {
      cwd: project,
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(stdout).toMatch(/Tests\s+.*2 passed/);
  }, 180_000);
});
