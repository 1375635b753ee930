/**
 * @podrun/kube: Cluster connection from the reference Connection and a small typed Kubernetes API port.
 *
 * @packageDocumentation
 */
