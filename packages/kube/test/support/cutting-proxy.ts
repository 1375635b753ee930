// A plain-HTTP reverse proxy in front of the emulator that can cut a client's connection before
// forwarding a request, or after the API server has processed it (the ambiguous case).
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export type CutRule = { method: string; pathPattern: RegExp; when: 'before' | 'after'; remaining: number };

export interface CuttingProxy {
  url: string;
  rules: CutRule[];
  stop(): Promise<void>;
}

export async function startCuttingProxy(upstream: string, caPem: string): Promise<CuttingProxy> {
  const rules: CutRule[] = [];
  const agent = new https.Agent({ ca: caPem, keepAlive: false });
  const server = http.createServer((req, res) => {
    const rule = rules.find((r) => r.remaining > 0 && r.method === req.method && r.pathPattern.test(req.url ?? ''));
    if (rule) rule.remaining--;
    if (rule?.when === 'before') {
      req.socket.destroy();
      return;
    }
    const up = https.request(
      new URL(req.url ?? '/', upstream),
      { method: req.method, headers: req.headers, agent },
      (upRes) => {
        if (rule?.when === 'after') {
          upRes.resume();
          upRes.on('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => req.socket.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    rules,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
        agent.destroy();
      }),
  };
}
