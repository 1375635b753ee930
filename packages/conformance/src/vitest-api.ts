// vitest is an optional peer: only running a suite needs it. Importing @podrun/conformance for its
// cluster helpers or reference strategies works without it; using a suite then says what to install.
import { PodrunError, ErrorCodes } from '@podrun/core';
import type * as VitestModule from 'vitest';

type Vitest = typeof VitestModule;

async function loadVitest(): Promise<Vitest | undefined> {
  try {
    return await import('vitest');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

const vitest = await loadVitest();

function missing<T extends object>(name: string): T {
  const fail = (): never => {
    throw new PodrunError(
      ErrorCodes.CONFIG_INVALID,
      `[podrun] [conformance] ${name}() needs vitest, an optional peer of @podrun/conformance: npm install -D vitest`,
    );
  };
  return new Proxy(fail, { apply: fail, get: fail }) as unknown as T;
}

export const describe: Vitest['describe'] = vitest?.describe ?? missing('describe');
export const it: Vitest['it'] = vitest?.it ?? missing('it');
export const beforeAll: Vitest['beforeAll'] = vitest?.beforeAll ?? missing('beforeAll');
export const afterAll: Vitest['afterAll'] = vitest?.afterAll ?? missing('afterAll');
export const afterEach: Vitest['afterEach'] = vitest?.afterEach ?? missing('afterEach');
export const expect: Vitest['expect'] = vitest?.expect ?? missing('expect');
