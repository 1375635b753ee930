/**
 * Optimal-string-alignment distance (Damerau-Levenshtein with adjacent transpositions), so
 * `waitForLgos` is one edit from `waitForLogs`.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

const normalize = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * The candidate `word` most likely meant, or undefined when none is close. Spelling variants that
 * only differ in case or separators (`IfNotPresent` for `IF_NOT_PRESENT`, `fileSidecarSpec` for
 * `fileSideCarSpec`) always match; otherwise the edit distance must be small for the word's length,
 * or the word must be a shortened form found in exactly one candidate (`image` -> `containerImage`).
 */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const wanted = normalize(word);
  const exact = candidates.find((c) => normalize(c) === wanted && wanted.length > 0);
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, normalize(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.floor(Math.max(wanted.length, 1) / 3));
  if (bestDistance <= Math.min(allowed, 4)) return best;
  // A shortened name (`image` for `containerImage`) is a match when only one candidate contains it.
  const containing = wanted.length >= 4 ? candidates.filter((c) => normalize(c).includes(wanted)) : [];
  return containing.length === 1 ? containing[0] : undefined;
}
