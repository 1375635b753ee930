import type { KubePort } from '@podrun/core';
import { chooseCluster } from '../cluster.js';
import type { ClusterChoice } from '../cluster.js';
import { ExitCode } from '../io.js';
import type { CliIo } from '../io.js';
import { requiredPermissions } from '../permissions.js';
import { resolve } from 'node:path';
import { createCliRegistry } from '../setup.js';
import { configuredTransfers } from './strategies.js';

/** Flags of `podrun doctor`. */
export interface DoctorFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  cluster?: string;
  transfer?: string[];
  stateDir?: string;
}

/**
 * `podrun doctor [FLOW...]`: connection, server version, exec protocol, and every permission the
 * configured strategies need (SelfSubjectAccessReview). Prints what is missing; exit 1 if anything is.
 */
export async function doctorCommand(flows: string[], flags: DoctorFlags, io: CliIo): Promise<number> {
  const out = (line: string) => io.stdout.write(`${line}\n`);
  const needs = await configuredTransfers(flows, flags.transfer, createCliRegistry(), io);
  let cluster: ClusterChoice | undefined;
  let port: KubePort | undefined;
  let problems = 0;
  try {
    cluster = await chooseCluster({ ...flags, stateDir: resolve(io.cwd, flags.stateDir ?? '.podrun') }, io);
    const kube = await import('@podrun/kube');
    const kubeConfig = kube.createKubeConfig(
      undefined,
      { ...io.env },
      {
        ...(cluster.target.kubeconfigPath ? { kubeconfigPath: cluster.target.kubeconfigPath } : {}),
        ...(cluster.target.context ? { context: cluster.target.context } : {}),
      },
    );
    port = kube.createKubePort({ kubeConfig, retry: { maxAttempts: 2 } });
    const namespace = flags.namespace ?? port.defaultNamespace;
    out(`cluster:     ${kubeConfig.server} (${cluster.mode}, ${kubeConfig.credentials})`);
    let version;
    try {
      version = await port.serverVersion();
      out(`connection:  ok`);
      out(`server:      ${version.gitVersion}`);
    } catch (error) {
      out(`connection:  FAILED - ${error instanceof Error ? error.message : String(error)}`);
      return ExitCode.FAILED;
    }
    const minor = Number.parseInt(version.minor, 10);
    if (needs.exec) {
      // Transfers announce their lengths, so they need no stdin close: v4 is as good as v5.
      const protocol = Number(version.major) > 1 || minor >= 30 ? 'v5.channel.k8s.io' : 'v4.channel.k8s.io';
      out(`exec:        ${protocol} expected from Kubernetes ${version.major}.${version.minor}: ok`);
    }
    out(`namespace:   ${namespace}; file transfer: ${needs.transfers.join(', ')}`);
    for (const p of requiredPermissions(needs)) {
      for (const verb of p.verbs) {
        const name = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
        const answer = await port.canI({
          namespace,
          verb,
          resource: p.resource,
          ...(p.subresource ? { subresource: p.subresource } : {}),
          group: p.group,
        });
        if (answer.allowed) out(`  ok       ${verb} ${name}`);
        else {
          problems += 1;
          out(`  MISSING  ${verb} ${name} - needed to ${p.why}`);
        }
      }
    }
    out(
      problems
        ? `\n${problems} problem(s) found; 'podrun rbac' prints a Role that grants what is missing.`
        : '\nall checks passed',
    );
    return problems ? ExitCode.FAILED : ExitCode.OK;
  } finally {
    await port?.close();
    await cluster?.stop();
  }
}
