// The test S3 server must be strict, or the transfer tests prove nothing: unsigned or wrongly
// signed requests are rejected, SDK-signed requests and pre-signed URLs (used by wget/curl, as
// the pod does) pass.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestS3, type TestS3 } from './support/s3-server.js';

const run = promisify(execFile);
let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3?.stop();
});

describe('test S3 server', () => {
  it('accepts SDK-signed requests and pre-signed URLs used by wget and curl', async () => {
    const client = s3.client();
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'dir/a b.txt', Body: 'hello' }));
    const get = await getSignedUrl(client, new GetObjectCommand({ Bucket: s3.bucket, Key: 'dir/a b.txt' }), {
      expiresIn: 60,
    });
    expect((await run('wget', ['-q', '-O-', get])).stdout).toBe('hello');
    const put = await getSignedUrl(client, new PutObjectCommand({ Bucket: s3.bucket, Key: 'up.txt' }), {
      expiresIn: 60,
    });
    await run('sh', ['-c', 'printf uploaded | curl -fsS -T - "$1"', 'sh', put]);
    const back = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'up.txt' }));
    expect(await back.Body?.transformToString()).toBe('uploaded');
    client.destroy();
  });

  it('rejects anonymous, tampered and wrongly signed requests', async () => {
    const client = s3.client();
    const get = await getSignedUrl(client, new GetObjectCommand({ Bucket: s3.bucket, Key: 'dir/a b.txt' }), {
      expiresIn: 60,
    });
    await expect(run('wget', ['-q', '-O-', get.replace('dir/a%20b.txt', 'up.txt')])).rejects.toThrow();
    await expect(run('wget', ['-q', '-O-', `${s3.endpoint}/${s3.bucket}/up.txt`])).rejects.toThrow();
    const put = await getSignedUrl(client, new PutObjectCommand({ Bucket: s3.bucket, Key: 'up.txt' }), {
      expiresIn: 60,
    });
    await expect(run('wget', ['-q', '-O-', put])).rejects.toThrow();
    const wrong = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'wrong' },
    });
    await expect(wrong.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'up.txt' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    wrong.destroy();
    client.destroy();
  });
});
