// The garbage-collector setting the cluster's streams need.
//
// Exec, attach, log and port streams move bytes in Buffers whose memory lies outside the JS heap,
// while allocating few JS objects. V8 counts that outside memory against the old generation's
// limit; once the emulator's heap has been collected down while idle (~17 MB live, ~24 MB of
// slack), incremental marking starts a full mark-compact every ~24 MB streamed, before a
// scavenge, which would free those young Buffers for a fraction of the cost, ever runs: measured,
// 22-28 mark-compacts per 200 MiB `kubectl cp` out of a pod, and a third of that copy's time.
// Without incremental marking, V8 answers the same memory with scavenges (none of those
// mark-compacts remain, the copy takes 0.56 instead of 0.88 s, the emulator's peak RSS grows by
// ~11 MB). The full collections that remain run in one pause instead of in steps, which a test or
// development cluster does not notice.
import { setFlagsFromString } from 'node:v8';

let tuned = false;

/**
 * Turns off V8's incremental marking in this process, once. Process-wide and never undone: Node
 * warns that flags changed after start may behave unpredictably, so this one is set a single
 * time (V8 reads it whenever marking could start) and not flipped back.
 */
export function tuneGarbageCollectorForStreams(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString('--no-incremental-marking');
}
