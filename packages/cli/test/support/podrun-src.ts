// Runs the CLI from its TypeScript sources (tests use it when dist/ is absent or stale).
import { run } from '../../src/main.js';

await run();
