import nunjucks from 'nunjucks';
import { ErrorCodes, PodrunError } from '@podrun/core';

/** Variables a template sees: `inputs`, `outputs`, `execution`, `flow`, `workingDir`, ... */
export type TemplateVars = Record<string, unknown>;

/**
 * Renders the reference's expression syntax (`{{ inputs.x }}`, `{{ outputs.t.vars.k }}`,
 * `{{ x | default('y') }}`) with nunjucks. Undefined values are errors that name the expression,
 * never silently empty strings; nothing is HTML-escaped.
 */
export interface TemplateRenderer {
  /** Renders one string; strings without `{{`/`{%` are returned as they are. */
  render(template: string, vars: TemplateVars): string;
  /** Renders every string inside a JSON-like value (objects, arrays), keys included. */
  renderDeep<T>(value: T, vars: TemplateVars): T;
}

/** True when `value` contains template syntax. */
export function isTemplate(value: string): boolean {
  return value.includes('{{') || value.includes('{%');
}

/** Creates a renderer; each renderer has its own nunjucks environment and filters. */
export function createTemplateRenderer(): TemplateRenderer {
  const env = new nunjucks.Environment(null, { autoescape: false, throwOnUndefined: true });
  // Pebble's `json` filter; nunjucks has `dump` for the same, kept as well.
  env.addFilter('json', (value: unknown) => JSON.stringify(value));
  env.addFilter('toJson', (value: unknown) => JSON.stringify(value));
  env.addFilter('fromJson', (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value));
  env.addFilter('startsWith', (value: unknown, prefix: string) => String(value).startsWith(prefix));
  env.addFilter('endsWith', (value: unknown, suffix: string) => String(value).endsWith(suffix));

  const render = (template: string, vars: TemplateVars): string => {
    if (!isTemplate(template)) return template;
    try {
      return env.renderString(template, vars);
    } catch (error) {
      throw templateError(template, error);
    }
  };
  const renderDeep = <T>(value: T, vars: TemplateVars): T => {
    if (typeof value === 'string') return render(value, vars) as T;
    if (Array.isArray(value)) return value.map((v) => renderDeep(v, vars)) as T;
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[render(k, vars)] = renderDeep(v, vars);
      return out as T;
    }
    return value;
  };
  return { render, renderDeep };
}

function templateError(template: string, error: unknown): PodrunError {
  const raw = error instanceof Error ? error.message : String(error);
  const position = /\[Line (\d+), Column (\d+)\]/.exec(raw);
  const expression = position ? expressionAt(template, Number(position[1]), Number(position[2])) : undefined;
  const reason = raw
    .replace(/^\(unknown path\)\s*(\[Line \d+, Column \d+\])?\s*/s, '')
    .replace(/^Error:\s*/, '')
    .trim();
  const undefinedValue = /null or undefined/.test(reason);
  const what = expression ?? firstExpression(template) ?? template;
  const message = undefinedValue
    ? `${what} is undefined; check the variable name, or give a fallback with {{ x | default('value') }}`
    : `${what} cannot be rendered: ${reason}; fix the expression`;
  return new PodrunError(ErrorCodes.TEMPLATE, message, {
    component: 'templates',
    details: { expression: what },
  });
}

// nunjucks reports the position of the `{{` that failed; take the whole expression from there.
function expressionAt(template: string, line: number, column: number): string | undefined {
  const lines = template.split('\n');
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i]!.length + 1;
  const start = template.lastIndexOf('{{', offset + column);
  if (start < 0) return undefined;
  const end = template.indexOf('}}', start);
  return end < 0 ? undefined : template.slice(start, end + 2);
}

function firstExpression(template: string): string | undefined {
  return /\{\{.*?\}\}|\{%.*?%\}/s.exec(template)?.[0];
}
