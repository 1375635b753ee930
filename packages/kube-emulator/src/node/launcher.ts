// The last step inside a sandbox, run by /bin/sh after chroot with the container's environment:
// enter the working directory, check that the command can be executed (so that a missing binary
// is a StartError like runc's, not exit 127), report on fd 3, then exec the command in place.
// Arguments: $1 working dir, $2 `direct` or a shell-quoted command line to run on a pty through
// script(1), $3... the argv.

/** Single-quotes a string for POSIX sh. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The launcher, run as `sh -c launcherScript sh <workingDir> <direct|tty-command> <argv...>`. */
export const launcherScript = [
  'cd -- "$1" 2>/dev/null || { mkdir -p -- "$1" 2>/dev/null && cd -- "$1"; } || { printf "fail chdir\\n" >&3; exit 128; }',
  'case $3 in',
  '  */*) if [ ! -e "$3" ]; then printf "fail nofile\\n" >&3; exit 128; elif [ -d "$3" ] || [ ! -x "$3" ]; then printf "fail noexec\\n" >&3; exit 128; fi ;;',
  '  *) command -v -- "$3" >/dev/null 2>&1 || { printf "fail notfound\\n" >&3; exit 128; } ;;',
  'esac',
  'printf "started\\n" >&3',
  'exec 3>&-',
  'if [ "$2" != direct ]; then exec script -qfec "$2" /dev/null; fi',
  'shift 2',
  'exec "$@"',
].join('\n');

/** runc's reason for a command that could not be started, e.g. `exec: "x": executable file not found in $PATH`. */
export function startFailureDetail(kind: string, command: string, workingDir: string): string {
  switch (kind) {
    case 'chdir':
      return `chdir to cwd ("${workingDir}") set in config.json failed: not a directory`;
    case 'nofile':
      return `exec: "${command}": stat ${command}: no such file or directory`;
    case 'noexec':
      return `exec: "${command}": permission denied`;
    default:
      return `exec: "${command}": executable file not found in $PATH`;
  }
}

/** containerd's StartError message for a container whose command could not be started. */
export function startErrorMessage(kind: string, spec: { command: string[]; workingDir: string }): string {
  const detail = startFailureDetail(kind, spec.command[0] ?? '', spec.workingDir);
  return `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: ${detail}: unknown`;
}
