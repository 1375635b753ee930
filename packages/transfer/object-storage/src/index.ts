/**
 * @podrun/transfer-object-storage: File transfer through S3-compatible object storage and pre-signed URLs.
 *
 * @packageDocumentation
 */
