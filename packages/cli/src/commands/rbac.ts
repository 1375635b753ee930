import type { CliIo } from '../io.js';
import { ExitCode } from '../io.js';
import { rbacYaml, requiredPermissions } from '../permissions.js';
import { createCliRegistry } from '../setup.js';
import { configuredTransfers } from './strategies.js';

/** Flags of `podrun rbac`. */
export interface RbacFlags {
  namespace?: string;
  serviceAccount?: string;
  transfer?: string[];
}

/** `podrun rbac [FLOW...]`: least-privilege ServiceAccount, Role and RoleBinding YAML. */
export async function rbacCommand(flows: string[], flags: RbacFlags, io: CliIo): Promise<number> {
  const needs = await configuredTransfers(flows, flags.transfer, createCliRegistry(), io);
  io.stdout.write(
    rbacYaml(requiredPermissions(needs), {
      namespace: flags.namespace ?? 'default',
      serviceAccount: flags.serviceAccount ?? 'podrun',
      needs,
    }),
  );
  return ExitCode.OK;
}
