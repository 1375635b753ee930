import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '@podrun/core';
import type { V1Container } from '@kubernetes/client-node';
import { build, envOf, issuesOf, main } from './support/fixtures.js';
import { execTarLikeContribution } from './support/exec-tar-like.js';

const run = promisify(execFile);

/** Runs a built container's command on this machine's /bin/sh, with its env (no cluster needed). */
async function runContainer(c: V1Container, extraEnv: Record<string, string> = {}) {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...envOf(c), ...extraEnv } as Record<string, string>;
  const [file, ...args] = c.command!;
  try {
    const { stdout } = await run(file!, args, { env });
    return { stdout, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; code: number };
    return { stdout: e.stdout, code: e.code };
  }
}

const tricky = [
  `echo "double \\"quoted\\" and 'single'"`,
  `printf '%s\\n' "$GREETING"`,
  `echo '$NOT_EXPANDED' "\\$ALSO_NOT" \`echo backtick\``,
  `cat <<'EOF'\nline one\n  indented $HOME \\n kept\nEOF`,
  `echo "unicode: é 漢字 😀"; echo 'semi;colon && pipe | amp &'`,
];
const expected = [
  `double "quoted" and 'single'`,
  'hi there $USER',
  '$NOT_EXPANDED $ALSO_NOT backtick',
  'line one',
  '  indented $HOME \\n kept',
  'unicode: é 漢字 😀',
  'semi;colon && pipe | amp &',
  '',
].join('\n');

describe('commands are passed as one argument, never re-quoted', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podrun-pod-spec-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('joins the commands with newlines as the single argument of the interpreter', () => {
    const c = main(build({ task: { commands: tricky } }));
    expect(c.command).toEqual(['/bin/sh', '-c', tricky.join('\n')]);
  });

  it('runs with quotes, newlines, heredocs and $vars intact (real /bin/sh)', async () => {
    const c = main(build({ task: { commands: tricky, env: { GREETING: 'hi there $USER' } } }));
    const result = await runContainer(c);
    expect(result).toEqual({ stdout: expected, code: 0 });
  });

  it('honours the task interpreter', async () => {
    const c = main(build({ task: { interpreter: ['/bin/sh', '-ec'], commands: ['echo one', 'false', 'echo never'] } }));
    expect(c.command).toEqual(['/bin/sh', '-ec', 'echo one\nfalse\necho never']);
    expect(await runContainer(c)).toEqual({ stdout: 'one\n', code: 1 });
  });

  it('rejects an empty interpreter', () => {
    expect(issuesOf(() => build({ task: { interpreter: [] } }), ErrorCodes.TASK_INVALID)).toEqual(['task.interpreter']);
    expect(issuesOf(() => build({ task: { interpreter: ['sh', ''] } }), ErrorCodes.TASK_INVALID)).toEqual([
      'task.interpreter[1]',
    ]);
  });

  it("keeps commands intact through the transfer's wrapper, which records the exit code", async () => {
    const contribution = execTarLikeContribution({
      root: dir,
      workingDir: join(dir, 'wd'),
      outputDir: join(dir, 'wd', 'o'),
    });
    const c = main(
      build({ contribution, task: { commands: [...tricky, 'exit 3'], env: { GREETING: 'hi there $USER' } } }),
    );
    expect(c.command!.slice(0, 4)).toEqual([
      '/bin/sh',
      '-c',
      '"$@"; code=$?; echo "$code" > "$PODRUN_EXIT_FILE"; exit "$code"',
      'podrun-main',
    ]);
    expect(c.command!.slice(4)).toEqual(['/bin/sh', '-c', [...tricky, 'exit 3'].join('\n')]);
    const result = await runContainer(c);
    expect(result).toEqual({ stdout: expected, code: 3 });
    expect(await readFile(join(dir, 'exit'), 'utf8')).toBe('3\n');
  });

  it('refuses a wrapper that returns no command (a faulty transfer)', () => {
    const paths = issuesOf(() => build({ contribution: { wrapMainCommand: () => [] } }), ErrorCodes.POD_SPEC_INVALID);
    expect(paths).toEqual(['contribution.wrapMainCommand']);
  });
});
