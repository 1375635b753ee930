/**
 * @podrun/conformance: The conformance test suite every file-transfer strategy and log collector passes.
 *
 * @packageDocumentation
 */
