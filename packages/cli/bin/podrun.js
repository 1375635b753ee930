#!/usr/bin/env node
// The `podrun` command. The compiled CLI lives in ../dist (built by `npm run build`).
import { run } from '../dist/main.js';

await run();
