import { expect } from 'vitest';
import { createKubePort, type PodrunKubeConfig } from '@podrun/kube';

/** GET /version through the port (fast retries), closing it afterwards. */
export async function probe(kc: PodrunKubeConfig): Promise<string> {
  const port = createKubePort({ kubeConfig: kc, retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 } });
  try {
    return (await port.serverVersion()).gitVersion;
  } finally {
    await port.close();
  }
}

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** Asserts that no secret appears in the error's message, JSON view or causes. */
export function expectNoSecrets(error: unknown, secrets: string[]): void {
  const parts: string[] = [];
  let e: unknown = error;
  for (let depth = 0; e && depth < 5; depth++) {
    const err = e as Error & { toJSON?: () => unknown };
    parts.push(String(err.message), String(err.stack), JSON.stringify(err.toJSON?.() ?? {}));
    e = err.cause;
  }
  const text = parts.join('\n');
  for (const secret of secrets) {
    expect(text).not.toContain(secret);
    // base64 of the secret too (a Basic header or key data would carry it so)
    expect(text).not.toContain(Buffer.from(secret).toString('base64'));
  }
}
