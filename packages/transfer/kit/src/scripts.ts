// Every shell script exec-tar runs in the pod. They must work with BusyBox sh/tar/find/xargs/
// sha256sum (what real clusters' file sidecars run) and with GNU tools, so they use only POSIX sh
// plus flags both implement: tar -c -x -f -h, find -type -exec {} +, xargs -0 -r -n, readlink -f,
// sha256sum reading stdin, stat -c %s, head -c, dd iflag=fullblock,count_bytes,skip_bytes
// oflag=seek_bytes conv=notrunc, read -r, kill -USR1. User data (file names) never appears in a
// script: it travels through stdin (NUL-separated) or as argv, and every expansion is quoted.
//
// BusyBox's head, wc and tee copy a few kilobytes per system call (about 1 s per 200 MB each), so
// bulk data goes through dd with large blocks and sizes come from stat.

/** Exit codes of the scripts, mapped to messages by the transfer. */
export const ScriptExit = {
  ALREADY_STAGED: 89,
  NO_DIRECTORY: 90,
  TAR_FAILED: 91,
  HASH_FAILED: 92,
  MANIFEST_MISMATCH: 93,
  WORKDIR_IS_LINK: 94,
  LIST_FAILED: 95,
  PIECE_HASH_FAILED: 96,
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
 * One large input in `init-files`, run by xargs per file with the stream on fd 3: writes each
 * piece in place with dd, then hashes it from the page cache in the background while the next
 * piece arrives, so the check costs little after the last byte. Appends one `<size> <sha256>` line
 * per piece to `bigsums`, in order. A piece it could not hash exits 255, which makes xargs stop
 * and exit 124 (GNU and BusyBox alike), so the caller can tell it from a failed write (exit 1,
 * xargs 123). argv: control pieceSize path size.
 */
const PIECES_OF_ONE_FILE =
  'c="$1" p="$2" f="$3" n="$4" o=0 i=0; rm -f "$c"/h/*; : > "$f" || exit 1; ' +
  'while [ "$o" -lt "$n" ]; do l=$((n - o)); [ "$l" -gt "$p" ] && l=$p; ' +
  'dd bs=65536 iflag=fullblock,count_bytes count="$l" oflag=seek_bytes seek="$o" conv=notrunc of="$f" 2>/dev/null <&3 || exit 1; ' +
  '{ h=$(dd bs=65536 iflag=skip_bytes,count_bytes skip="$o" count="$l" if="$f" 2>/dev/null | sha256sum) && ' +
  'printf "%s %s\\n" "$l" "${h%% *}" > "$c/h/$i"; } & ' +
  'o=$((o + l)); i=$((i + 1)); done; wait; ' +
  'j=0; while [ "$j" -lt "$i" ]; do cat "$c/h/$j" || exit 255; j=$((j + 1)); done >> "$c/bigsums"';

/**
 * Upload, run in `init-files`. The stdin stream has three sections of lengths given in argv: a
 * tar (directories, the inputs up to pieceSize, control files `list` and `pieces`), the larger
 * inputs as raw bytes (see PIECES_OF_ONE_FILE), and a tar holding the expected manifest. It then
 * computes the manifest of what landed (small files by `list`, then the pieces), prints it, and
 * writes the ready marker only when it matches. Re-running it is safe: everything is written
 * again; once the marker exists it changes nothing (the main container may already read the
 * files). Exactly the announced bytes are read (BusyBox tar drains stdin to its end, and exec
 * before v5 cannot close it). argv: root controlDirName headLength tailLength pieceSize.
 */
export const UPLOAD_SCRIPT = `[ -f "$1/ready" ] && exit ${ScriptExit.ALREADY_STAGED}
cd "$1" || exit ${ScriptExit.NO_DIRECTORY}
c="$2"
rm -rf "$c"
dd bs=65536 iflag=fullblock,count_bytes count="$3" 2>/dev/null | tar -xf - || exit ${ScriptExit.TAR_FAILED}
if [ -s "$c/pieces" ]; then
  mkdir -p "$c/h" && exec 3<&0 || exit ${ScriptExit.CONTROL_FAILED}
  xargs -0 -n 2 sh -c '${PIECES_OF_ONE_FILE}' podrun-pieces "$c" "$5" < "$c/pieces"
  r=$?
  [ "$r" -ne 124 ] || exit ${ScriptExit.PIECE_HASH_FAILED}
  [ "$r" -eq 0 ] || exit ${ScriptExit.TAR_FAILED}
fi
dd bs=65536 iflag=fullblock,count_bytes count="$4" 2>/dev/null | tar -xf - || exit ${ScriptExit.TAR_FAILED}
${MANIFEST_OF_STDIN} < "$c/list" > "$c/actual" || exit ${ScriptExit.HASH_FAILED}
[ ! -f "$c/bigsums" ] || cat "$c/bigsums" >> "$c/actual" || exit ${ScriptExit.HASH_FAILED}
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
