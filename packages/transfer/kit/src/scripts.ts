// Every shell script exec-tar runs in the pod. They must work with BusyBox sh/tar/find/xargs/
// sha256sum (what real clusters run) and with GNU tools (what the embedded cluster runs), so they
// use only POSIX sh plus flags both implement: tar -c -x -f -h, find -type -exec {} +, xargs -0 -r,
// readlink -f, sha256sum reading stdin, stat -c %s, head -c, dd iflag=fullblock,count_bytes, read -r,
// kill -USR1. User data (file names) never appears in a script: it travels through stdin
// (NUL-separated) or as argv, and every expansion is quoted.
//
// BusyBox's head, wc and tee copy a few kilobytes per system call (about 1 s per 200 MB each), so
// bulk data goes through dd with large blocks, sizes come from stat, and nothing is read twice.

/** Exit codes of the scripts, mapped to messages by the transfer. */
export const ScriptExit = {
  ALREADY_STAGED: 89,
  NO_DIRECTORY: 90,
  TAR_FAILED: 91,
  HASH_FAILED: 92,
  MANIFEST_MISMATCH: 93,
  WORKDIR_IS_LINK: 94,
  LIST_FAILED: 95,
  CONTROL_FAILED: 98,
} as const;

/** Prints `<size> <sha256>` for each NUL-separated path on stdin, in order. */
const MANIFEST_OF_STDIN =
  `xargs -0 -r sh -c 'for f do n=$(stat -L -c %s "$f") && h=$(sha256sum < "$f") || exit 1; ` +
  `printf "%s %s\\n" "$n" "\${h%% *}"; done' sh`;

// The init and sidecar scripts are container args, where Kubernetes turns `$$` into `$` (and
// expands `$(NAME)`): they find their own pid in /proc/self/stat, read by the shell itself.

/**
 * Init container `init-files`: creates WORKING_DIR and OUTPUT_DIR (writable by any user, like an
 * emptyDir), then, when inputs are expected, waits for the ready marker the runner writes after a
 * verified upload. The upload wakes it with SIGUSR1 (its pid is in `init.pid`) so the main
 * container starts at once; a slow poll stays for a runtime where the signal cannot reach it (a
 * fast one would fork `sleep` several times a second in every waiting pod). argv: root workingDir
 * outputDir wait|nowait.
 */
export const INIT_SCRIPT = `trap 'exit 143' TERM
mkdir -p "$2" "$3" && chmod a+rwx "$2" "$3" || exit ${ScriptExit.NO_DIRECTORY}
[ "$4" = wait ] || exit 0
trap '[ -f "$1/ready" ] && exit 0' USR1
read -r pid rest < /proc/self/stat && echo "$pid" > "$1/init.pid"
while [ ! -f "$1/ready" ]; do sleep 2 & wait $!; done`;

/**
 * Sidecar `out-files`: stays up (so outputs can be read) until the runner writes the end marker
 * and wakes it with SIGUSR1 (its pid is in `sidecar.pid`), or the pod is deleted (SIGTERM, acted on
 * at once: the shell waits on its sleep instead of running it in the foreground). argv: root.
 */
export const SIDECAR_SCRIPT = `trap 'exit 0' TERM
trap '[ -f "$1/ended" ] && exit 0' USR1
read -r pid rest < /proc/self/stat && echo "$pid" > "$1/sidecar.pid"
while [ ! -f "$1/ended" ]; do sleep 2 & wait $!; done`;

/**
 * Upload, run in `init-files`: extracts the tar on stdin into root (inputs under the working
 * directory, then podrun's control files: a NUL-separated list and the expected manifest),
 * computes the manifest of what landed, prints it, and writes the ready marker only when it
 * matches. Re-running it is safe: extraction overwrites; once the marker exists it changes
 * nothing (the main container may already read the files). Exactly `length` bytes are read
 * (BusyBox tar drains stdin to its end, and exec before v5 cannot close it). argv: root
 * controlDirName length.
 */
export const UPLOAD_SCRIPT = `[ -f "$1/ready" ] && exit ${ScriptExit.ALREADY_STAGED}
cd "$1" || exit ${ScriptExit.NO_DIRECTORY}
dd bs=65536 iflag=fullblock,count_bytes count="$3" 2>/dev/null | tar -xf - || exit ${ScriptExit.TAR_FAILED}
c="$2"
${MANIFEST_OF_STDIN} < "$c/list" > "$c/actual" || exit ${ScriptExit.HASH_FAILED}
cat "$c/actual"
cmp -s "$c/actual" "$c/expected" || exit ${ScriptExit.MANIFEST_MISMATCH}
: > "$1/ready" && rm -rf "$c" || exit ${ScriptExit.CONTROL_FAILED}
[ -f "$1/init.pid" ] && kill -USR1 "$(cat "$1/init.pid")" 2>/dev/null
exit 0`;

/**
 * Download, run in `out-files`. With `list`, first prints the working directory's physical path
 * (`W<path>\\0`), its regular files (`F<path>\\0`), its symbolic links with what they resolve to
 * (`L<path>\\0` then `f<target>\\0` for a regular file or `o<target>\\0` otherwise) and `E\\0`.
 * Then reads the selection from stdin (its byte length on a line, then NUL-separated paths: exec
 * before v5 cannot close stdin, so the length ends it) and prints a tar of exactly those files
 * (links dereferenced; xargs may split it into several archives back to back). Their
 * `<size> <sha256>` lines are computed meanwhile, by a second process reading the same files, and
 * end stderr after a `podrun-manifest` line. argv: workingDir selectionFile list|nolist.
 */
export const DOWNLOAD_SCRIPT = `[ -L "$1" ] && exit ${ScriptExit.WORKDIR_IS_LINK}
cd -P "$1" || exit ${ScriptExit.NO_DIRECTORY}
s="$2"
if [ "$3" = list ]; then
  printf 'W%s\\0' "$(pwd -P)"
  find . -type f -exec sh -c 'printf "F%s\\0" "$@"' sh {} + || exit ${ScriptExit.LIST_FAILED}
  find . -type l -exec sh -c 'for l do if [ -f "$l" ]; then k=f; else k=o; fi; printf "L%s\\0%s%s\\0" "$l" "$k" "$(readlink -f "$l")"; done' sh {} + || exit ${ScriptExit.LIST_FAILED}
  printf 'E\\0'
fi
read -r n && mkdir -p "\${s%/*}" && head -c "$n" > "$s" || exit ${ScriptExit.CONTROL_FAILED}
if [ -s "$s" ]; then
  ${MANIFEST_OF_STDIN} < "$s" > "$s.sums" &
  m=$!
  xargs -0 -r tar -chf - < "$s" || { wait $m; rm -f "$s" "$s.sums"; exit ${ScriptExit.TAR_FAILED}; }
  wait $m || { rm -f "$s" "$s.sums"; exit ${ScriptExit.HASH_FAILED}; }
  { echo podrun-manifest; cat "$s.sums"; } >&2
  rm -f "$s.sums"
fi
rm -f "$s"`;

/** Writes one marker file, then wakes the process whose pid file is given, if any. argv: path [pidFile]. */
export const MARKER_SCRIPT = `: > "$1" || exit ${ScriptExit.CONTROL_FAILED}
[ -n "$2" ] && [ -f "$2" ] && kill -USR1 "$(cat "$2")" 2>/dev/null
exit 0`;
