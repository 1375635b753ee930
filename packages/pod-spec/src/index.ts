/**
 * @podrun/pod-spec: Pure builder from task, runner configuration and strategy parts to a V1Pod.
 *
 * @packageDocumentation
 */
