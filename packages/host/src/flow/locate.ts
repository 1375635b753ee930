import { isMap, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter, Node } from 'yaml';
import type { ConfigIssue } from '@podrun/core';

/** Splits `tasks[0].taskRunner["a.b"]` back into segments. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]/g;
  for (const m of path.matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(JSON.parse(`"${m[3]}"`) as string);
  }
  return out;
}

/**
 * Adds the 1-based source line to each issue: the line of the deepest YAML node its path reaches
 * (an unknown key points at the key itself; a value merged from pluginDefaults at its task).
 */
export function locateIssues(issues: ConfigIssue[], doc: Document, lines: LineCounter): ConfigIssue[] {
  return issues.map((issue) => {
    if (issue.line !== undefined) return issue;
    const line = lineOf(doc, lines, parsePath(issue.path));
    return line === undefined ? issue : { ...issue, line };
  });
}

function lineOf(doc: Document, lines: LineCounter, path: (string | number)[]): number | undefined {
  let node: unknown = doc.contents;
  let best: number | undefined = offsetLine(node, lines);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      // Point at the key: for a missing or wrong value the key's line is where the user looks.
      best = offsetLine(pair.key, lines) ?? best;
      node = pair.value;
      if (node === null) break;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (!node) break;
      best = offsetLine(node, lines) ?? best;
    } else {
      break;
    }
  }
  return best;
}

function offsetLine(node: unknown, lines: LineCounter): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range ? lines.linePos(range[0]).line : undefined;
}
