import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '@podrun/core';
import type { SecretSources, WorkerGroupTarget } from '@podrun/host';
import type { CliIo } from './io.js';

const schema = z.strictObject({
  stateDir: z.string().optional(),
  outputDir: z.string().optional(),
  namespaceFiles: z.string().optional(),
  secrets: z
    .strictObject({
      envPrefix: z.string().min(1).optional(),
      dir: z.string().min(1).optional(),
    })
    .optional(),
  workerGroups: z
    .record(
      z.string(),
      z.strictObject({
        context: z.string().optional(),
        kubeconfig: z.string().optional(),
        namespace: z.string().optional(),
      }),
    )
    .optional(),
});

/** The host's configuration file (`podrun.config.yml`). */
export interface HostConfig {
  file?: string;
  stateDir?: string;
  outputDir?: string;
  namespaceFiles?: string;
  /** podrun's own secret sources for `secret('NAME')` (an env prefix, a directory of files). */
  secrets?: SecretSources;
  /** Worker group key -> cluster context (and optionally kubeconfig file and namespace). */
  workerGroups: Record<string, WorkerGroupTarget>;
}

/** Reads `--config`, else PODRUN_CONFIG, else `./podrun.config.yml` when present. Paths resolve against the file. */
export async function loadHostConfig(explicit: string | undefined, io: CliIo): Promise<HostConfig> {
  const file =
    explicit ??
    io.env.PODRUN_CONFIG ??
    (existsSync(resolve(io.cwd, 'podrun.config.yml')) ? 'podrun.config.yml' : undefined);
  if (!file) return { workerGroups: {} };
  const path = resolve(io.cwd, file);
  let raw: unknown;
  try {
    raw = parse(await readFile(path, 'utf8')) ?? {};
  } catch (error) {
    throw new ConfigError(
      [{ path: '(file)', message: `cannot read ${path}: ${error instanceof Error ? error.message : String(error)}` }],
      {
        component: 'cli',
        title: 'invalid host configuration',
      },
    );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message })),
      { component: 'cli', title: `invalid host configuration ${path}` },
    );
  }
  const base = dirname(path);
  const abs = (p: string | undefined) => (p ? resolve(base, p) : undefined);
  const workerGroups: Record<string, WorkerGroupTarget> = {};
  for (const [key, g] of Object.entries(parsed.data.workerGroups ?? {})) {
    workerGroups[key] = {
      ...(g.context ? { context: g.context } : {}),
      ...(g.kubeconfig ? { kubeconfigPath: abs(g.kubeconfig)! } : {}),
      ...(g.namespace ? { namespace: g.namespace } : {}),
    };
  }
  return {
    file: path,
    workerGroups,
    ...(parsed.data.stateDir ? { stateDir: abs(parsed.data.stateDir)! } : {}),
    ...(parsed.data.outputDir ? { outputDir: abs(parsed.data.outputDir)! } : {}),
    ...(parsed.data.namespaceFiles ? { namespaceFiles: abs(parsed.data.namespaceFiles)! } : {}),
    ...(parsed.data.secrets
      ? {
          secrets: {
            ...(parsed.data.secrets.envPrefix ? { envPrefix: parsed.data.secrets.envPrefix } : {}),
            ...(parsed.data.secrets.dir ? { dir: abs(parsed.data.secrets.dir)! } : {}),
          },
        }
      : {}),
  };
}
