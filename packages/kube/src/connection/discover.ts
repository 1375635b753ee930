// kubectl's conventions for finding a cluster when the Connection does not name one:
// --kubeconfig, else KUBECONFIG (several files, first value wins), else ~/.kube/config, else the
// in-cluster service account.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Cluster, Context, User } from '@kubernetes/client-node';
import { ErrorCodes, PodrunError } from '@podrun/core';
import { fileTokenSource, TOKEN_SOURCE_PROVIDER, type TokenSource } from './auth.js';
import { fieldError } from './tls-material.js';
import type { KubeconfigSelection, KubeEnvironment } from './options.js';

/** The default service-account directory inside a pod. */
export const SERVICE_ACCOUNT_ROOT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A configuration found by kubectl's rules. */
export interface Discovered {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string;
  source: 'kubeconfig' | 'in-cluster';
  /** Secret-free description of where it came from (file names, in-cluster). */
  origin: string;
  tokenSource?: TokenSource;
}

function connectionError(message: string): PodrunError {
  return new PodrunError(ErrorCodes.KUBE_CONNECTION, message, { component: 'kube' });
}

function loadFile(file: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (error) {
    throw connectionError(
      `cannot load kubeconfig ${file}: ${error instanceof Error ? error.message.split('\n')[0] : 'invalid file'}; ` +
        'check that it is a valid kubeconfig (kubectl config view --kubeconfig FILE)',
    );
  }
  return kc;
}

// kubectl merges KUBECONFIG files so that the first file to set a value wins; client-node would
// throw on duplicate names and let the last current-context win.
function mergeFiles(files: string[]): Omit<Discovered, 'source' | 'origin'> {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let currentContext = '';
  for (const file of files) {
    const kc = loadFile(file);
    for (const c of kc.getClusters() ?? []) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of kc.getUsers() ?? []) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of kc.getContexts() ?? []) if (!contexts.has(c.name)) contexts.set(c.name, c);
    currentContext ||= kc.getCurrentContext() ?? '';
  }
  return {
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext,
  };
}

function fromFiles(files: string[], origin: string): Discovered {
  return { ...mergeFiles(files), source: 'kubeconfig', origin };
}

function inCluster(env: KubeEnvironment): Discovered | undefined {
  const root = env.inClusterRoot ?? SERVICE_ACCOUNT_ROOT;
  const tokenFile = path.join(root, 'token');
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port || !existsSync(tokenFile)) return undefined;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const caFile = path.join(root, 'ca.crt');
  const namespaceFile = path.join(root, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  return {
    clusters: [
      {
        name: 'in-cluster',
        server: `https://${hostPart}:${port}`,
        caFile: existsSync(caFile) ? caFile : undefined,
        skipTLSVerify: false,
      },
    ],
    users: [{ name: 'in-cluster', authProvider: { name: TOKEN_SOURCE_PROVIDER, config: {} } }],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'in-cluster', namespace }],
    currentContext: 'in-cluster',
    source: 'in-cluster',
    origin: `in-cluster service account ${root}`,
    tokenSource: fileTokenSource(tokenFile),
  };
}

function selectContext(found: Discovered, selection: KubeconfigSelection): Discovered {
  const name = selection.context ?? found.currentContext;
  const names = found.contexts.map((c) => c.name);
  if (!name) {
    throw connectionError(
      `${found.origin} has no current-context; pass a context (one of: ${names.join(', ') || 'none'})`,
    );
  }
  const context = found.contexts.find((c) => c.name === name);
  if (!context) {
    throw connectionError(`context "${name}" is not in ${found.origin}; use one of: ${names.join(', ') || 'none'}`);
  }
  if (!found.clusters.some((c) => c.name === context.cluster)) {
    throw connectionError(
      `context "${name}" in ${found.origin} names cluster "${context.cluster}", which is not defined`,
    );
  }
  return { ...found, currentContext: name };
}

/**
 * Finds the cluster as kubectl would. Returns undefined when nothing is configured at all.
 */
export function discover(env: KubeEnvironment, selection: KubeconfigSelection = {}): Discovered | undefined {
  if (selection.kubeconfigPath) {
    if (!existsSync(selection.kubeconfigPath)) {
      throw fieldError('kubeconfig', `${selection.kubeconfigPath} does not exist; pass an existing kubeconfig file`);
    }
    return selectContext(fromFiles([selection.kubeconfigPath], selection.kubeconfigPath), selection);
  }
  if (env.KUBECONFIG) {
    const listed = env.KUBECONFIG.split(path.delimiter).filter(Boolean);
    const files = listed.filter((f) => existsSync(f));
    if (!files.length) {
      throw connectionError(
        `none of the KUBECONFIG files exist (${listed.join(path.delimiter)}); fix KUBECONFIG or unset it`,
      );
    }
    return selectContext(fromFiles(files, `KUBECONFIG (${files.join(path.delimiter)})`), selection);
  }
  if (env.HOME) {
    const file = path.join(env.HOME, '.kube', 'config');
    if (existsSync(file)) return selectContext(fromFiles([file], file), selection);
  }
  const cluster = inCluster(env);
  return cluster ? selectContext(cluster, selection) : undefined;
}
