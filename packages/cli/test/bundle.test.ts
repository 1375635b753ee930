// The bundled command as Node loads it: every chunk of dist/bundle evaluates without touching a
// deprecated built-in (Node 21+ warns about punycode on every start, which whatwg-url under
// client-node would otherwise ask for).
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bundle = fileURLToPath(new URL('../dist/bundle/', import.meta.url));

describe('the bundled podrun command', () => {
  it('loads every chunk with deprecations made errors', () => {
    const chunks = readdirSync(bundle).filter((f) => f.endsWith('.js'));
    expect(chunks.length).toBeGreaterThan(3);
    const script = `for (const f of ${JSON.stringify(chunks)}) await import(${JSON.stringify(bundle)} + f);`;
    const out = execFileSync(
      process.execPath,
      ['--pending-deprecation', '--throw-deprecation', '--input-type=module', '-e', script],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(out).toBe('');
  });
});
