// Secrets end to end through the CLI on a cluster: secret() from each source and a SECRET input,
// echoed by the task in plain, inside a URL, base64-encoded and as an output var; none of it may
// appear in anything podrun prints or writes (stdout, stderr, --json, state, cache, outputs).
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '@podrun/test-utils';
import { runCli } from './support/cli.js';

const TOKEN = 'tok-3f9a77c1-secret-value';
const PASSWORD = 'pa ss/w0rd&more';
const FROM_PREFIX = 'prefix-secret-4d1e';
const FROM_FILE = 'file-secret-7b2c';

let dir: string;
let cluster: TestCluster;
let kubeconfig: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podrun-cli-secrets-'));
  cluster = await startTestCluster();
  kubeconfig = join(dir, 'admin.kubeconfig');
  await writeFile(kubeconfig, cluster.kubeconfig);
  await mkdir(join(dir, 'secrets'));
  await writeFile(join(dir, 'secrets', 'FROM_FILE'), FROM_FILE);
  await writeFile(join(dir, 'podrun.config.yml'), 'secrets:\n  envPrefix: PODRUN_SECRET_\n  dir: ./secrets\n');
  await writeFile(
    join(dir, 'secrets.yml'),
    `id: secrets
namespace: company.team
inputs:
  - id: password
    type: SECRET
tasks:
  - id: use
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    taskRunner:
      type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes
    outputFiles: [out.txt]
    commands:
      - echo "token={{ secret('API_TOKEN') }}"
      - echo "url=https://user:{{ secret('API_TOKEN') }}@example.com/x"
      - echo "password {{ inputs.password }} and $(printf %s '{{ inputs.password }}' | base64)"
      - echo "prefix={{ secret('FROM_PREFIX') }} file={{ secret('FROM_FILE') }}" >&2
      - echo 'done' > out.txt
      - echo '::{"outputs":{"leak":"{{ secret('API_TOKEN') }}"}}::'
`,
  );
});
afterAll(async () => {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({
  HOME: dir,
  KUBECONFIG: '',
  SECRET_API_TOKEN: Buffer.from(TOKEN).toString('base64'),
  PODRUN_SECRET_FROM_PREFIX: FROM_PREFIX,
});

/** Every file under `root`, with its content. */
async function files(root: string): Promise<{ path: string; text: string }[]> {
  const out: { path: string; text: string }[] = [];
  for (const entry of await readdir(root, { recursive: true })) {
    const path = join(root, entry);
    if ((await stat(path)).isFile()) out.push({ path, text: await readFile(path, 'latin1') });
  }
  return out;
}

const forms = (value: string) => [value, Buffer.from(value).toString('base64'), encodeURIComponent(value)];

describe('secrets', { timeout: 180_000 }, () => {
  it('resolve from every source and never appear in what podrun prints or writes', async () => {
    const plain = await runCli(['run', 'secrets.yml', '--kubeconfig', kubeconfig, '-i', `password=${PASSWORD}`], {
      cwd: dir,
      env: env(),
    });
    expect(plain.stderr).not.toMatch(/PODRUN_SECRET_NOT_FOUND/);
    expect(plain.code).toBe(0);
    // The task really got the values: the lines are there, masked.
    expect(plain.stdout).toContain('[use] token=******');
    expect(plain.stdout).toContain('[use] url=https://user:******@example.com/x');
    expect(plain.stdout).toContain('[use] password ****** and ******');
    expect(plain.stdout + plain.stderr).toContain('prefix=****** file=******');
    const json = await runCli(
      ['run', 'secrets.yml', '--kubeconfig', kubeconfig, '-i', `password=${PASSWORD}`, '--json'],
      { cwd: dir, env: env() },
    );
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).tasks[0].vars.leak).toBe('******');

    const written = await files(dir);
    expect(written.some((f) => f.path.endsWith('state.json'))).toBe(true);
    const everything = [
      { path: 'stdout', text: plain.stdout + json.stdout },
      { path: 'stderr', text: plain.stderr + json.stderr },
      ...written.filter((f) => !f.path.endsWith('secrets.yml') && !f.path.includes(`${join(dir, 'secrets')}/`)),
    ];
    for (const secret of [TOKEN, PASSWORD, FROM_PREFIX, FROM_FILE]) {
      for (const form of forms(secret)) {
        const leaks = everything.filter((f) => f.text.includes(form)).map((f) => f.path);
        expect(leaks, `${secret} as ${form}`).toEqual([]);
      }
    }
  });

  it('names where it looked for a missing secret, and a resume asks for SECRET inputs again', async () => {
    const missing = await runCli(['run', 'secrets.yml', '--kubeconfig', kubeconfig, '-i', `password=${PASSWORD}`], {
      cwd: dir,
      env: { ...env(), SECRET_API_TOKEN: undefined },
    });
    expect(missing.code).not.toBe(0);
    expect(missing.stdout + missing.stderr).toMatch(
      /secret "API_TOKEN" not found; podrun looked in the environment variable SECRET_API_TOKEN .*PODRUN_SECRET_API_TOKEN, the file .*secrets\/API_TOKEN/,
    );
    const id = /execution (\S+)/.exec(missing.stdout + missing.stderr)?.[1];
    expect(id).toBeDefined();
    const resumed = await runCli(['resume', id!, '--kubeconfig', kubeconfig], { cwd: dir, env: env() });
    expect(resumed.code).not.toBe(0);
    expect(resumed.stderr).toContain(`pass them again: podrun resume ${id} --input password=...`);
    const again = await runCli(['resume', id!, '--kubeconfig', kubeconfig, '-i', `password=${PASSWORD}`], {
      cwd: dir,
      env: env(),
    });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('[use] password ****** and ******');
  });
});
