// signalTree reaches every process of a tree, even one whose processes keep forking while it
// is walked: nothing started during the walk escapes, and no child is orphaned out of reach.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { descendants, signalTree } from '../src/node/process-tree.js';
import { eventually, processesWith } from './node-harness.js';

// A sleep length no other test uses: the marker of this tree's processes in /proc.
const seconds = `4${process.pid % 1000}.25`;
const marker = `sleep ${seconds}`;
afterEach(() => {
  for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
});

describe('signalTree', () => {
  it('kills a tree that keeps forking, leaving no process behind', async () => {
    // Each child is a long sleep, so one that escaped would outlive the tree.
    const root = spawn('sh', ['-c', `while :; do sleep ${seconds} & done`], { stdio: 'ignore' });
    await eventually(() => descendants(root.pid!).length > 20);
    signalTree(root.pid!, 'SIGKILL');
    await eventually(() => processesWith(marker).length === 0, 5000);
    expect(processesWith(marker)).toEqual([]);
  });
});
