import { ErrorCodes } from '@podrun/core';
import type { V1Container, V1EnvVar, V1Pod, V1PodSpec, V1Volume } from '@kubernetes/client-node';
import type { BuildPodInput } from './config.js';
import { containerImageOf, mainCommandOf, taskEnvOf, timeoutOf } from './command.js';
import { checkPod } from './invariants.js';
import { IssueList, show } from './issues.js';
import { checkIdentity, identityAnnotations, identityLabelsOf, referenceLabelsOf, userLabels } from './labels.js';
import { cloneJson, deepMerge, mergeByKey } from './merge.js';
import type { PlainObject } from './merge.js';
import { podNameOf } from './names.js';
import { applyDefaults, applyMainOverlay, applyTransferOverlay, readKeyedList, readOverlay } from './overlays.js';
import type { Reserved } from './overlays.js';
import {
  activeDeadlineSecondsOf,
  isDnsLabel,
  isDnsSubdomain,
  nodeSelectorOf,
  pullPolicyOf,
  resourcesOf,
} from './properties.js';

/** Name of the container that runs the task's commands. */
export const MAIN_CONTAINER = 'main';

/** Annotation that makes `kubectl logs` / `kubectl exec` pick the main container by default. */
const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/** podSpec keys the builder assembles itself (never deep-merged as a whole). */
const ASSEMBLED = ['containers', 'initContainers', 'volumes'];

function reservedOf(input: BuildPodInput): Reserved {
  const c = input.contribution;
  const transfer = `the ${input.transferName ?? 'configured'} file transfer`;
  const mainEnv = new Map<string, string>([
    ['WORKING_DIR', 'podrun (the working directory)'],
    ['OUTPUT_DIR', 'podrun (the output directory)'],
  ]);
  for (const e of c.mainEnv ?? []) if (!mainEnv.has(e.name)) mainEnv.set(e.name, transfer);
  return {
    transfer,
    containerNames: new Set([
      ...(c.reservedContainerNames ?? []),
      ...(c.initContainers ?? []).map((x) => x.name),
      ...(c.sidecars ?? []).map((x) => x.name),
    ]),
    volumeNames: new Set([...(c.reservedVolumeNames ?? []), ...(c.volumes ?? []).map((v) => v.name)]),
    mainMountPaths: new Set((c.mainVolumeMounts ?? []).map((m) => m.mountPath)),
    mainEnv,
  };
}

/**
 * Builds the task run's pod: a pure function of its input (the name suffix aside, which is random
 * unless given). Throws one ConfigError listing every problem, with paths such as
 * `taskRunner.podSpec.containers[1].name`; the code is TASK_INVALID for task problems,
 * CONFIG_INVALID for configuration problems and POD_SPEC_INVALID for a faulty contribution.
 * See the package README for the merge rules.
 */
