import { KESTRA_KUBERNETES_RUNNER_TYPE, KUBERNETES_RUNNER_TYPE } from './types.js';

/** One property of the Kubernetes runner, for documentation and tooling. */
export interface RunnerPropertyInfo {
  /** The property name, as in the reference. */
  name: string;
  /** The type as a user writes it. */
  type: string;
  /** The default as written (durations as ISO-8601), when there is one. */
  default?: string;
  /**
   * `true`: accepts a template in a flow. `false`: must be written as is. `'fields'`: written as
   * an object whose fields accept templates.
   */
  dynamic: boolean | 'fields';
  /** What it does. */
  description: string;
  /** True for podrun's additions (not in the reference). */
  podrun?: boolean;
}

/**
 * Every property of the Kubernetes runner: the reference's, same names and defaults, plus
 * podrun's additions (marked `podrun: true`): the image-pull grace period and the strategy choices. The schemas take their descriptions from here.
 */
export const kubernetesRunnerProperties: readonly RunnerPropertyInfo[] = [
  {
    name: 'type',
    type: 'string',
    default: KUBERNETES_RUNNER_TYPE,
    dynamic: false,
    description: `The runner: \`${KUBERNETES_RUNNER_TYPE}\`, or the reference's \`${KESTRA_KUBERNETES_RUNNER_TYPE}\`.`,
  },
  {
    name: 'config',
    type: 'Connection',
    dynamic: 'fields',
    description:
      'The configuration of the target Kubernetes cluster. When omitted, the kubectl conventions apply (KUBECONFIG, ~/.kube/config, in-cluster service account).',
  },
  { name: 'containerSpec', type: 'object', dynamic: true, description: 'Additional YAML spec for the main container.' },
  {
    name: 'delete',
    type: 'boolean',
    default: 'true',
    dynamic: true,
    description: 'Whether the pod should be deleted upon completion.',
  },
  {
    name: 'fileSideCarSpec',
    type: 'object',
    dynamic: true,
    description: 'Additional YAML spec for the file sidecar containers.',
  },
  {
    name: 'fileSidecar',
    type: 'SideCar',
    default: '{ image: busybox }',
    dynamic: false,
    description: 'The file sidecar containers that handle upload and download of files: image, resources, defaultSpec.',
  },
  {
    name: 'labels',
    type: 'map of string',
    dynamic: true,
    description: 'Custom pod labels; podrun adds identity labels for the flow, task, execution and attempt.',
  },
  {
    name: 'namespace',
    type: 'string',
    default: 'default',
    dynamic: true,
    description: 'The namespace where the pod will be created.',
  },
  { name: 'nodeSelector', type: 'map of string', dynamic: true, description: 'Node selector for pod scheduling.' },
  {
    name: 'podSpec',
    type: 'object',
    dynamic: true,
    description: 'Additional YAML spec for the pod; a container named `main` merges into the task container.',
  },
  {
    name: 'pullPolicy',
    type: 'ALWAYS | IF_NOT_PRESENT | NEVER',
    default: 'ALWAYS',
    dynamic: true,
    description: 'The image pull policy of the task container.',
  },
  {
    name: 'resources',
    type: 'Kubernetes-Resources',
    dynamic: false,
    description: 'The pod custom resources: request and limit, each with cpu and memory.',
  },
  {
    name: 'resume',
    type: 'boolean',
    default: 'true',
    dynamic: true,
    description: 'Whether to reconnect to the pod of this task run if it already exists.',
  },
  { name: 'serviceAccountName', type: 'string', dynamic: true, description: 'The name of the service account.' },
  {
    name: 'syncWorkingDirectory',
    type: 'boolean',
    default: 'false',
    dynamic: true,
    description: 'Bring the whole working directory back after the run (for dynamically named files).',
  },
  {
    name: 'version',
    type: 'string',
    dynamic: false,
    description:
      'The version of the plugin to use: exactly `1.2.3` / `1.2.3-rc1` (must be the installed one), or `LATEST` / `OLDEST` (the installed one).',
  },
  {
    name: 'waitForLogs',
    type: 'duration',
    default: 'PT5S',
    dynamic: true,
    description: 'The longest wait for late logs after the pod completes; a ceiling, not a fixed sleep.',
  },
  {
    name: 'waitUntilCompletion',
    type: 'duration',
    default: 'PT1H',
    dynamic: true,
    description: 'The maximum duration to wait for the pod completion; the task timeout wins when set.',
  },
  {
    name: 'waitUntilRunning',
    type: 'duration',
    default: 'PT10M',
    dynamic: true,
    description:
      'The maximum duration to wait until the pod runs (scheduling, image pull, start), one deadline overall.',
  },
  {
    name: 'referenceLabels',
    type: 'boolean',
    default: 'false',
    dynamic: true,
    podrun: true,
    description:
      "Also label pods as the reference does (`kestra.io/namespace`, `flow-id`, `task-id`, `execution-id`, `taskrun-id`, `taskrun-attempt`), for clusters whose policies select on them. podrun's own `podrun.io/*` labels are always set.",
  },
  {
    name: 'failOnUnschedulable',
    type: 'boolean',
    default: 'false',
    dynamic: true,
    podrun: true,
    description:
      'Fail as soon as the pod is Unschedulable. By default podrun waits through it until waitUntilRunning, showing the reason (capacity frees up, an autoscaler adds a node), and fails at once only when the cluster-autoscaler says no scale-up can help (NotTriggerScaleUp).',
  },
  {
    name: 'imagePullGracePeriod',
    type: 'duration',
    default: 'PT30S',
    dynamic: true,
    podrun: true,
    description:
      'How long a container may keep failing to pull its image (ErrImagePull, ImagePullBackOff) before the task fails; a registry hiccup resolves within it. Names that can never be pulled (InvalidImageName) fail at once.',
  },
  {
    name: 'fileTransfer',
    type: 'exec-tar | pvc | object-storage',
    default: '{ type: exec-tar }',
    dynamic: 'fields',
    podrun: true,
    description: 'How files reach the pod and come back.',
  },
  {
    name: 'logCollector',
    type: 'follow | poll',
    default: '{ type: follow }',
    dynamic: 'fields',
    podrun: true,
    description: 'How container logs are read.',
  },
];

/** Description of a runner property by name, for the schemas. @internal */
export function describeProperty(name: string): { description: string } {
  return { description: kubernetesRunnerProperties.find((p) => p.name === name)?.description ?? '' };
}
