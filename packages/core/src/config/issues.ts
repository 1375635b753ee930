import type { z } from 'zod';
import { ConfigError, type ConfigIssue, type ErrorCode } from '../errors.js';
import { knownKeysAt } from './schema-walk.js';
import { closestMatch } from './suggest.js';
import { isTemplate, isTemplateBranchIssue } from './template.js';
import { describeKind, describeValue, formatPath, isSecretPath, valueAt, type IssuePath } from './values.js';

/** How {@link zodIssuesToConfigIssues} locates and words issues. */
export interface ConfigIssueOptions {
  /** Prefix of every path, e.g. `taskRunner` or `tasks[0]`. Default: none. */
  path?: string;
  /** The schema that was parsed: lets unknown keys get a "did you mean". */
  schema?: z.core.$ZodType;
  /** The value that was parsed: gives document order and values for messages. */
  input?: unknown;
  /**
   * `flow` (default): a template where none is allowed means the property is not dynamic.
   * `rendered`: a template left over means the host did not render it.
   */
  stage?: 'flow' | 'rendered';
  /** Extra advice for unknown keys by name, e.g. `containerImage` -> "set it on the task". */
  unknownKeyHints?: Readonly<Record<string, string>>;
}

type Issue = z.core.$ZodIssue;
type Found = { path: IssuePath; message: string };

const NOT_DYNAMIC = 'is not dynamic: templates ({{ ... }}) are not rendered here, write the value itself';
const UNRENDERED =
  'contains an unrendered template ({{ ... }}): the host must render dynamic properties before the runner reads them';

const article = (type: string): string =>
  ({
    object: 'an object',
    record: 'an object',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    boolean: 'a boolean',
    int: 'a whole number',
  })[type] ?? type;

function hasInput(issue: Issue): issue is Issue & { input: unknown } {
  return Object.prototype.hasOwnProperty.call(issue, 'input');
}

/**
 * Turns zod issues into podrun {@link ConfigIssue}s: one per problem, with a user-style path
 * (`taskRunner.labels["app/name"]`), a message that says what is expected and what was found,
 * "did you mean" for unknown keys and enum values, and document order. Values under secret-like
 * keys (passwords, tokens, key data, passphrases, credentials) are never shown. Parse with
 * `{ reportInput: true }` or pass `input` so messages can show the offending value.
 */
