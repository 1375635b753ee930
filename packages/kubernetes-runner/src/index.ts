/**
 * @podrun/kubernetes-runner: The Kubernetes task runner: pod lifecycle, fail-fast, resume, kill.
 *
 * @packageDocumentation
 */
