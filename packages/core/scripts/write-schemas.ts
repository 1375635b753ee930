/**
 * Writes the JSON Schema files of @podrun/core into packages/core/schemas/.
 * Run with `npm run schemas -w @podrun/core`; commit the result (a test checks it is current).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchemas } from '../src/json-schema.js';

const dir = fileURLToPath(new URL('../schemas/', import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [name, schema] of Object.entries(configJsonSchemas())) {
  writeFileSync(`${dir}${name}`, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote schemas/${name}`);
}
