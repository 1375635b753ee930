#!/usr/bin/env node
// The `podrun` command: the bundled CLI in ../dist/bundle (built by `npm run build`).
import module from 'node:module';

// Node 22.1+ keeps V8's compiled code of the bundle between starts (NODE_COMPILE_CACHE picks the
// directory, NODE_DISABLE_COMPILE_CACHE turns it off); Node 20 has no such switch.
module.enableCompileCache?.();
const { run } = await import('../dist/bundle/podrun.js');

await run();
