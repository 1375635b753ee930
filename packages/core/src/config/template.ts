import { z } from 'zod';

/**
 * What makes a string a template: an expression `{{ ... }}` or a tag `{% ... %}` anywhere in it.
 * Kept flag-free so the same pattern works in JSON Schema.
 */
export const TEMPLATE_PATTERN = '\\{\\{[\\s\\S]*?\\}\\}|\\{%[\\s\\S]*?%\\}';

const TEMPLATE = new RegExp(TEMPLATE_PATTERN);
const TEMPLATE_EXPECTED = 'expected a template such as "{{ inputs.name }}"';

/** True when `value` is a string containing a template expression or tag. */
export function isTemplate(value: unknown): boolean {
  return typeof value === 'string' && TEMPLATE.test(value);
}

/**
 * A string holding a template, e.g. `"{{ inputs.keepPod }}"`. Used as the template branch of
 * {@link dynamic}. It aborts on failure so zod reports the typed branch when that one is the
 * better match; the issue converter recognises this branch by its message.
 */
export function templateSchema(): z.ZodString {
  return z.string({ error: TEMPLATE_EXPECTED }).regex(TEMPLATE, { error: TEMPLATE_EXPECTED, abort: true });
}

/**
 * Marks a property as dynamic in a flow (pre-render) schema: it accepts a template string, which
 * the host renders before the runner sees it, as well as the typed value itself. The typed schema
 * must not transform (flow schemas only validate; the rendered schema converts).
 */
export function dynamic<T extends z.ZodType>(typed: T): z.ZodUnion<[z.ZodString, T]> {
  return z.union([templateSchema(), typed]);
}

/** True when an issue came from the template branch of {@link dynamic}. @internal */
export function isTemplateBranchIssue(issue: { message: string; path: readonly PropertyKey[] }): boolean {
  return issue.message === TEMPLATE_EXPECTED && issue.path.length === 0;
}
