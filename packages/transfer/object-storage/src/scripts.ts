// The shell scripts the pod runs. They must work with BusyBox (real clusters: busybox,
// curlimages/curl) and GNU tools (the embedded cluster), so they use POSIX sh plus flags both
// implement. User data (file names, URLs, patterns) never appears in a script: it arrives as argv
// or environment and every expansion is quoted, except the glob patterns, which are matched by
// `case` on purpose with pathname expansion off.

/** Control directory (relative to the files volume root) shared by the containers. */
export const CONTROL_DIR = '.podrun-os';

/** Exit codes of the scripts. */
export const ScriptExit = { NO_DIRECTORY: 90, FETCH_FAILED: 93, UPLOAD_FAILED: 94, NO_UPLOADER: 127 } as const;

/** Prints `<size> <sha256>` per NUL-separated path on stdin (same format as the archive's manifest). */
const MANIFEST_OF_STDIN =
  `xargs -0 -r sh -c 'for f do n=$(wc -c < "$f") && h=$(sha256sum < "$f") || exit 1; ` +
  `printf "%s %s\\n" "$((n))" "\${h%% *}"; done' sh`;

/**
 * Init container `fetch-files`: creates WORKING_DIR, OUTPUT_DIR and the control directory, then
 * (when there are inputs) downloads the input archive through its pre-signed URL, extracts it and
 * checks every file against the archive's size/sha256 manifest; retried three times.
 * argv: root workingDir outputDir yes|no. env: PODRUN_INPUTS_URL.
 */
export const FETCH_SCRIPT = `c="$1/${CONTROL_DIR}"
mkdir -p "$2" "$3" "$c" && chmod a+rwx "$2" "$3" "$c" || exit ${ScriptExit.NO_DIRECTORY}
[ "$4" = yes ] || exit 0
fetch() {
  if command -v wget >/dev/null 2>&1; then wget -q -O- "$PODRUN_INPUTS_URL"; else curl -fsS "$PODRUN_INPUTS_URL"; fi
}
verify() {
  [ -f "$c/in/list" ] && (cd "$1" && ${MANIFEST_OF_STDIN} < "$c/in/list" > "$c/in/actual") && cmp -s "$c/in/actual" "$c/in/expected"
}
n=1
until fetch | tar -xf - -C "$1" && verify "$1"; do
  [ $n -lt 4 ] || { echo "[podrun] [object-storage] could not download and verify the input files after $n attempts" >&2; exit ${ScriptExit.FETCH_FAILED}; }
  n=$((n+1))
  sleep 1
done
rm -rf "$c/in"`;

/** Selects the candidate outputs (a superset; the runner makes the exact choice from the listing). */
const SELECT_SCRIPT = `set -f
nl='
'
for f do
  p=\${f#./}
  s=$S
  if [ "$s" != 1 ] && [ -n "$O" ]; then case "$p" in "$O"/*) s=1;; esac; fi
  if [ "$s" != 1 ]; then
    IFS=$nl
    for g in $PODRUN_PATTERNS; do case "$p" in $g) s=1; break;; esac; done
    unset IFS
  fi
  [ "$s" = 1 ] || continue
  if [ -L "$f" ]; then
    [ -f "$f" ] || continue
    case "$(readlink -f "$f")" in "$W"/*) ;; *) continue;; esac
  fi
  printf '%s\\0' "$f"
done`;

/**
 * Sidecar `push-files`: waits for the main container's exit marker, lists the working directory
 * (`W<dir>`, `F<file>`, `L<link>` + `f|o<target>` records, NUL-separated), selects the candidate
 * outputs, writes their manifest, packs listing + list + manifest and then the files (links to
 * files inside the working directory dereferenced, links leading out never read) into one
 * archive, and uploads it through its pre-signed PUT URL (curl, or GNU wget). On failure the
 * archive holds a single `error` member instead.
 * argv: root workingDir outputDirRelative|'' sync(0|1). env: PODRUN_OUTPUTS_URL, PODRUN_PATTERNS.
 */
export const PUSH_SCRIPT = `trap 'exit 143' TERM
c="$1/${CONTROL_DIR}"
while [ ! -f "$c/main-exited" ]; do sleep 0.5; done
o="$c/out"
rm -rf "$o" && mkdir -p "$o" || exit ${ScriptExit.NO_DIRECTORY}
fail() { printf '%s' "$1" > "$o/error"; (cd "$o" && tar -cf - error) > "$o/outputs.tar"; }
pack() {
  [ -L "$2" ] && { fail "UNSAFE the working directory was replaced by a symbolic link"; return; }
  cd -P "$2" || { fail "MISSING the working directory does not exist"; return; }
  w=$(pwd -P)
  { printf 'W%s\\0' "$w" &&
    find . -type f -exec sh -c 'for f do printf "F%s\\0" "$f"; done' sh {} + &&
    find . -type l -exec sh -c 'for l do if [ -f "$l" ]; then k=f; else k=o; fi; printf "L%s\\0%s%s\\0" "$l" "$k" "$(readlink -f "$l")"; done' sh {} +
  } > "$o/listing" || { fail "LIST listing the working directory failed"; return; }
  W="$w" O="$3" S="$4" find . \\( -type f -o -type l \\) -exec sh -c '${SELECT_SCRIPT.replace(/'/g, `'"'"'`)}' sh {} + > "$o/list" || { fail "LIST selecting the outputs failed"; return; }
  ${MANIFEST_OF_STDIN} < "$o/list" > "$o/expected" || { fail "HASH hashing the outputs failed"; return; }
  hd=
  tar --help 2>&1 | grep -q -- --hard-dereference && hd=--hard-dereference
  { (cd "$o" && tar -cf - listing list expected) && xargs -0 -r tar -ch $hd -f - < "$o/list"; } > "$o/outputs.tar" || fail "PACK packing the outputs failed"
}
(pack "$1" "$2" "$3" "$4")
up() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -T "$o/outputs.tar" "$PODRUN_OUTPUTS_URL" > /dev/null
  elif wget --help 2>&1 | grep -q -- --method; then
    wget -q --method=PUT --body-file="$o/outputs.tar" -O /dev/null "$PODRUN_OUTPUTS_URL"
  else
    echo "[podrun] [object-storage] the transfer image has no curl (nor a wget with --method): use an image with curl, e.g. curlimages/curl" >&2
    exit ${ScriptExit.NO_UPLOADER}
  fi
}
n=1
until up; do
  [ $n -lt 4 ] || { echo "[podrun] [object-storage] could not upload the output files after $n attempts" >&2; exit ${ScriptExit.UPLOAD_FAILED}; }
  n=$((n+1))
  sleep 1
done
rm -rf "$o"`;

/** Wraps the main command so its end is visible to the sidecar: argv0 is the marker path. */
export const MAIN_WRAPPER = '"$@"; rc=$?; echo "$rc" > "$0"; exit "$rc"';
