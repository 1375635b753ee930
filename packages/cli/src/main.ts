import { buildProgram } from './program.js';
import { ExitCode } from './io.js';
import type { CliIo } from './io.js';

/** Runs `podrun` with `argv` (without node and script) and resolves with the exit code. */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let code: number = ExitCode.OK;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    const commanderCode = (error as { code?: string }).code;
    if (typeof commanderCode === 'string' && commanderCode.startsWith('commander.')) {
      return commanderCode === 'commander.helpDisplayed' || commanderCode === 'commander.version'
        ? ExitCode.OK
        : ExitCode.INVALID;
    }
    // Loaded only on failure: error reporting needs @podrun/core, which `--version` or `--help` should
    // not have to load.
    const { reportError } = await import('./errors.js');
    return reportError(error, io);
  }
  return code;
}

/** The process entry used by `bin/podrun.js`: reads the environment once, then runs. */
export async function run(): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts += 1;
    // A second Ctrl-C leaves at once; the first lets the run delete its pods.
    if (interrupts > 1) process.exit(130);
    controller.abort(new Error(`received ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await main(process.argv.slice(2), {
    env: { ...process.env },
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
  });
  process.exitCode = code;
}
