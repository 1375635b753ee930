// The HTTP form of 410 Gone (a watch request answered 410 instead of an ERROR event) also makes
// the informer relist; the emulator only produces the event form, so a tiny server does this one.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createKubeConfig, createKubePort, type PodrunKubePort } from '@podrun/kube';

let server: http.Server;
let port: PodrunKubePort;
const requests: string[] = [];
let listRv = 5;

const pod = (name: string, rv: number, step?: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', resourceVersion: String(rv), labels: step ? { step } : {} },
});

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const rv = url.searchParams.get('resourceVersion');
    const watch = url.searchParams.get('watch') === 'true';
    requests.push(watch ? `watch rv=${rv} bookmarks=${url.searchParams.get('allowWatchBookmarks')}` : 'list');
    res.setHeader('Content-Type', 'application/json');
    if (!watch) {
      const items = listRv === 5 ? [pod('a', 5)] : [pod('a', 6, 'relisted')];
      res.end(
        JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(listRv) }, items }),
      );
      return;
    }
    if (rv === '5') {
      listRv = 6;
      res.writeHead(410);
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'Expired',
          code: 410,
          message: 'too old resource version: 5 (6)',
        }),
      );
      return;
    }
    // rv=6: stay open with one change
    res.writeHead(200);
    res.write(`${JSON.stringify({ type: 'MODIFIED', object: pod('a', 7, 'watched') })}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  port = createKubePort({
    kubeConfig: createKubeConfig({ masterUrl: url, oauthToken: 't' }, {}),
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
  });
});
afterAll(async () => {
  await port?.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

it('relists when the watch request itself is answered 410 Gone', async () => {
  const selector = { namespace: 'default' };
  const stop = port.watchPod(selector, 'a', () => undefined);
  const got = await port.waitForPod(selector, 'a', (p) => p.metadata?.labels?.step === 'watched');
  expect(got.metadata?.resourceVersion).toBe('7');
  expect(requests).toEqual(['list', 'watch rv=5 bookmarks=true', 'list', 'watch rv=6 bookmarks=true']);
  expect(port.informerStats(selector)?.relists).toBe(1);
  stop();
});
