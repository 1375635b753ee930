import { z } from 'zod';
import { connectionSchema, dynamicConnectionSchema } from './connection.js';
import {
  booleanText,
  booleanValue,
  dnsLabel,
  dnsSubdomain,
  durationMs,
  durationText,
  imageRef,
  labelMapText,
  labelMapValue,
  literalText,
  objectText,
  objectValue,
  quantity,
} from './fields.js';
import { parseWithSchema } from './issues.js';
import { describeProperty as d } from './properties.js';
import {
  dynamicFileTransferSchema,
  dynamicLogCollectorSchema,
  fileTransferSchema,
  logCollectorSchema,
} from './strategy-config.js';
import { dynamic } from './template.js';
import {
  KESTRA_KUBERNETES_RUNNER_TYPE,
  KUBERNETES_RUNNER_TYPE,
  type FileTransferConfig,
  type KubernetesRunnerConfig,
  type LogCollectorConfig,
  type Connection,
} from './types.js';

/**
 * A plugin `version`, the reference's pattern: an exact version (`1.2.3`, `1.2.3-rc1`) or a word
 * (`LATEST`, `OLDEST`). One rule for every schema that has a `version` (runner config, flow).
 */
export const PLUGIN_VERSION_PATTERN = /^(\d+\.\d+\.\d+(-[a-zA-Z0-9-]+)?|[a-zA-Z0-9]+)$/;
/** What {@link PLUGIN_VERSION_PATTERN} expects, for messages. */
export const PLUGIN_VERSION_EXPECTED = 'expected a version such as 1.2.3, 1.2.3-rc1, LATEST or OLDEST';

const runnerType = z
  .enum([KUBERNETES_RUNNER_TYPE, KESTRA_KUBERNETES_RUNNER_TYPE])
  .default(KUBERNETES_RUNNER_TYPE)
  .meta(d('type'));

const pullPolicy = z.enum(['ALWAYS', 'IF_NOT_PRESENT', 'NEVER']);

const version = literalText()
  .regex(PLUGIN_VERSION_PATTERN, { error: PLUGIN_VERSION_EXPECTED })
  .optional()
  .meta(d('version'));

const resource = z.strictObject({
  cpu: quantity().optional().meta({ description: 'CPU, e.g. 500m or 2.' }),
  memory: quantity().optional().meta({ description: 'Memory, e.g. 256Mi.' }),
});

/** Requests and limits (non-dynamic, same in flows and after rendering). */
export const resourcesSchema = z
  .strictObject({
    request: resource.optional().meta({ description: 'What the scheduler reserves.' }),
    limit: resource.optional().meta({ description: 'What the container may not exceed.' }),
  })
  .meta({ title: 'Kubernetes-Resources' });

const fileSidecar = z
  .strictObject({
    image: imageRef().default('busybox').meta({ description: 'The image used for the file sidecar container.' }),
    resources: resourcesSchema.optional().meta({ description: 'Resources of the file containers.' }),
    defaultSpec: objectText().optional().meta({ description: 'Extra container spec merged into the file containers.' }),
  })
  .prefault({})
  .meta(d('fileSidecar'));

/** Unknown keys that are real properties elsewhere: say where they belong. */
export const RUNNER_KEY_HINTS: Readonly<Record<string, string>> = Object.fromEntries(
  [
    'containerImage',
    'commands',
    'env',
    'inputFiles',
    'outputFiles',
    'namespaceFiles',
    'timeout',
    'beforeCommands',
    'interpreter',
  ].map((key) => [key, `\`${key}\` belongs to the task, not to taskRunner: move it one level up`]),
);

/**
 * The Kubernetes runner's configuration after the host rendered its templates: strict and typed.
 * Durations become milliseconds, the strings a rendered template yields become booleans or objects,
 * defaults are filled in (see {@link KubernetesRunnerConfig}).
 */
export const kubernetesRunnerConfigSchema = z
  .strictObject({
    type: runnerType,
    config: connectionSchema.optional().meta(d('config')),
    containerSpec: objectValue().optional().meta(d('containerSpec')),
    delete: booleanValue().default(true).meta(d('delete')),
    fileSideCarSpec: objectValue().optional().meta(d('fileSideCarSpec')),
    fileSidecar,
    labels: labelMapValue().optional().meta(d('labels')),
    namespace: dnsLabel('a namespace name').default('default').meta(d('namespace')),
    nodeSelector: labelMapValue().optional().meta(d('nodeSelector')),
    podSpec: objectValue().optional().meta(d('podSpec')),
    pullPolicy: pullPolicy.default('ALWAYS').meta(d('pullPolicy')),
    resources: resourcesSchema.optional().meta(d('resources')),
    resume: booleanValue().default(true).meta(d('resume')),
    serviceAccountName: dnsSubdomain('a service account name').optional().meta(d('serviceAccountName')),
    syncWorkingDirectory: booleanValue().default(false).meta(d('syncWorkingDirectory')),
    version,
    waitForLogs: durationMs().prefault('PT5S').meta(d('waitForLogs')),
    waitUntilCompletion: durationMs({ positive: true }).prefault('PT1H').meta(d('waitUntilCompletion')),
    waitUntilRunning: durationMs({ positive: true }).prefault('PT10M').meta(d('waitUntilRunning')),
    imagePullGracePeriod: durationMs().prefault('PT30S').meta(d('imagePullGracePeriod')),
    failOnUnschedulable: booleanValue().default(false).meta(d('failOnUnschedulable')),
    referenceLabels: booleanValue().default(false).meta(d('referenceLabels')),
    fileTransfer: fileTransferSchema.meta(d('fileTransfer')),
    logCollector: logCollectorSchema.meta(d('logCollector')),
  })
  .meta({
    title: 'KubernetesRunner',
    description: 'Task runner that executes a task inside a pod in a Kubernetes cluster.',
  });

