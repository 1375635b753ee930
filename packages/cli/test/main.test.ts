// The cheap commands in-process through main(argv, io) (the subprocess tests cover the rest).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import type { CliIo } from '../src/io.js';

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        append(String(chunk));
        done();
      },
    });
  const io: CliIo = {
    env: { HOME: '/nonexistent', KUBECONFIG: '' },
    cwd: process.cwd(),
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    signal: new AbortController().signal,
  };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

describe('podrun (in-process)', () => {
  it('rbac: exec-tar gets pods/exec get+create with the 1.35 note; pvc and object-storage get no exec', async () => {
    const exec = await cli(['rbac', '--namespace', 'jobs', '--service-account', 'runner']);
    expect(exec.code).toBe(0);
    expect(exec.stdout).toMatch(/resources:\n\s+- pods\/exec\n\s+verbs:\n\s+- create\n\s+- get/);
    expect(exec.stdout).toContain('1.35');
    expect(exec.stdout).toContain('namespace: jobs');
    expect(exec.stdout).toContain('name: runner');
    const s3 = await cli(['rbac', '--transfer', 'object-storage']);
    expect(s3.stdout).not.toMatch(/^\s*- pods\/exec/m);
    // pvc moves files through a helper pod over exec, unless the runner sees the claim (hostPath).
    const pvc = await cli(['rbac', '--transfer', 'pvc']);
    expect(pvc.stdout).toMatch(/- persistentvolumeclaims\n\s+verbs:\n\s+- create\n\s+- delete\n\s+- get/);
    expect(pvc.stdout).toMatch(/^\s*- pods\/exec/m);
    const dir = await mkdtemp(join(tmpdir(), 'podrun-rbac-'));
    await writeFile(
      join(dir, 'hostpath.yml'),
      'id: f\nnamespace: n\ntasks:\n  - id: t\n    type: io.podrun.shell.Script\n    script: x\n    taskRunner:\n      type: io.podrun.kubernetes\n      fileTransfer: {type: pvc, existingClaim: shared, hostPath: /mnt/shared}\n',
    );
    const hostPath = await cli(['rbac', join(dir, 'hostpath.yml')]);
    await rm(dir, { recursive: true, force: true });
    expect(hostPath.code).toBe(0);
    expect(hostPath.stdout).not.toMatch(/^\s*- pods\/exec/m);
    expect(hostPath.stdout).toMatch(/- persistentvolumeclaims\n\s+verbs:\n\s+- get\n/);
    expect((await cli(['rbac', '--transfer', 'ftp'])).code).toBe(2);
  });

  it('usage errors exit 2; --help and --version exit 0', async () => {
    expect((await cli(['run'])).code).toBe(2);
    expect((await cli(['run', 'x.yml', '--input', 'novalue'])).code).toBe(2);
    expect((await cli(['nope'])).code).toBe(2);
    expect((await cli(['--version'])).code).toBe(0);
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('resume');
  });
});
