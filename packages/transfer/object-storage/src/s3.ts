// The runner's side of S3: one client per strategy (created on first use, never at import), a
// streamed multipart upload whose memory is bounded by one part, and object removal.
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { TransferError } from '@podrun/core';

/** How to reach the bucket; credentials fall back to the AWS SDK's default chain. */
export interface S3Settings {
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** A client for the settings. Checksums only when required, for S3-compatible services. */
export function createS3Client(settings: S3Settings): S3Client {
  return new S3Client({
    ...(settings.endpoint && { endpoint: settings.endpoint }),
    ...((settings.region ?? (settings.endpoint ? 'us-east-1' : undefined)) && {
      region: settings.region ?? 'us-east-1',
    }),
    ...(settings.forcePathStyle !== undefined && { forcePathStyle: settings.forcePathStyle }),
    ...(settings.credentials && { credentials: settings.credentials }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Wraps an SDK failure without its request details (which could name credentials). */
export function s3Error(what: string, error: unknown, options: { retriable?: boolean } = {}): TransferError {
  const name = error instanceof Error ? error.name : 'Error';
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const hint =
    status === 403
      ? 'check the credentials and that they may write the bucket'
      : status === 404
        ? 'check the bucket name and endpoint'
        : 'check that the storage endpoint is reachable';
  return new TransferError(`${what} failed (${name}${status ? `, HTTP ${status}` : ''}); ${hint}`, {
    component: 'object-storage',
    details: { status, retriable: options.retriable ?? status === undefined },
  });
}

/**
 * Uploads a stream as one object: small streams with one PutObject, larger ones as a multipart
 * upload of `partSize` parts read one at a time (back-pressure: the stream is paused while a part
 * uploads). A failure or abort aborts the multipart upload, so nothing partial remains.
 */
export async function uploadStream(
  client: S3Client,
  target: { bucket: string; key: string },
  stream: Readable,
  partSize: number,
  signal: AbortSignal,
): Promise<{ bytes: number; attempts: number }> {
  const { bucket: Bucket, key: Key } = target;
  let uploadId: string | undefined;
  const parts: CompletedPart[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let bytes = 0;
  let attempts = 1;
  const sendPart = async () => {
    const Body = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    uploadId ??= (await client.send(new CreateMultipartUploadCommand({ Bucket, Key }), { abortSignal: signal }))
      .UploadId;
    const PartNumber = parts.length + 1;
    const answer = await client.send(new UploadPartCommand({ Bucket, Key, UploadId: uploadId, PartNumber, Body }), {
      abortSignal: signal,
    });
    attempts = Math.max(attempts, answer.$metadata.attempts ?? 1);
    parts.push({ PartNumber, ETag: answer.ETag });
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      signal.throwIfAborted();
      pending.push(chunk);
      pendingBytes += chunk.length;
      bytes += chunk.length;
      if (pendingBytes >= partSize) await sendPart();
    }
    signal.throwIfAborted();
    if (uploadId === undefined) {
      const answer = await client.send(new PutObjectCommand({ Bucket, Key, Body: Buffer.concat(pending) }), {
        abortSignal: signal,
      });
      return { bytes, attempts: answer.$metadata.attempts ?? 1 };
    }
    if (pendingBytes > 0) await sendPart();
    await client.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: uploadId, MultipartUpload: { Parts: parts } }),
      { abortSignal: signal },
    );
    return { bytes, attempts };
  } catch (error) {
    if (uploadId !== undefined) {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId })).catch(() => undefined);
    }
    throw error;
  } finally {
    stream.destroy();
  }
}

/** Removes objects; missing ones are not an error. */
export async function deleteObjects(client: S3Client, bucket: string, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await client.send(
    new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }),
  );
}