export function zodIssuesToConfigIssues(issues: readonly Issue[], options: ConfigIssueOptions = {}): ConfigIssue[] {
  const found: Found[] = [];
  for (const issue of issues) visit(issue, [], options, found);
  const seen = new Set<string>();
  const unique = found.filter((f) => {
    const key = `${formatPath('', f.path)}\n${f.message}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  const order = unique.map((f) => documentOrder(options.input, f.path));
  return unique
    .map((f, i) => ({ f, i }))
    .sort((a, b) => compareOrder(order[a.i]!, order[b.i]!) || a.i - b.i)
    .map(({ f }) => ({ path: formatPath(options.path ?? '', f.path), message: f.message }));
}

function visit(issue: Issue, base: IssuePath, options: ConfigIssueOptions, out: Found[]): void {
  const path = [...base, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      for (const key of issue.keys) out.push({ path: [...path, key], message: unknownKey(key, path, options) });
      return;
    case 'invalid_union':
      return visitUnion(issue, path, options, out);
    case 'invalid_key':
      for (const inner of issue.issues) {
        out.push({
          path,
          message: `invalid key ${JSON.stringify(String(path[path.length - 1]))}: ${messageFor(inner as Issue, path, options, true)}`,
        });
      }
      return;
    case 'invalid_element':
      for (const inner of issue.issues) visit(inner as Issue, path, options, out);
      return;
    default:
      out.push({ path, message: messageFor(issue, path, options) });
  }
}

function unknownKey(key: string, path: IssuePath, options: ConfigIssueOptions): string {
  const hint = options.unknownKeyHints?.[key];
  if (hint && path.length === 0) return `unknown property: ${hint}`;
  const known = options.schema ? knownKeysAt(options.schema, path, options.input) : [];
  const suggestion = closestMatch(key, known);
  if (suggestion !== undefined) return `unknown property; did you mean \`${suggestion}\`?`;
  if (known.length > 0 && known.length <= 25)
    return `unknown property; expected one of: ${[...known].sort().join(', ')}`;
  return 'unknown property';
}

const isRootTypeMismatch = (i: Issue) => i.code === 'invalid_type' && i.path.length === 0;

function visitUnion(
  issue: Extract<Issue, { code: 'invalid_union' }>,
  path: IssuePath,
  options: ConfigIssueOptions,
  out: Found[],
): void {
  const discriminator = (issue as { discriminator?: string }).discriminator;
  if (discriminator !== undefined && issue.errors.length === 0) {
    const allowed = ((issue as { options?: unknown[] }).options ?? []).map((o) => String(o));
    const holder = hasInput(issue) ? issue.input : valueAt(options.input, path.slice(0, -1));
    const value = holder && typeof holder === 'object' ? (holder as Record<string, unknown>)[discriminator] : undefined;
    const list = allowed.map((o) => `"${o}"`).join(', ');
    if (value === undefined) {
      out.push({ path, message: `is required: one of ${list}` });
      return;
    }
    const suggestion = typeof value === 'string' ? closestMatch(value, allowed) : undefined;
    out.push({
      path,
      message: `expected one of ${list}, got ${describeValue(value)}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
    });
    return;
  }
  const branches = issue.errors as Issue[][];
  const meaningful = branches.filter((b) => !b.every((i) => isTemplateBranchIssue(i) || isRootTypeMismatch(i)));
  if (meaningful.length === 0) {
    out.push({ path, message: unionMessage(issue, branches, path, options) });
    return;
  }
  const depth = (b: Issue[]) => Math.max(...b.map((i) => i.path.length));
  const best = [...meaningful].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0]!;
  for (const inner of best) visit(inner, path, options, out);
}

function unionMessage(issue: Issue, branches: Issue[][], path: IssuePath, options: ConfigIssueOptions): string {
  if (issue.message && issue.message !== 'Invalid input') return messageFor(issue, path, options);
  const expected = new Set<string>();
  const template = branches.some((b) => b.every(isTemplateBranchIssue));
  for (const branch of branches) {
    if (branch.every(isTemplateBranchIssue)) continue;
    for (const inner of branch) {
      const own = isCustomMessage(inner.message)
        ? inner.message.replace(/^expected /, '').split(', got ')[0]!
        : undefined;
      expected.add(own ?? (inner.code === 'invalid_type' ? article(inner.expected) : inner.message));
    }
  }
  const what = [...expected, ...(template ? ['a template such as "{{ inputs.name }}"'] : [])].join(' or ');
  return messageFor(
    { ...issue, code: 'custom', message: `expected ${what || 'a different value'}` } as Issue,
    path,
    options,
  );
}

const isCustomMessage = (message: string | undefined): message is string =>
  !!message && !/^(Invalid|Too (big|small)|Unrecognized)\b/.test(message);

/** The message of one leaf issue, with the value shown unless the path is secret. */
function messageFor(issue: Issue, path: IssuePath, options: ConfigIssueOptions, isKey = false): string {
  const secret = isSecretPath(path);
  // A refinement's issue carries the refined object as input, not the value at its path.
  const own = hasInput(issue) && issue.code !== 'custom' && issue.input !== undefined;
  const value = isKey ? path[path.length - 1] : own ? issue.input : valueAt(options.input, path);
  const present = isKey || value !== undefined;
  const show = (message: string): string => {
    const cut = message.indexOf(', got ');
    const base = cut >= 0 ? message.slice(0, cut) : message;
    // "got a list" says nothing about a list that is too short or an object of the wrong shape.
    if (!present || (issue.code !== 'invalid_type' && value !== null && typeof value === 'object')) return base;
    if (secret) return `${base}, got ${describeKind(value)}`;
    return cut >= 0 ? message : `${message}, got ${describeValue(value)}`;
  };
  const custom = isCustomMessage(issue.message);

  if (isTemplate(value) && (issue.code !== 'custom' || issue.message.startsWith('is not dynamic'))) {
    return options.stage === 'rendered' ? UNRENDERED : NOT_DYNAMIC;
  }
  switch (issue.code) {
    case 'invalid_type':
      if (!present && !isKey) return `is required (expected ${article(issue.expected)})`;
      return custom ? show(issue.message) : show(`expected ${article(issue.expected)}`);
    case 'invalid_value': {
      const allowed = issue.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
      const suggestion = typeof value === 'string' && !secret ? closestMatch(value, allowed) : undefined;
      const base = custom
        ? issue.message
        : allowed.length === 1
          ? `expected ${allowed[0]}`
          : `expected one of ${allowed.join(', ')}`;
      return show(base) + (suggestion !== undefined ? ` (did you mean ${suggestion}?)` : '');
    }
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1 && !custom) return 'must not be empty';
      return show(
        custom
          ? issue.message
          : `expected at least ${String(issue.minimum)}${issue.origin === 'string' ? ' characters' : ''}`,
      );
    case 'too_big':
      return show(
        custom
          ? issue.message
          : `expected at most ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : ''}`,
      );
    case 'invalid_format':
      return show(custom ? issue.message : `has the wrong format (${issue.format})`);
    case 'custom':
      // Cross-field messages stand alone; value checks ("expected ...") get the value shown.
      if (issue.message.startsWith('expected ')) return show(issue.message);
      return secret ? issue.message.split(', got ')[0]! : issue.message;
    default:
      return show(issue.message);
  }
}

function documentOrder(input: unknown, path: IssuePath): number[] {
  const order: number[] = [];
  let current = input;
  for (const segment of path) {
    if (typeof segment === 'number') order.push(segment);
    else if (current && typeof current === 'object' && !Array.isArray(current)) {
      const index = Object.keys(current).indexOf(String(segment));
      order.push(index < 0 ? Number.MAX_SAFE_INTEGER : index);
    } else order.push(Number.MAX_SAFE_INTEGER);
    current =
      current && typeof current === 'object' ? (current as Record<PropertyKey, unknown>)[segment as string] : undefined;
  }
  return order;
}

function compareOrder(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Options of {@link parseWithSchema}. */
export interface ParseWithSchemaOptions extends Omit<ConfigIssueOptions, 'schema' | 'input'> {
  /** First line of the error, default `invalid <path> configuration`. */
  title?: string;
  /** Error code, default `PODRUN_CONFIG_INVALID`. */
  code?: ErrorCode;
  /** Component named in the error prefix, default `config`. */
  component?: string;
}

/**
 * Parses `input` with a zod schema and returns the output, or throws one {@link ConfigError}
 * listing every problem (see {@link zodIssuesToConfigIssues}). The generic entry point the host
 * uses for flows; runner configuration goes through `parseRunnerConfig`.
 */
export function parseWithSchema<S extends z.core.$ZodType>(
  schema: S,
  input: unknown,
  options: ParseWithSchemaOptions = {},
): z.output<S> {
  const result = (schema as unknown as z.ZodType).safeParse(input, { reportInput: true });
  if (result.success) return result.data as z.output<S>;
  const issues = zodIssuesToConfigIssues(result.error.issues, { ...options, schema, input });
  const title = options.title ?? `invalid ${options.path ? `${options.path} ` : ''}configuration`;
  throw new ConfigError(issues, {
    title,
    component: options.component ?? 'config',
    ...(options.code ? { code: options.code } : {}),
  });
}
