/**
 * Writes packages/host/schemas/flow.schema.json, the JSON Schema of a whole flow file.
 * Run with `npm run schemas -w @podrun/host`; commit the result (a test checks it is current).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { flowJsonSchema } from '../src/flow/json-schema.js';

const dir = fileURLToPath(new URL('../schemas/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}flow.schema.json`, `${JSON.stringify(flowJsonSchema(), null, 2)}\n`);
console.log('wrote schemas/flow.schema.json');
