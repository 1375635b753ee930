import { dirname, join, resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { ConfigError, ErrorCodes } from '@podrun/core';
import type { ExecutionObserver, ExecutionResult, Host } from '@podrun/host';
import { chooseCluster } from '../cluster.js';
import { debugRequested } from '../debug.js';
import type { ClusterChoice, ClusterFlags } from '../cluster.js';
import { exitCodeFor, exitCodeForCode, reportError } from '../errors.js';
import { loadHostConfig } from '../host-config.js';
import { ExitCode } from '../io.js';
import type { CliIo } from '../io.js';
import { saveOutputs } from '../outputs.js';
import { createPrinter, jsonDocument, summary } from '../printer.js';
import { createCliHost, createCliRegistry, flowNeedsCluster } from '../setup.js';

/** Flags shared by `run` and `resume`. */
export interface RunFlags {
  input?: string[];
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  executionId?: string;
  outputDir?: string;
  json?: boolean;
  cluster?: string;
  stateDir?: string;
  config?: string;
  namespaceFiles?: string;
  verbose?: boolean;
  allLogs?: boolean;
}

/** `podrun run FLOW`: runs a flow file and prints logs, a summary and where outputs were saved. */
export async function runCommand(flowFile: string, flags: RunFlags, io: CliIo): Promise<number> {
  const path = resolve(io.cwd, flowFile);
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch {
    throw new ConfigError([{ path: 'FLOW', message: `cannot read ${flowFile}; check the path` }], {
      code: ErrorCodes.FLOW_INVALID,
      component: 'cli',
    });
  }
  const inputs = parseInputs(flags.input ?? []);
  return execute(
    flags,
    io,
    dirname(path),
    async (host, observer) =>
      host.run({
        observer,
        source,
        flowPath: path,
        inputs,
        cwd: io.cwd,
        signal: io.signal,
        ...(flags.executionId ? { executionId: flags.executionId } : {}),
        options: savedOptions(flags, io.cwd),
      }),
    source,
  );
}

/** `podrun resume ID`: continues an interrupted execution; running tasks reattach to their pods. */
export async function resumeCommand(executionId: string, flags: RunFlags, io: CliIo): Promise<number> {
  const hostConfig = await loadHostConfig(flags.config, io);
  const stateDir = resolve(io.cwd, flags.stateDir ?? hostConfig.stateDir ?? '.podrun');
  const registry = createCliRegistry();
  const peek = createCliHost({ registry, stateDir, hostConfig, io });
  const record = await peek.load(executionId);
  // The cluster choice of the interrupted run is kept with it (no secrets), flags win.
  const saved = (record.options ?? {}) as RunFlags;
  const { input, ...rest } = flags;
  const merged: RunFlags = { ...saved, ...stripUndefined(rest) };
  const inputs = parseInputs(input ?? []);
  const flowDir = record.flowPath ? dirname(record.flowPath) : io.cwd;
  return execute(
    merged,
    io,
    flowDir,
    (host, observer) => host.resume(executionId, { observer, signal: io.signal, inputs }),
    record.flowSource,
  );
}

async function execute(
  flags: RunFlags,
  io: CliIo,
  flowDir: string,
  start: (host: Host, observer: ExecutionObserver) => Promise<ExecutionResult>,
  source: string,
): Promise<number> {
  const hostConfig = await loadHostConfig(flags.config, io);
  const stateDir = resolve(io.cwd, flags.stateDir ?? hostConfig.stateDir ?? '.podrun');
  const registry = createCliRegistry();
  // Validate before anything starts (no cluster for an invalid flow).
  const flow = createCliHost({ registry, stateDir, hostConfig, io }).validate(source);
  const debug = Boolean(flags.verbose) || debugRequested(io.env);
  let cluster: ClusterChoice | undefined;
  if (flowNeedsCluster(flow, registry)) {
    const clusterFlags: ClusterFlags = { stateDir };
    for (const key of ['kubeconfig', 'context', 'namespace', 'cluster'] as const)
      if (flags[key]) clusterFlags[key] = flags[key];
    cluster = await chooseCluster(clusterFlags, io, (line) => debug && io.stderr.write(`podrun: debug: ${line}\n`));
  }
  try {
    const host = createCliHost({
      registry,
      stateDir,
      hostConfig,
      io,
      debug,
      ...(cluster ? { cluster } : {}),
      namespaceFiles: flags.namespaceFiles ?? hostConfig.namespaceFiles ?? flowDir,
    });
    const printer = createPrinter({
      logs: flags.json ? io.stderr : io.stdout,
      messages: io.stderr,
      verbose: debug,
      allLogs: Boolean(flags.allLogs),
      logsDir: join(stateDir, 'executions'),
      ...(io.env.PODRUN_SUMMARY_INTERVAL_MS ? { summaryIntervalMs: Number(io.env.PODRUN_SUMMARY_INTERVAL_MS) } : {}),
    });
    const result = await start(host, printer);
    const outputDir = flags.outputDir ?? hostConfig.outputDir ?? 'podrun-outputs';
    const saved = await saveOutputs(result.record, host.storage, outputDir, io.cwd);
    if (flags.json)
      io.stdout.write(
        `${JSON.stringify(jsonDocument(result.record, saved, result.previousExecutions, result.resumed), null, 2)}\n`,
      );
    else io.stdout.write(summary(result.record, saved, result.previousExecutions));
    if (result.record.status === 'SUCCESS' || result.record.status === 'WARNING') return ExitCode.OK;
    if (result.record.status === 'CANCELLED') return ExitCode.CANCELLED;
    return exitCodeForCode(result.record.error?.code);
  } catch (error) {
    if (flags.json) {
      io.stdout.write(
        `${JSON.stringify({ status: 'FAILED', error: (error as { toJSON?: () => unknown }).toJSON?.() ?? { message: String(error) } }, null, 2)}\n`,
      );
      return exitCodeFor(error);
    }
    return reportError(error, io);
  } finally {
    await cluster?.stop();
  }
}

/** `--input k=v` and `--input file=@path` -> input values. */
export function parseInputs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new ConfigError([{ path: '--input', message: `expected name=value or name=@file, got "${pair}"` }], {
        code: ErrorCodes.FLOW_INVALID,
        component: 'cli',
      });
    }
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

// Kept with the execution so `resume` talks to the same cluster; paths made absolute so a resume
// from another directory still finds them. Never secrets: only flags.
function savedOptions(flags: RunFlags, cwd: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['context', 'namespace', 'cluster', 'outputDir'] as const) if (flags[key]) out[key] = flags[key];
  for (const key of ['kubeconfig', 'namespaceFiles', 'config', 'stateDir'] as const)
    if (flags[key]) out[key] = resolve(cwd, flags[key]);
  return out;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
