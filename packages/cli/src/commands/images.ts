// `podrun cluster image import|ls`: the image store of a running embedded cluster, reached over
// its admin endpoint with the kubeconfig's own credentials (the admin kubeconfig the cluster wrote).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request } from 'node:https';
import type { RequestOptions } from 'node:https';
import { request as plainRequest } from 'node:http';
import { resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ErrorCodes, PodrunError } from '@podrun/core';
import { createKubeConfig } from '@podrun/kube';
import { ExitCode } from '../io.js';
import type { CliIo } from '../io.js';

/** Flags of `podrun cluster image ...`. */
export interface ImageFlags {
  kubeconfig?: string;
  name?: string;
}

interface ImageList {
  items: { names: string[]; digest: string; size: number }[];
}

function kubeconfigPath(flags: ImageFlags, io: CliIo): string {
  const path = flags.kubeconfig ?? io.env.KUBECONFIG?.split(':')[0];
  if (!path) {
    throw new PodrunError(
      ErrorCodes.CONFIG_INVALID,
      'no kubeconfig: pass --kubeconfig with the file `podrun cluster start` printed (or set KUBECONFIG)',
    );
  }
  return resolve(io.cwd, path);
}

/** One admin request; the body, if any, is streamed from `upload`. */
async function adminRequest(
  flags: ImageFlags,
  io: CliIo,
  method: 'GET' | 'POST',
  query: string,
  upload?: string,
): Promise<ImageList> {
  const kubeConfig = createKubeConfig(undefined, io.env, { kubeconfigPath: kubeconfigPath(flags, io) });
  const server = kubeConfig.getCurrentCluster()?.server;
  if (!server) throw new PodrunError(ErrorCodes.CONFIG_INVALID, 'the kubeconfig names no cluster server');
  const url = new URL(`/podrun-admin/images${query}`, server);
  const options: RequestOptions = { method, headers: {} };
  await kubeConfig.applyToHTTPSOptions(options);
  if (upload) {
    options.headers = {
      ...options.headers,
      'content-type': 'application/x-tar',
      'content-length': (await stat(upload)).size,
    };
  }
  const send = url.protocol === 'https:' ? request : plainRequest;
  return new Promise<ImageList>((resolveList, reject) => {
    const req = send(url, options, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 300) {
          const message = (() => {
            try {
              return (JSON.parse(text) as { message?: string }).message ?? text;
            } catch {
              return text;
            }
          })();
          const hint =
            res.statusCode === 404 ? ' (is this an embedded podrun cluster? real clusters pull from registries)' : '';
          reject(new PodrunError(ErrorCodes.KUBE_API, `${url.host}: ${res.statusCode} ${message.trim()}${hint}`));
        } else resolveList(JSON.parse(text) as ImageList);
      });
    });
    req.on('error', (error) =>
      reject(
        new PodrunError(ErrorCodes.KUBE_CONNECTION, `cannot reach ${url.host}: ${error.message}`, { cause: error }),
      ),
    );
    if (upload) pipeline(createReadStream(upload), req).catch(reject);
    else req.end();
  });
}

function printImages(list: ImageList, io: CliIo): void {
  const rows = list.items.flatMap((image) =>
    image.names.map((name) => [name, image.digest.slice(0, 19), `${(image.size / 1e6).toFixed(1)} MB`]),
  );
  const widths = [0, 1].map((i) => Math.max(i === 0 ? 5 : 6, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `${cells[0]!.padEnd(widths[0]!)}  ${cells[1]!.padEnd(widths[1]!)}  ${cells[2]}\n`;
  io.stdout.write(line(['IMAGE', 'DIGEST', 'SIZE']));
  for (const row of rows) io.stdout.write(line(row));
}

/** `podrun cluster image import FILE...`: streams each archive into the cluster's image store. */
export async function imageImportCommand(files: string[], flags: ImageFlags, io: CliIo): Promise<number> {
  if (flags.name !== undefined && files.length !== 1) {
    io.stderr.write('podrun: --name names one image: import one archive at a time with it\n');
    return ExitCode.INVALID;
  }
  for (const file of files) {
    const path = resolve(io.cwd, file);
    if (!(await stat(path).catch(() => undefined))?.isFile()) {
      io.stderr.write(`podrun: ${file}: no such archive (give a \`docker save\` or OCI archive file, tar or tar.gz)\n`);
      return ExitCode.INVALID;
    }
    const query = flags.name !== undefined ? `?name=${encodeURIComponent(flags.name)}` : '';
    const imported = await adminRequest(flags, io, 'POST', query, path);
    for (const image of imported.items) io.stdout.write(`imported ${image.names.join(', ')} (${image.digest})\n`);
  }
  return ExitCode.OK;
}

/** `podrun cluster image ls`: the images pods of the cluster can use. */
export async function imageListCommand(flags: ImageFlags, io: CliIo): Promise<number> {
  printImages(await adminRequest(flags, io, 'GET', ''), io);
  return ExitCode.OK;
}
