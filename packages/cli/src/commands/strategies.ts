import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '@podrun/core';
import { isKubernetesRunner, parseFlow } from '@podrun/host';
import type { RunnerConfig, RunnerRegistry } from '@podrun/host';
import type { CliIo } from '../io.js';
import type { StrategyNeeds, TransferType } from '../permissions.js';
import { DEFAULT_RUNNER } from '../setup.js';

const TRANSFERS: TransferType[] = ['exec-tar', 'pvc', 'object-storage'];

/**
 * What the strategies in use need: `--transfer` values plus those of the Kubernetes tasks of the
 * given flows; exec-tar (the reference behaviour) when nothing says otherwise. A pvc transfer
 * moves files through a helper pod over exec unless it has a `hostPath`.
 */
export async function configuredTransfers(
  flows: string[],
  explicit: string[] | undefined,
  registry: RunnerRegistry,
  io: CliIo,
): Promise<StrategyNeeds> {
  const found = new Set<TransferType>();
  let exec = false;
  let claims: StrategyNeeds['claims'] = 'none';
  const note = (type: TransferType, block: { existingClaim?: unknown; hostPath?: unknown }) => {
    found.add(type);
    if (type === 'exec-tar' || (type === 'pvc' && !block.hostPath)) exec = true;
    if (type === 'pvc') claims = block.existingClaim && claims !== 'per-run' ? 'existing' : 'per-run';
  };
  for (const t of explicit ?? []) {
    if (!TRANSFERS.includes(t as TransferType)) {
      throw new ConfigError([{ path: '--transfer', message: `expected one of ${TRANSFERS.join(', ')}, got "${t}"` }], {
        component: 'cli',
      });
    }
    note(t as TransferType, {});
  }
  for (const file of flows) {
    const flow = parseFlow(await readFile(resolve(io.cwd, file), 'utf8'), { registry, file });
    for (const task of flow.tasks) {
      const runner = (task.taskRunner as RunnerConfig | undefined) ?? DEFAULT_RUNNER;
      if (!isKubernetesRunner(registry, runner)) continue;
      const block =
        (runner.fileTransfer as { type?: string; existingClaim?: unknown; hostPath?: unknown } | undefined) ?? {};
      note((block.type ?? 'exec-tar') as TransferType, block);
    }
  }
  if (!found.size) note('exec-tar', {});
  return { transfers: TRANSFERS.filter((t) => found.has(t)), exec, claims };
}