/**
 * The Kubernetes runner's configuration as written in a flow: dynamic properties accept a
 * template (`{{ ... }}`) as well as the typed value; non-dynamic ones (`fileSidecar`, `resources`,
 * `version`) reject templates; `config`, `fileTransfer` and `logCollector` are objects whose
 * fields are dynamic. Values are validated, not converted (durations stay ISO-8601 strings).
 */
export const dynamicKubernetesRunnerConfigSchema = z
  .strictObject({
    type: runnerType,
    config: dynamicConnectionSchema.optional().meta(d('config')),
    containerSpec: dynamic(objectText()).optional().meta(d('containerSpec')),
    delete: dynamic(booleanText()).default(true).meta(d('delete')),
    fileSideCarSpec: dynamic(objectText()).optional().meta(d('fileSideCarSpec')),
    fileSidecar,
    labels: dynamic(labelMapText()).optional().meta(d('labels')),
    namespace: dynamic(dnsLabel('a namespace name')).default('default').meta(d('namespace')),
    nodeSelector: dynamic(labelMapText()).optional().meta(d('nodeSelector')),
    podSpec: dynamic(objectText()).optional().meta(d('podSpec')),
    pullPolicy: dynamic(pullPolicy).default('ALWAYS').meta(d('pullPolicy')),
    resources: resourcesSchema.optional().meta(d('resources')),
    resume: dynamic(booleanText()).default(true).meta(d('resume')),
    serviceAccountName: dynamic(dnsSubdomain('a service account name')).optional().meta(d('serviceAccountName')),
    syncWorkingDirectory: dynamic(booleanText()).default(false).meta(d('syncWorkingDirectory')),
    version,
    waitForLogs: dynamic(durationText()).default('PT5S').meta(d('waitForLogs')),
    waitUntilCompletion: dynamic(durationText({ positive: true }))
      .default('PT1H')
      .meta(d('waitUntilCompletion')),
    waitUntilRunning: dynamic(durationText({ positive: true }))
      .default('PT10M')
      .meta(d('waitUntilRunning')),
    imagePullGracePeriod: dynamic(durationText()).default('PT30S').meta(d('imagePullGracePeriod')),
    failOnUnschedulable: dynamic(booleanText()).default(false).meta(d('failOnUnschedulable')),
    referenceLabels: dynamic(booleanText()).default(false).meta(d('referenceLabels')),
    fileTransfer: dynamicFileTransferSchema.meta(d('fileTransfer')),
    logCollector: dynamicLogCollectorSchema.meta(d('logCollector')),
  })
  .meta({
    title: 'KubernetesRunner',
    description: 'Task runner that executes a task inside a pod in a Kubernetes cluster.',
  });

/** The runner configuration as a rendered value may be written (before defaults and conversions). */
export type KubernetesRunnerConfigInput = z.input<typeof kubernetesRunnerConfigSchema>;
/** The runner configuration as written in a flow, validated (templates kept, defaults filled in). */
export type DynamicKubernetesRunnerConfig = z.output<typeof dynamicKubernetesRunnerConfigSchema>;

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const typesMatch: [
  Same<z.output<typeof kubernetesRunnerConfigSchema>, KubernetesRunnerConfig>,
  Same<z.output<typeof connectionSchema>, Connection>,
  Same<z.output<typeof fileTransferSchema>, FileTransferConfig>,
  Same<z.output<typeof logCollectorSchema>, LogCollectorConfig>,
] = [true, true, true, true];
void typesMatch;

/** Options of {@link parseRunnerConfig} and {@link parseDynamicRunnerConfig}. */
export interface ParseRunnerConfigOptions {
  /** Where the block sits, used as the prefix of every path in errors. Default `taskRunner`. */
  path?: string;
}

/**
 * Parses a rendered runner configuration (what the runner receives) into a
 * {@link KubernetesRunnerConfig}. Throws one ConfigError (code `PODRUN_CONFIG_INVALID`) listing
 * every problem with its path, e.g.
 * `taskRunner.waitForLogs: expected an ISO-8601 duration such as PT5S, got "5 seconds"`.
 */
export function parseRunnerConfig(input: unknown, options: ParseRunnerConfigOptions = {}): KubernetesRunnerConfig {
  return parseWithSchema(kubernetesRunnerConfigSchema, input ?? {}, {
    path: options.path ?? 'taskRunner',
    stage: 'rendered',
    unknownKeyHints: RUNNER_KEY_HINTS,
  });
}

/**
 * Validates a runner configuration as written in a flow (templates allowed in dynamic properties)
 * and returns it with defaults filled in, still unrendered. Same errors as {@link parseRunnerConfig}.
 */
export function parseDynamicRunnerConfig(
  input: unknown,
  options: ParseRunnerConfigOptions = {},
): DynamicKubernetesRunnerConfig {
  return parseWithSchema(dynamicKubernetesRunnerConfigSchema, input ?? {}, {
    path: options.path ?? 'taskRunner',
    stage: 'flow',
    unknownKeyHints: RUNNER_KEY_HINTS,
  });
}
