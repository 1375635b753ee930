/**
 * @podrun/kube-emulator: Embedded Kubernetes API server that really runs pods as sandboxed local processes.
 *
 * @packageDocumentation
 */
