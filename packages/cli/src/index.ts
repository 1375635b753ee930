/**
 * podrun: The podrun command: run workflow files on a cluster or the embedded one.
 *
 * @packageDocumentation
 */
