import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '@podrun/core';
import { parseFlow } from '@podrun/host';
import { reportError } from '../errors.js';
import { ExitCode } from '../io.js';
import type { CliIo } from '../io.js';
import { createCliRegistry } from '../setup.js';

/** `podrun validate FLOW...`: every problem with its path and line (`file:line: path: message`). */
export async function validateCommand(files: string[], io: CliIo): Promise<number> {
  const registry = createCliRegistry();
  let code: number = ExitCode.OK;
  for (const file of files) {
    try {
      const source = await readFile(resolve(io.cwd, file), 'utf8').catch(() => {
        throw new ConfigError([{ path: '(file)', message: `cannot read ${file}` }], { component: 'cli' });
      });
      const flow = parseFlow(source, { registry, file });
      io.stdout.write(
        `${file}: valid (${flow.namespace}.${flow.id}, ${flow.tasks.length} task${flow.tasks.length === 1 ? '' : 's'})\n`,
      );
    } catch (error) {
      if (error instanceof ConfigError) {
        io.stderr.write(`${file}: invalid (${error.code})\n`);
        const byLine = [...error.issues].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
        for (const issue of byLine) io.stderr.write(`${file}:${issue.line ?? '?'}: ${issue.path}: ${issue.message}\n`);
        code = ExitCode.INVALID;
      } else {
        code = Math.max(code, reportError(error, io));
      }
    }
  }
  return code;
}
