/**
 * @podrun/transfer-exec-tar: File transfer through exec + tar into a file sidecar.
 *
 * @packageDocumentation
 */
