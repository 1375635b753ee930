import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError } from '@podrun/core';
import { createStateStore, logFileOf } from '@podrun/host';
import { reportError } from '../errors.js';
import { loadHostConfig } from '../host-config.js';
import { ExitCode } from '../io.js';
import type { CliIo } from '../io.js';

/** Flags of `podrun logs`. */
export interface LogsFlags {
  stateDir?: string;
  config?: string;
}

/**
 * `podrun logs ID [TASK...]`: what the task runs of an execution printed, read back from the log
 * files every run writes (masked as the screen was), so a fan-out of 200 pods that showed only a
 * summary still gives every line. A TASK is a task id (all its ForEach runs) or a run key such as
 * `t[value]`; with more than one run, each line says which.
 */
export async function logsCommand(executionId: string, tasks: string[], flags: LogsFlags, io: CliIo): Promise<number> {
  try {
    const hostConfig = await loadHostConfig(flags.config, io);
    const stateDir = resolve(io.cwd, flags.stateDir ?? hostConfig.stateDir ?? '.podrun');
    const record = await createStateStore({ dir: stateDir }).load(executionId);
    const runs = Object.entries(record.tasks).filter(([, run]) => !run.flowable);
    const unknown = tasks.filter((t) => !runs.some(([key, run]) => key === t || run.id === t));
    if (unknown.length) {
      throw new ConfigError(
        unknown.map((t) => ({
          path: t,
          message: `no task run of execution ${record.id} is called so; its task runs: ${runs.map(([key]) => key).join(', ') || 'none'}`,
        })),
        { component: 'cli', title: 'unknown task' },
      );
    }
    const chosen = tasks.length ? runs.filter(([key, run]) => tasks.includes(key) || tasks.includes(run.id)) : runs;
    const dir = join(stateDir, 'executions', record.id, 'logs');
    for (const [key, run] of chosen) {
      const prefix = chosen.length > 1 ? `[${key}] ` : '';
      const lines = createInterface({ input: createReadStream(join(dir, logFileOf(run))), crlfDelay: Infinity });
      try {
        for await (const line of lines) {
          if (!io.stdout.write(`${prefix}${line}\n`)) await once(io.stdout, 'drain');
        }
      } catch (error) {
        // A run that printed nothing has no file.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    return ExitCode.OK;
  } catch (error) {
    return reportError(error, io);
  }
}
