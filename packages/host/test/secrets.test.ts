// The masker and the secret sources on their own: encodings, lines, short values, and where a
// secret comes from (the reference's base64 SECRET_ variables first, then podrun's sources).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@podrun/core';
import { MASK, createMasker, createSecretResolver } from '@podrun/host';
import { maskingObserver } from '../src/secrets.js';

describe('masker', () => {
  it('masks a value in its plain, base64, URL and JSON forms, and each line of a multi-line one', () => {
    const masker = createMasker();
    masker.add('p@ss "word"/1');
    masker.add('-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----');
    expect(masker.mask('pw=p@ss "word"/1')).toBe(`pw=${MASK}`);
    expect(masker.mask(`b64=${Buffer.from('p@ss "word"/1').toString('base64')}`)).toBe(`b64=${MASK}`);
    expect(masker.mask(`https://u:${encodeURIComponent('p@ss "word"/1')}@h`)).toBe(`https://u:${MASK}@h`);
    expect(masker.mask(JSON.stringify({ pw: 'p@ss "word"/1' }))).toBe(`{"pw":"${MASK}"}`);
    expect(masker.mask('line AAAABBBBCCCC')).toBe(`line ${MASK}`);
    expect(masker.maskDeep({ a: ['x p@ss "word"/1'] })).toEqual({ a: [`x ${MASK}`] });
  });
  it('leaves values shorter than 4 characters alone', () => {
    const masker = createMasker();
    masker.add('abc');
    expect(masker.mask('abcabc')).toBe('abcabc');
  });
});

describe('secret sources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'podrun-secrets-'));
  writeFileSync(join(dir, 'DB'), 'from-a-file');
  const resolver = (env: Record<string, string>) =>
    createSecretResolver({ env, sources: { envPrefix: 'MY_', dir }, masker: createMasker() });

  it("reads SECRET_<NAME> as base64 (the reference's open-source edition), then the prefix, then the directory", () => {
    expect(resolver({ SECRET_DB: Buffer.from('from-env').toString('base64'), MY_DB: 'x' }).get('DB')).toBe('from-env');
    expect(resolver({ MY_DB: 'plain value' }).get('DB')).toBe('plain value');
    expect(resolver({}).get('DB')).toBe('from-a-file');
  });
  it('refuses a SECRET_ value that is not base64, and names every place it looked for a missing one', () => {
    expect(() => resolver({ SECRET_DB: 'not base64!' }).get('DB')).toThrow(/SECRET_DB is not base64/);
    let error: unknown;
    try {
      resolver({}).get('NOPE');
    } catch (e) {
      error = e;
    }
    expect((error as { code: string }).code).toBe(ErrorCodes.SECRET_NOT_FOUND);
    expect(String(error)).toMatch(/SECRET_NOPE .*MY_NOPE, the file .*NOPE/);
  });
});

describe('masking observer', () => {
  it('masks what reaches an observer, whether a plain object or a class instance', () => {
    const masker = createMasker();
    masker.add('hunter2-secret');
    class Printer {
      lines: string[] = [];
      taskLog(task: string, line: { text: string }) {
        this.lines.push(`${task}: ${line.text}`);
      }
    }
    const printer = new Printer();
    const wrapped = maskingObserver(printer as never, masker);
    void wrapped.taskLog?.('t', { text: 'password hunter2-secret', container: 'main', timestamp: 'x' } as never);
    expect(printer.lines).toEqual([`t: password ${MASK}`]);
  });
});
