// A real HTTPS server that authenticates like kube-apiserver (client certificates are requested
// but checked after the handshake, then bearer tokens, then basic auth) and answers /version and
// pod lists. Used to prove every connection path end to end.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Issued } from './pki.js';

export interface TlsApiServer {
  url: string;
  port: number;
  /** Tokens accepted now (mutable). */
  tokens: Set<string>;
  /** Accepted user:password pairs. */
  basic: Set<string>;
  /** Identity of each authenticated request, in order. */
  seen: string[];
  stop(): Promise<void>;
}

export async function startTlsApiServer(opts: {
  server: Issued;
  clientCa: Issued;
  /** Reject unauthorised client certificates during the handshake instead of answering 401. */
  strictHandshake?: boolean;
}): Promise<TlsApiServer> {
  const tokens = new Set<string>();
  const basic = new Set<string>();
  const seen: string[] = [];
  const server = https.createServer(
    {
      key: opts.server.keyPem,
      cert: opts.server.certPem,
      ca: opts.clientCa.certPem,
      requestCert: true,
      rejectUnauthorized: !!opts.strictHandshake,
    },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const auth = req.headers.authorization ?? '';
      let who: string | undefined;
      if (socket.authorized && socket.getPeerCertificate()?.subject)
        who = `cert:${socket.getPeerCertificate().subject.CN}`;
      else if (auth.startsWith('Bearer ') && tokens.has(auth.slice(7))) who = 'token';
      else if (auth.startsWith('Basic ') && basic.has(Buffer.from(auth.slice(6), 'base64').toString())) who = 'basic';
      if (!who) {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Failure',
            message: 'Unauthorized',
            reason: 'Unauthorized',
            code: 401,
          }),
        );
        return;
      }
      seen.push(who);
      const url = new URL(req.url ?? '/', 'https://x');
      res.setHeader('Content-Type', 'application/json');
      if (url.pathname === '/version') {
        res.end(JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.0-test' }));
      } else if (/^\/api\/v1\/namespaces\/[^/]+\/pods$/.test(url.pathname)) {
        res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: [] }));
      } else {
        res.writeHead(404);
        res.end(
          JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' }),
        );
      }
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    tokens,
    basic,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
