// The cluster turns off V8's incremental marking in its process (src/gc-tuning.ts), so the memory
// its streams hold outside the JS heap is answered by scavenges, not by a full collection every
// ~24 MB streamed. Observed here through the process's GC entries: incremental marking reports
// its own kind before a full collection it prepared.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startCluster } from '../src/index.js';

describe('garbage collection', () => {
  it('runs full collections without incremental marking once a cluster started', async () => {
    const cluster = await startCluster({ podNetwork: false });
    const kinds = { full: 0, incremental: 0 };
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
        if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) kinds.full++;
        if (kind === constants.NODE_PERFORMANCE_GC_INCREMENTAL) kinds.incremental++;
      }
    });
    observer.observe({ entryTypes: ['gc'] });
    try {
      // Objects that live long enough to reach the old generation, until it is collected twice.
      let retained: object[] = [];
      while (kinds.full < 2) {
        for (let i = 0; i < 20_000; i++) retained.push({ i, text: `retained ${i}` });
        if (retained.length > 400_000) retained = [];
        await turn();
      }
      expect(kinds.incremental).toBe(0);
    } finally {
      observer.disconnect();
      await cluster.stop();
    }
  });
});
