/**
 * @podrun/transfer-pvc: File transfer through a PersistentVolumeClaim.
 *
 * @packageDocumentation
 */