export function buildPod(input: BuildPodInput): V1Pod {
  const { task, config, identity, paths, contribution } = input;
  const cp = input.configPath ?? 'taskRunner';
  const tp = input.taskPath ?? 'task';
  const issues = new IssueList();
  const reserved = reservedOf(input);

  checkIdentity(identity, issues);
  const image = containerImageOf(task, tp, issues);
  const command = mainCommandOf(task, contribution, tp, issues);
  const timeoutMs = timeoutOf(task, tp, issues);
  const taskEnv = taskEnvOf(task, reserved.mainEnv, tp, issues);
  if (typeof config.namespace !== 'string' || !isDnsLabel(config.namespace)) {
    issues.add(`${cp}.namespace`, `is not a valid namespace name (DNS-1123 label): ${show(config.namespace)}`);
  }
  if (config.serviceAccountName !== undefined && !isDnsSubdomain(String(config.serviceAccountName))) {
    issues.add(`${cp}.serviceAccountName`, `is not a valid service account name: ${show(config.serviceAccountName)}`);
  }
  const pullPolicy = pullPolicyOf(config, cp, issues);
  const resources = resourcesOf(config.resources, `${cp}.resources`, issues);
  const nodeSelector = nodeSelectorOf(config.nodeSelector, `${cp}.nodeSelector`, issues);
  const activeDeadlineSeconds = activeDeadlineSecondsOf(config, timeoutMs, cp, issues);
  const labels = { ...userLabels(config.labels, `${cp}.labels`, issues) };
  for (const e of contribution.mainEnv ?? []) {
    if (e.name === 'WORKING_DIR' || e.name === 'OUTPUT_DIR') {
      issues.add('contribution.mainEnv', `${e.name} is podrun's own variable`, ErrorCodes.POD_SPEC_INVALID);
    }
  }

  const podSpec = readOverlay(config.podSpec, `${cp}.podSpec`, issues) ?? {};
  const containerSpec = readOverlay(config.containerSpec, `${cp}.containerSpec`, issues);

  // Main container: the builder's fields, then podSpec's `main`, then containerSpec (most specific last).
  let main: V1Container = {
    name: MAIN_CONTAINER,
    image: image ?? '',
    ...(pullPolicy && { imagePullPolicy: pullPolicy }),
    command: command ?? [],
    workingDir: paths.workingDir,
    env: [
      ...taskEnv,
      { name: 'WORKING_DIR', value: paths.workingDir },
      { name: 'OUTPUT_DIR', value: paths.outputDir },
      ...cloneJson(contribution.mainEnv ?? []),
    ] as V1EnvVar[],
    ...(resources && { resources }),
    ...(contribution.mainVolumeMounts?.length && { volumeMounts: cloneJson(contribution.mainVolumeMounts) }),
  };
  const taken = new Set([MAIN_CONTAINER, ...reserved.containerNames]);
  const userContainers: V1Container[] = [];
  const userInit: V1Container[] = [];
  const claim = (list: V1Container[], item: PlainObject, path: string) => {
    const name = item.name as string;
    if (reserved.containerNames.has(name)) {
      issues.add(`${path}.name`, `${show(name)} is reserved by ${reserved.transfer}; choose another name`);
    } else if (taken.has(name)) {
      issues.add(`${path}.name`, `${show(name)} is already used by another container; container names must be unique`);
    } else {
      taken.add(name);
      list.push(item as unknown as V1Container);
    }
  };
  for (const { item, path } of readKeyedList<PlainObject>(
    podSpec.containers,
    `${cp}.podSpec.containers`,
    'name',
    issues,
  )) {
    if (item.name === MAIN_CONTAINER) main = applyMainOverlay(main, item, path, reserved, issues);
    else claim(userContainers, item, path);
  }
  if (containerSpec) main = applyMainOverlay(main, containerSpec, `${cp}.containerSpec`, reserved, issues);
  for (const { item, path } of readKeyedList<PlainObject>(
    podSpec.initContainers,
    `${cp}.podSpec.initContainers`,
    'name',
    issues,
  )) {
    if (item.name === MAIN_CONTAINER)
      issues.add(`${path}.name`, '"main" is the task\'s container; choose another name');
    else claim(userInit, item, path);
  }

  // Transfer containers: fileSidecar.defaultSpec under them, then image/resources, then fileSideCarSpec.
  const defaults = readOverlay(config.fileSidecar?.defaultSpec, `${cp}.fileSidecar.defaultSpec`, issues);
  const sidecarResources = resourcesOf(config.fileSidecar?.resources, `${cp}.fileSidecar.resources`, issues);
  const sidecarSpec = readOverlay(config.fileSideCarSpec, `${cp}.fileSideCarSpec`, issues);
  const transferContainer = (c: V1Container): V1Container => {
    let out = cloneJson(c);
    if (defaults) out = applyDefaults(out, defaults, `${cp}.fileSidecar.defaultSpec`, issues);
    if (!out.image) out.image = config.fileSidecar?.image;
    if (sidecarResources)
      out.resources = deepMerge((out.resources ?? {}) as PlainObject, sidecarResources as PlainObject);
    if (sidecarSpec) out = applyTransferOverlay(out, sidecarSpec, `${cp}.fileSideCarSpec`, reserved, issues);
    return out;
  };

  // Volumes: the transfer's, then the user's merged by name; a reserved name is an error.
  const userVolumes: V1Volume[] = [];
  for (const { item, path } of readKeyedList<V1Volume>(podSpec.volumes, `${cp}.podSpec.volumes`, 'name', issues)) {
    if (reserved.volumeNames.has(item.name)) {
      issues.add(`${path}.name`, `${show(item.name)} is reserved by ${reserved.transfer}; choose another name`);
    } else userVolumes.push(item);
  }
  const volumes = mergeByKey(cloneJson(contribution.volumes ?? []), userVolumes, (v) => v.name);

  // Other pod fields: top-level properties first, podSpec deep-merged over them, builder-owned last.
  const rest: PlainObject = {};
  for (const [key, value] of Object.entries(podSpec)) if (!ASSEMBLED.includes(key)) rest[key] = value;
  if (rest.restartPolicy !== undefined && rest.restartPolicy !== 'Never') {
    issues.add(
      `${cp}.podSpec.restartPolicy`,
      'must be Never (or absent): podrun runs each task once and retries through the flow',
    );
  }
  if (rest.activeDeadlineSeconds !== undefined && rest.activeDeadlineSeconds !== activeDeadlineSeconds) {
    issues.add(
      `${cp}.podSpec.activeDeadlineSeconds`,
      "is derived from the task's timeout or waitUntilCompletion; set those instead",
    );
  }
  const base: PlainObject = {
    ...(config.serviceAccountName !== undefined && { serviceAccountName: config.serviceAccountName }),
    ...(nodeSelector && { nodeSelector }),
  };
  const initContainers = [...(contribution.initContainers ?? []).map(transferContainer), ...userInit];
  const spec: V1PodSpec = {
    ...(deepMerge(base, rest) as Partial<V1PodSpec>),
    restartPolicy: 'Never',
    ...(activeDeadlineSeconds !== undefined && { activeDeadlineSeconds }),
    ...(initContainers.length && { initContainers }),
    containers: [main, ...(contribution.sidecars ?? []).map(transferContainer), ...userContainers],
    ...(volumes.length && { volumes }),
  };

  const pod: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podNameOf(identity, input.nameSuffix, issues),
      namespace: config.namespace,
      labels: {
        ...labels,
        ...(config.referenceLabels ? referenceLabelsOf(identity) : {}),
        ...identityLabelsOf(identity),
      },
      annotations: {
        [DEFAULT_CONTAINER_ANNOTATION]: MAIN_CONTAINER,
        ...contribution.annotations,
        ...identityAnnotations(identity),
      },
    },
    spec,
  };
  if (issues.size === 0) checkPod(pod, issues);
  issues.throwIfAny();
  return pod;
}
