// GCP's OauthAccessToken with application default credentials: the metadata server (as on GKE
// with workload identity), here a local fake named by GCE_METADATA_HOST as google-auth-library
// honours it; and a clear error when no credential source exists.
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@podrun/core';
import { eksToken, gcpAccessToken } from '../src/cloud-tokens.js';

describe('OauthAccessToken', () => {
  it('gets a token from the metadata server, with the reference output names', async () => {
    const requests: string[] = [];
    const fake = createServer((req, res) => {
      requests.push(`${req.url} ${req.headers['metadata-flavor']}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'ya29.from-metadata', expires_in: 120, token_type: 'Bearer' }));
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      const out = await gcpAccessToken(
        { scopes: ['https://www.googleapis.com/auth/userinfo.email'] },
        { GCE_METADATA_HOST: `127.0.0.1:${(fake.address() as AddressInfo).port}` },
        () => Date.parse('2026-01-01T00:00:00Z'),
      );
      expect(out.accessToken).toEqual({
        tokenValue: 'ya29.from-metadata',
        expirationTime: '2026-01-01T00:02:00.000Z',
        scopes: ['https://www.googleapis.com/auth/userinfo.email'],
      });
      expect(requests).toEqual([
        '/computeMetadata/v1/instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fuserinfo.email Google',
      ]);
    } finally {
      fake.close();
    }
  });

  it('says what is missing when there is no key and no metadata server', async () => {
    await expect(gcpAccessToken({}, { GCE_METADATA_HOST: '127.0.0.1:1' })).rejects.toMatchObject({
      code: ErrorCodes.KUBE_AUTH,
      message: expect.stringContaining('give the task a serviceAccount key') as unknown as string,
    });
  });
});

describe('EksToken', () => {
  // The signature recomputed here from AWS's published SigV4 algorithm, not with the SDK.
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';

  it('is a pre-signed STS GetCallerIdentity URL with the cluster header signed in, as aws eks get-token makes', async () => {
    const out = await eksToken(
      { clusterName: 'my-cluster', region: 'eu-central-1', accessKeyId: 'AKIDEXAMPLE', secretKeyId: SECRET },
      {},
      () => Date.parse('2026-01-01T00:00:00Z'),
    );
    expect(out.token.expirationTime).toBe('2026-01-01T00:10:00.000Z');
    expect(out.token.tokenValue.startsWith('k8s-aws-v1.')).toBe(true);
    const url = new URL(Buffer.from(out.token.tokenValue.slice('k8s-aws-v1.'.length), 'base64url').toString());
    expect(url.host).toBe('sts.eu-central-1.amazonaws.com');
    const q = Object.fromEntries(url.searchParams);
    expect(q).toMatchObject({
      Action: 'GetCallerIdentity',
      Version: '2011-06-15',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20260101/eu-central-1/sts/aws4_request',
      'X-Amz-Date': '20260101T000000Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
    });
    const enc = (v: string) =>
      encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const canonicalQuery = Object.keys(q)
      .filter((k) => k !== 'X-Amz-Signature')
      .sort()
      .map((k) => `${enc(k)}=${enc(q[k]!)}`)
      .join('&');
    const canonicalRequest = [
      'GET',
      '/',
      canonicalQuery,
      'host:sts.eu-central-1.amazonaws.com\nx-k8s-aws-id:my-cluster\n',
      'host;x-k8s-aws-id',
      createHash('sha256').update('').digest('hex'),
    ].join('\n');
    const scope = '20260101/eu-central-1/sts/aws4_request';
    const toSign = [
      'AWS4-HMAC-SHA256',
      '20260101T000000Z',
      scope,
      createHash('sha256').update(canonicalRequest).digest('hex'),
    ].join('\n');
    const key = hmac(hmac(hmac(hmac(`AWS4${SECRET}`, '20260101'), 'eu-central-1'), 'sts'), 'aws4_request');
    expect(q['X-Amz-Signature']).toBe(hmac(key, toSign).toString('hex'));
  });

  it('asks for a clusterName', async () => {
    await expect(eksToken({ accessKeyId: 'a', secretKeyId: 'b' }, {})).rejects.toMatchObject({
      code: ErrorCodes.KUBE_AUTH,
    });
  });
});
