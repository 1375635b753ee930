#!/usr/bin/env node
// The `podrun` command: the bundled CLI in ../dist/bundle (built by `npm run build`).
import { run } from '../dist/bundle/podrun.js';

await run();
