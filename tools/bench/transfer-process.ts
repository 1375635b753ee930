// One exec-tar transfer (tools/bench/transfer.ts) in a process of its own, printing its result as
// one JSON line: `npm run bench` times the library in a fresh process each run, as each
// `kubectl cp` it is compared with is one, not in its own long-lived process with a heap grown by
// every earlier row.
//
//   node --import tsx tools/bench/transfer-process.ts KUBECONFIG INPUT_FILE OUTPUT_FILE CLUSTER_PID
import { dirname } from 'node:path';
import { measureTransfer } from './transfer.js';
import { warmFreeMemory } from './warm-memory.js';

const [kubeconfigPath, file, outputFile, clusterPid] = process.argv.slice(2);
if (!kubeconfigPath || !file || !outputFile || !clusterPid) {
  throw new Error('usage: transfer-process.ts KUBECONFIG INPUT_FILE OUTPUT_FILE CLUSTER_PID');
}
const result = await measureTransfer({
  kubeconfigPath,
  input: { file },
  outputFile,
  clusterPid: Number(clusterPid),
  // Each direction starts with the same kind of free memory as each `kubectl cp` (warm-memory.ts).
  beforeDirection: () => warmFreeMemory(dirname(outputFile)),
});
console.log(JSON.stringify(result));
