/**
 * Aborts `child` when `parent` aborts (at once if it already has), so a step can be cancelled on
 * its own or with the whole run. Returns the function that unlinks them; call it when the step
 * ends so long-lived parent signals do not collect listeners.
 */
export function linkAbort(parent: AbortSignal, child: AbortController): () => void {
  if (parent.aborted) {
    child.abort(parent.reason);
    return () => {};
  }
  const onAbort = (): void => child.abort(parent.reason);
  parent.addEventListener('abort', onAbort, { once: true });
  return () => parent.removeEventListener('abort', onAbort);
}
