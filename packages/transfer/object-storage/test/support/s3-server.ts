// A real S3-protocol server for the tests: s3rver (which stores objects but does not check V4
// signatures) behind a proxy that rejects every request not correctly signed or pre-signed, and
// that can drop one transfer stream mid-body.
import { mkdtempSync, rmSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { verifySigV4 } from './sigv4.js';

export interface TestS3 {
  endpoint: string;
  region: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Requests the proxy saw: method, path and whether they were signed correctly. */
  readonly requests: { method: string; path: string; presigned: boolean; ok: boolean }[];
  /** The next request or response body to reach `afterBytes` bytes is cut there. */
  dropNextStream(afterBytes: number): void;
  /** How many streams were cut. */
  dropped(): number;
  /** A client for assertions (listing, reading objects). */
  client(): S3Client;
  stop(): Promise<void>;
}

const CREDENTIALS = { accessKeyId: 'PODRUNTESTKEY', secretAccessKey: 'podrun-test-secret-7Kq2' };
const AUTH_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
];

/** The request as s3rver gets it: already verified here, so without its signature. */
function unsigned(req: IncomingMessage): { path: string; headers: IncomingMessage['headers'] } {
  const url = new URL(req.url ?? '/', 'http://placeholder');
  for (const name of AUTH_PARAMS) url.searchParams.delete(name);
  const headers = { ...req.headers };
  delete headers.authorization;
  return { path: `${url.pathname}${url.search}`, headers };
}

function deny(res: ServerResponse, code: string): void {
  res.writeHead(403, { 'content-type': 'application/xml' });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>rejected by the test proxy</Message></Error>`,
  );
}

/**
 * Starts the server; `host` is where the signing proxy listens: the embedded cluster's `hostIP`
 * so that pods reach it as they would a bucket on the network (s3rver itself stays on loopback).
 */
export async function startTestS3(bucket = 'podrun-transfers', host = '127.0.0.1'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const upstream = (await s3rver.run()) as AddressInfo;
  const secrets = new Map([[CREDENTIALS.accessKeyId, CREDENTIALS.secretAccessKey]]);
  const requests: TestS3['requests'] = [];
  let armed: number | undefined;
  let dropped = 0;

  const proxy = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const verdict = verifySigV4(req.method ?? 'GET', req.url ?? '/', req.headers, secrets);
    const presigned = (req.url ?? '').includes('X-Amz-Signature=');
    requests.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, presigned, ok: verdict.ok });
    if (!verdict.ok) {
      req.resume();
      return deny(res, verdict.reason === 'expired' ? 'AccessDenied' : 'SignatureDoesNotMatch');
    }
    let budget = armed;
    const count = (n: number): boolean => {
      if (budget === undefined || armed === undefined) return false;
      budget -= n;
      if (budget > 0) return false;
      armed = undefined;
      dropped++;
      return true;
    };
    const forward = http.request(
      { host: '127.0.0.1', port: upstream.port, method: req.method, ...unsigned(req) },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (chunk: Buffer) => {
          if (count(chunk.length)) {
            answer.destroy();
            res.socket?.destroy();
            return;
          }
          res.write(chunk);
        });
        answer.on('end', () => res.end());
      },
    );
    forward.on('error', () => res.socket?.destroy());
    req.on('data', (chunk: Buffer) => {
      if (count(chunk.length)) {
        forward.destroy();
        req.socket.destroy();
        return;
      }
      forward.write(chunk);
    });
    req.on('end', () => forward.end());
  });
  await new Promise<void>((resolve) => proxy.listen(0, host, resolve));
  const endpoint = `http://${host}:${(proxy.address() as AddressInfo).port}`;
  const region = 'us-east-1';
  const makeClient = () =>
    new S3Client({
      endpoint,
      region,
      forcePathStyle: true,
      credentials: CREDENTIALS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  const admin = makeClient();
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    region,
    bucket,
    credentials: CREDENTIALS,
    requests,
    dropNextStream: (afterBytes) => void (armed = afterBytes),
    dropped: () => dropped,
    client: makeClient,
    async stop() {
      admin.destroy();
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await s3rver.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
