// Runs `podrun` as a subprocess: the built bin when dist/ exists (as `npm test` builds first),
// else the TypeScript sources through tsx. PODRUN_CLI=src|dist forces one.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const cliDir = fileURLToPath(new URL('../..', import.meta.url));
const root = join(cliDir, '..', '..');
const bin = join(cliDir, 'bin', 'podrun.js');
const useDist = process.env.PODRUN_CLI ? process.env.PODRUN_CLI === 'dist' : distIsFresh();

// A dist older than the sources (of the CLI or the host) would test yesterday's code.
function distIsFresh(): boolean {
  const main = join(cliDir, 'dist', 'main.js');
  if (!existsSync(main)) return false;
  const built = statSync(main).mtimeMs;
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((max, e) => {
      const path = join(dir, e.name);
      return Math.max(max, e.isDirectory() ? newest(path) : statSync(path).mtimeMs);
    }, 0);
  return newest(join(cliDir, 'src')) <= built && newest(join(root, 'packages', 'host', 'src')) <= built;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
}

/** A running `podrun` process with its output so far. */
export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout+stderr contain `text`. */
  waitFor(text: string | RegExp): Promise<void>;
  done: Promise<CliResult>;
}

export function startCli(args: string[], options: CliOptions): CliProcess {
  const argv = useDist
    ? [bin, ...args]
    : [
        '--import',
        join(root, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs'),
        join(cliDir, 'test', 'support', 'podrun-src.ts'),
        ...args,
      ];
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: options.env?.HOME ?? process.env.HOME,
    TSX_TSCONFIG_PATH: join(root, 'tsconfig.dev.json'),
    ...options.env,
  };
  const child = spawn(process.execPath, argv, {
    cwd: options.cwd,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { test: (s: string) => boolean; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.test(stdout + stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    check();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    check();
  });
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
      for (const w of waiters) w.resolve();
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor(text) {
      const test = (s: string) => (typeof text === 'string' ? s.includes(text) : text.test(s));
      if (test(stdout + stderr)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
    done,
  };
}

export function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  return startCli(args, options).done;
}
