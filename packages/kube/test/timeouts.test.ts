// A server that accepts connections and never answers must not hang a call.
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ErrorCodes, KubeApiError, isPodrunError } from '@podrun/core';
import { createKubeConfig, createKubePort } from '@podrun/kube';

let server: net.Server;
const sockets = new Set<net.Socket>();
let accepted = 0;

beforeAll(async () => {
  server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

it('times out a call with no answer, retries it, then fails with PODRUN_KUBE_CONNECTION', async () => {
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const port = createKubePort({
    kubeConfig: createKubeConfig({ masterUrl: url, oauthToken: 't' }, {}),
    requestTimeoutMs: 200,
    retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10 },
  });
  const error = await port.getPod('default', 'p').catch((e: unknown) => e);
  await port.close();
  expect(error).toBeInstanceOf(KubeApiError);
  expect(isPodrunError(error, ErrorCodes.KUBE_CONNECTION)).toBe(true);
  expect((error as KubeApiError).details.errno).toBe('ETIMEDOUT');
  expect(accepted).toBe(2);
});
