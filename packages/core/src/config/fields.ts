import { z } from 'zod';
import { DURATION_PATTERN, durationProblem, parseDuration } from '../duration.js';
import { QUANTITY_PATTERN } from '../quantity.js';
import { dynamic, isTemplate } from './template.js';
import { describeValue } from './values.js';

/*
 * Field schemas come in two forms: `...Text` / check forms validate without changing the value
 * (flow schemas, where the host renders templates afterwards) and value forms convert
 * (rendered schemas: durations to milliseconds, "true" to true, JSON strings to objects).
 */

const got = (input: unknown): string => `got ${describeValue(input)}`;

/** A duration string, validated but kept as written. `positive` rejects zero. */
export function durationText(options: { positive?: boolean } = {}) {
  const problem = (iss: { input?: unknown }) => durationProblem(iss.input);
  let schema = z
    .string({ error: problem })
    .regex(new RegExp(DURATION_PATTERN), { error: problem, abort: true })
    .refine((v) => durationProblem(v) === undefined, { error: problem, abort: true });
  if (options.positive) {
    schema = schema.refine((v) => parseDuration(v) > 0, {
      error: (iss) => `expected a duration longer than zero, ${got(iss.input)}`,
    });
  }
  return schema;
}

/** A duration string converted to milliseconds. */
export function durationMs(options: { positive?: boolean } = {}) {
  return durationText(options).transform((v) => parseDuration(v));
}

const BOOLEAN_EXPECTED = (iss: { input?: unknown }) => `expected true or false, ${got(iss.input)}`;

/** `true`/`false`, or the strings "true"/"false" a rendered template yields; kept as written. */
export function booleanText() {
  return z.union([z.boolean(), z.string().regex(/^(true|false|True|False|TRUE|FALSE)$/, { error: BOOLEAN_EXPECTED })], {
    error: BOOLEAN_EXPECTED,
  });
}

/** Like {@link booleanText}, converted to a boolean. */
export function booleanValue() {
  return booleanText().transform((v) => (typeof v === 'boolean' ? v : v.toLowerCase() === 'true'));
}

function parseJsonObject(text: string, ctx: z.RefinementCtx): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below with the same message as a non-object
  }
  ctx.addIssue({
    code: 'custom',
    message: isTemplate(text)
      ? 'contains an unrendered template: the host must render dynamic properties before the runner reads them'
      : 'expected an object (a string is accepted only when it holds a JSON object, as a rendered template does)',
  });
  return z.NEVER;
}

const OBJECT_EXPECTED = (iss: { input?: unknown }) => `expected an object, ${got(iss.input)}`;

/** A free-form object (pod spec overlays); kept as written. */
export function objectText() {
  return z.record(z.string(), z.unknown(), { error: OBJECT_EXPECTED });
}

/** A free-form object, or the JSON object string a rendered template yields, as an object. */
export function objectValue() {
  return z.union([objectText(), z.string().transform(parseJsonObject)], { error: OBJECT_EXPECTED });
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A DNS-1123 label (namespace names): lowercase alphanumerics and '-', at most 63 characters. */
export function dnsLabel(what: string) {
  const message = (iss: { input?: unknown }) =>
    `expected ${what} (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters), ${got(iss.input)}`;
  return z.string({ error: message }).max(63, { error: message }).regex(DNS_LABEL, { error: message });
}

/** A DNS-1123 subdomain (most object names): like a label, dots allowed, at most 253 characters. */
export function dnsSubdomain(what: string) {
  const message = (iss: { input?: unknown }) =>
    `expected ${what} (lowercase letters, digits, '-' and '.', at most 253 characters), ${got(iss.input)}`;
  return z.string({ error: message }).max(253, { error: message }).regex(DNS_SUBDOMAIN, { error: message });
}

const LABEL_KEY =
  /^(([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function labelKeyOk(key: string): boolean {
  if (!LABEL_KEY.test(key)) return false;
  const slash = key.lastIndexOf('/');
  return key.length - slash - 1 <= 63 && (slash < 0 || slash <= 253);
}

/** A label (or node selector) key: `[prefix/]name`, name at most 63 characters. */
export function labelKey() {
  return z.string().refine(labelKeyOk, {
    error: (iss) =>
      `expected a label key such as app.kubernetes.io/name (name part: letters, digits, '-', '_', '.', at most 63 characters), ${got(iss.input)}`,
  });
}

/** A label value: at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric, or empty. */
export function labelValue() {
  const message = (iss: { input?: unknown }) =>
    typeof iss.input === 'number' || typeof iss.input === 'boolean'
      ? `expected a string, ${got(iss.input)}: quote it ("${String(iss.input)}")`
      : `expected a label value (letters, digits, '-', '_' and '.', starting and ending with a letter or digit, at most 63 characters), ${got(iss.input)}`;
  return z.string({ error: message }).max(63, { error: message }).regex(LABEL_VALUE, { error: message });
}

/** Labels or a node selector in a flow: keys and values may be templates. */
export function labelMapText() {
  return z.record(dynamic(labelKey()), dynamic(labelValue()), { error: OBJECT_EXPECTED });
}

/** Labels or a node selector after rendering: a map, or the JSON object string a template yields. */
export function labelMapValue() {
  const map = z.record(labelKey(), labelValue(), { error: OBJECT_EXPECTED });
  return z.union([map, z.string().transform(parseJsonObject).pipe(map)], { error: OBJECT_EXPECTED });
}

/** A Kubernetes resource quantity (`500m`, `1`, `1.5`, `256Mi`); numbers become strings. */
export function quantity() {
  const message = (iss: { input?: unknown }) =>
    `expected a Kubernetes quantity such as 500m, 2 or 256Mi, ${got(iss.input)}`;
  return z
    .union([z.string().regex(QUANTITY_PATTERN, { error: message }), z.number().nonnegative({ error: message })], {
      error: message,
    })
    .transform((v) => String(v));
}

/** A string that must be written as is: templates are not rendered in non-dynamic properties. */
export function literalText() {
  return z.string().refine((v: string): boolean => !isTemplate(v), {
    error: 'is not dynamic: templates ({{ ... }}) are not rendered here, write the value itself',
  });
}

/** A container image reference: no spaces, not a template. */
export function imageRef() {
  return literalText().regex(/^[^\s]+$/, {
    error: (iss) => `expected a container image such as busybox:1.36, ${got(iss.input)}`,
  });
}

/** An http(s) URL. The value is never echoed: URLs can carry credentials. */
export function httpUrl() {
  return z.string().refine(
    (v) => {
      try {
        const url = new URL(v);
        return url.protocol === 'https:' || url.protocol === 'http:';
      } catch {
        return false;
      }
    },
    { error: 'expected an http(s) URL such as https://kubernetes.default.svc' },
  );
}
