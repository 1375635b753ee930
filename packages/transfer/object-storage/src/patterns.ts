// Output globs as `case` patterns for the pod's pre-selection. They only have to select a
// SUPERSET of what the glob matches (the runner makes the exact choice with picomatch from the
// pod's listing), so every construct `case` cannot express widens to `*`.

/** One glob (as the task writes it) to a POSIX `case` pattern matching at least the same paths. */
export function casePattern(glob: string, workingDir: string): string {
  if (glob.startsWith('regex:') || glob.startsWith('!') || glob.includes('\n')) return '*';
  let g = glob.startsWith('glob:') ? glob.slice('glob:'.length) : glob;
  if (g.startsWith(`${workingDir}/`)) g = g.slice(workingDir.length + 1);
  g = g.replace(/^(\.\/)+/, '');
  // Braces and extglobs have no `case` equivalent; `*` in `case` already crosses `/`, like `**`.
  if (/[{}]|[!@+*?]\(/.test(g)) return '*';
  return g
    .replace(/\*\*\/?/g, '*')
    .replace(/\/\*\*$/, '*')
    .replace(/\[\^/g, '[!');
}

/** The patterns the pod receives, one per line. */
export function casePatterns(globs: string[], workingDir: string): string[] {
  return [...new Set(globs.map((g) => casePattern(g, workingDir)))];
}
