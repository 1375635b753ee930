import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DURATION_PATTERN, TEMPLATE_PATTERN, configJsonSchemas, kubernetesRunnerProperties } from '@podrun/core';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('JSON Schema files', () => {
  const schemas = configJsonSchemas();

  it.each(Object.keys(schemas))('schemas/%s is up to date (run `npm run schemas -w @podrun/core`)', (name) => {
    const committed = readFileSync(`${packageDir}schemas/${name}`, 'utf8');
    expect(committed).toBe(`${JSON.stringify(schemas[name], null, 2)}\n`);
  });

  it('describes every runner property with its default', () => {
    const runner = schemas['kubernetes-runner.schema.json']!;
    const properties = runner.properties as Record<string, { description?: string; default?: unknown }>;
    expect(Object.keys(properties).sort()).toEqual(kubernetesRunnerProperties.map((p) => p.name).sort());
    expect(runner.additionalProperties).toBe(false);
    for (const [name, property] of Object.entries(properties)) expect(property.description, name).toBeTruthy();
    expect(properties.waitForLogs!.default).toBe('PT5S');
    expect(properties.imagePullGracePeriod!.default).toBe('PT30S');
    expect(properties.pullPolicy!.default).toBe('ALWAYS');
    expect(properties.delete!.default).toBe(true);
  });

  it('only uses patterns that JavaScript (and so YAML editors) can compile without flags', () => {
    const patterns: string[] = [];
    JSON.stringify(schemas, (key, value: unknown) => {
      if (key === 'pattern' && typeof value === 'string') patterns.push(value);
      return value;
    });
    expect(patterns).toContain(DURATION_PATTERN);
    expect(patterns).toContain(TEMPLATE_PATTERN);
    for (const pattern of patterns) expect(() => new RegExp(pattern, 'u')).not.toThrow();
    expect(new RegExp(DURATION_PATTERN).test('pt5s')).toBe(true);
  });
});

describe('README', () => {
  it('documents every runner property', () => {
    const readme = readFileSync(`${packageDir}README.md`, 'utf8');
    for (const property of kubernetesRunnerProperties)
      expect(readme, property.name).toContain(`| \`${property.name}\``);
  });
});
