/**
 * @podrun/host: Plugin host adapter: the TaskRunner contract, run context, flows, storage and state.
 *
 * @packageDocumentation
 */
