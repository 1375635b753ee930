/**
 * @podrun/pod-spec: a pure builder from a task, the Kubernetes runner configuration and the file
 * transfer's pod contribution to a V1Pod, plus the identity labels and selector resume relies on.
 *
 * @packageDocumentation
 */
export { buildPod, MAIN_CONTAINER } from './build.js';
export { DEFAULT_INTERPRETER } from './command.js';
export type { BuildPodInput, PodSpecConfig, ResourceAmounts, ResourcesConfig } from './config.js';
export {
  PODRUN_LABEL_PREFIX,
  MANAGED_BY_LABEL,
  identityLabels,
  identityAnnotations,
  identityMatchLabels,
  identitySelector,
  sanitizeLabelValue,
  isValidLabelValue,
  isValidLabelKey,
} from './labels.js';
export { generatePodName } from './names.js';
export { DEFAULT_WAIT_UNTIL_RUNNING_MS, TRANSFER_MARGIN_MS } from './properties.js';
