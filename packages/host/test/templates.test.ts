import { describe, expect, it } from 'vitest';
import { ErrorCodes, isPodrunError } from '@podrun/core';
import { createTemplateRenderer } from '@podrun/host';

const vars = {
  inputs: { name: 'world', count: 3, flag: false },
  outputs: { produce: { vars: { k: 'v' }, outputFiles: { 'out.txt': 'podrun:///ns/f/e/produce/r/out.txt' } } },
  execution: { id: 'exec1' },
  flow: { id: 'hello', namespace: 'company.team' },
  workingDir: '/kestra/working-dir',
  outputDir: '/kestra/working-dir/out',
};

describe('templates', () => {
  const r = createTemplateRenderer();
  it('renders the reference expressions', () => {
    expect(r.render('hi {{ inputs.name }} {{ inputs.count }} {{ inputs.flag }}', vars)).toBe('hi world 3 false');
    expect(r.render('{{ workingDir }}/data.txt {{outputDir}}', vars)).toBe(
      '/kestra/working-dir/data.txt /kestra/working-dir/out',
    );
    expect(r.render("{{ outputs.produce.outputFiles['out.txt'] }}", vars)).toBe('podrun:///ns/f/e/produce/r/out.txt');
    expect(r.render('{{ outputs.produce.vars.k }}-{{ execution.id }}-{{ flow.id }}', vars)).toBe('v-exec1-hello');
  });
  it('has default, json, upper, lower, trim filters and does not escape', () => {
    expect(r.render("{{ inputs.missing | default('fallback') }}", vars)).toBe('fallback');
    expect(r.render('{{ outputs.produce.vars | json }}', vars)).toBe('{"k":"v"}');
    expect(r.render('{{ inputs.name | upper }} {{ "  A " | trim | lower }}', vars)).toBe('WORLD a');
    expect(r.render('{{ "<&>" }}', vars)).toBe('<&>');
  });
  it('leaves strings without expressions alone', () => {
    expect(r.render('echo $HOME ${X} {not} }}', vars)).toBe('echo $HOME ${X} {not} }}');
  });
  it('fails on undefined variables, naming the expression', () => {
    const error = (() => {
      try {
        r.render('line one\ncp {{ inputs.nam }} x', vars);
      } catch (e) {
        return e;
      }
    })();
    expect(isPodrunError(error, ErrorCodes.TEMPLATE)).toBe(true);
    expect((error as { details: { expression: string } }).details.expression).toBe('{{ inputs.nam }}');
    expect(() => r.render('{{ nothing.here }}', vars)).toThrow(/nothing\.here/);
  });
  it('reports syntax errors and unknown filters as template errors', () => {
    for (const t of ['{{ inputs.name ', '{{ inputs.name | nofilter }}']) {
      let caught: unknown;
      try {
        r.render(t, vars);
      } catch (e) {
        caught = e;
      }
      expect(isPodrunError(caught, ErrorCodes.TEMPLATE)).toBe(true);
    }
  });
  it('renders nested values, keys included', () => {
    expect(r.renderDeep({ '{{ inputs.name }}.txt': ['{{ inputs.count }}', 1, true] }, vars)).toEqual({
      'world.txt': ['3', 1, true],
    });
  });
});
