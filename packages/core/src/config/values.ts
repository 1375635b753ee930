/** Path segments as zod reports them. */
export type IssuePath = readonly PropertyKey[];

/**
 * Names of properties whose values are secrets, so their values never appear in messages.
 * Matches anywhere in a key (`oauthToken`, `clientKeyPassphrase`, `secretAccessKey`...).
 */
const SECRET_KEY = /(password|passphrase|token|secret|keydata|accesskey|credential|apikey|privatekey|authorization)/i;

/** True when any segment of `path` names a secret (so a nested value of a secret is covered too). */
export function isSecretPath(path: IssuePath): boolean {
  return path.some((segment) => typeof segment === 'string' && SECRET_KEY.test(segment));
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Formats a path the way users write it: `taskRunner.labels["app.kubernetes.io/name"]`,
 * `tasks[0].commands`.
 */
export function formatPath(prefix: string, path: IssuePath): string {
  let out = prefix;
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && IDENTIFIER.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out || '(root)';
}

/** Hides the parts of URLs that carry credentials: user info and query strings (pre-signed URLs). */
function redactUrls(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@')
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/[^?\s]*)\?\S*/gi, '$1?***');
}

/**
 * A short, safe rendering of a value for `got ...`: strings quoted, cut, and with URL
 * credentials hidden; objects by kind.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const safe = redactUrls(value);
    return JSON.stringify(safe.length > 60 ? `${safe.slice(0, 60)}…` : safe);
  }
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return `a ${typeof value}`;
}

/** The kind of a value without its content, for secret paths. */
export function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** Reads `path` inside `root`, or undefined when any step is missing. */
export function valueAt(root: unknown, path: IssuePath): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment as string];
  }
  return current;
}
