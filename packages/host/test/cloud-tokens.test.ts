// GCP's OauthAccessToken with application default credentials: the metadata server (as on GKE
// with workload identity), here a local fake named by GCE_METADATA_HOST as google-auth-library
// honours it; and a clear error when no credential source exists.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '@podrun/core';
import { gcpAccessToken } from '../src/cloud-tokens.js';

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
