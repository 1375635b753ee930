// The CLI's debug channel: `-v`/`--verbose`, or DEBUG naming podrun as the `debug` package's
// convention has it (DEBUG=podrun, podrun:*, *). Automatic decisions (which cluster, which
// credentials, which exec protocol) print one line each there, saying what was chosen and why.
import type { Logger } from '@podrun/core';
import type { CliIo } from './io.js';

/** True when DEBUG asks for podrun's debug lines. */
export function debugRequested(env: CliIo['env']): boolean {
  return (env.DEBUG ?? '')
    .split(/[\s,]+/)
    .some((pattern) => pattern === '*' || pattern === 'podrun' || pattern.startsWith('podrun:'));
}

const strip = (message: string): string => message.replace(/^\[podrun\](?: \[[^\]]+\])? /, '');

/**
 * The logger of the CLI's host and Kubernetes port (lines not tied to one task): warnings and
 * errors always go to stderr, debug lines only when `debug` is on.
 */
export function cliLogger(io: Pick<CliIo, 'stderr'>, debug: boolean): Logger {
  const write = (label: string, message: string) => io.stderr.write(`podrun: ${label}${strip(message)}\n`);
  return {
    debug: (message) => (debug ? write('debug: ', message) : undefined),
    info: () => undefined,
    warn: (message) => write('warning: ', message),
    error: (message) => write('error: ', message),
  };
}
