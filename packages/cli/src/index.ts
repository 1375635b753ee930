/**
 * podrun: the `podrun` command. Runs workflow files on a cluster or the embedded one, validates
 * them, prints least-privilege RBAC and checks a cluster (`doctor`).
 *
 * @packageDocumentation
 */
export { main, run } from './main.js';
export type { CliIo, OutStream } from './io.js';
export { ExitCode } from './io.js';
export { requiredPermissions, rbacYaml } from './permissions.js';
export type { Permission, StrategyNeeds, TransferType } from './permissions.js';
export { findKubeconfig } from './cluster.js';
