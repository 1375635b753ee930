/**
 * @podrun/kubernetes-runner: the Kubernetes task runner. Runs one task in a pod (inputs staged
 * by a file transfer strategy, logs by a log collector), fails fast with the reason, honours one
 * deadline per phase, deletes the pod on failure, timeout and kill, and reattaches after a crash.
 *
 * @packageDocumentation
 */
export { createKubernetesRunner } from './runner.js';
export type { KubernetesRunnerOptions } from './runner.js';
export { classify } from './classify.js';
export type { PodFailure, ClassifyOptions } from './classify.js';
export { describePod } from './pod-status.js';
