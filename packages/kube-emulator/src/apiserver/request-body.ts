// Reads and decodes request bodies (JSON, or YAML as some clients send), with the API server's
// 3 MiB limit.
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { decodeProtobufObject } from './protobuf.js';
import { ApiStatusError, badRequest, failure } from './status.js';

const maxBodyBytes = 3 * 1024 * 1024;

/** Reads the whole body (bodies are small JSON objects; streams are never sent this way). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) {
      throw new ApiStatusError(failure(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'));
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Decodes a body by Content-Type; 400 when it does not parse. */
export function decodeBody(raw: Buffer, contentType: string | undefined): unknown {
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  const type = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/vnd.kubernetes.protobuf') return decodeProtobufObject(raw);
  try {
    if (type === 'application/yaml' || type === 'application/apply-patch+yaml') return parseYaml(text) as unknown;
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`the object provided is unrecognized (must be of type ${type}): ${(error as Error).message}`);
  }
}

/** Reads and decodes in one go. */
export async function readObject(req: IncomingMessage): Promise<unknown> {
  return decodeBody(await readBody(req), req.headers['content-type']);
}
