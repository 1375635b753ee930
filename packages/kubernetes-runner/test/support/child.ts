import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TaskRunIdentity, TaskRunResult, Task } from '@podrun/core';

const script = fileURLToPath(new URL('./resume-child.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('../..', import.meta.url));

export interface ChildRun {
  child: ChildProcess;
  /** Task log lines as they are printed. */
  lines: string[];
  /** Resolves when a line with this text was printed. */
  line(text: string): Promise<void>;
  /** The result, or the error code, once the process ends. */
  done: Promise<{ result?: TaskRunResult; error?: string; exitSignal: NodeJS.Signals | null }>;
}

/** Starts the runner in its own process (tsx resolves the workspace packages through tsconfig paths). */
export function runInChild(input: {
  kubeconfigPath: string;
  identity: TaskRunIdentity;
  task: Task;
  config: Record<string, unknown>;
  dir: string;
  dieAfterLine?: string;
}): ChildRun {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: packageDir,
    env: { ...process.env, PODRUN_CHILD: JSON.stringify(input), TSX_TSCONFIG_PATH: `${packageDir}/tsconfig.json` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: { text: string; resolve: () => void }[] = [];
  let result: TaskRunResult | undefined;
  let error: string | undefined;
  let buffered = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (data: string) => {
    buffered += data;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const out = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (out.startsWith('LINE ')) {
        const text = out.slice(5);
        lines.push(text);
        for (const w of waiters.filter((x) => x.text === text)) w.resolve();
      } else if (out.startsWith('RESULT ')) result = JSON.parse(out.slice(7)) as TaskRunResult;
      else if (out.startsWith('ERROR ')) error = out.slice(6);
    }
  });
  const done = new Promise<{ result?: TaskRunResult; error?: string; exitSignal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (_code, exitSignal) =>
      resolve({ ...(result && { result }), ...(error && { error }), exitSignal }),
    ),
  );
  return {
    child,
    lines,
    line: (text) =>
      lines.includes(text) ? Promise.resolve() : new Promise((resolve) => waiters.push({ text, resolve })),
    done,
  };
}
