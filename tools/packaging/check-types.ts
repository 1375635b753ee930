// "Are the types wrong?" for every package as packed (npm run lint:types): each export must
// resolve to types that match its JavaScript for node16 ESM and bundlers. podrun is ESM only
// (stated in every README), so CommonJS and node10 resolution are not checked — attw's
// `esm-only` profile.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { packWorkspaces } from './pack.js';

const IGNORED_RESOLUTIONS = new Set(['node10', 'node16-cjs']);

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const destination = mkdtempSync(join(tmpdir(), 'podrun-attw-'));
let failures = 0;
try {
  for (const pkg of packWorkspaces(root, destination)) {
    const result = await checkPackage(createPackageFromTarballData(new Uint8Array(readFileSync(pkg.tarball))));
    if (!result.types) {
      process.stderr.write(`${pkg.name}: ships no types\n`);
      failures++;
      continue;
    }
    const problems = result.problems.filter(
      (p) => !('resolutionKind' in p && IGNORED_RESOLUTIONS.has(p.resolutionKind as string)),
    );
    for (const problem of problems) {
      const where = 'entrypoint' in problem ? ` ${problem.entrypoint as string}` : '';
      const how = 'resolutionKind' in problem ? ` (${problem.resolutionKind as string})` : '';
      process.stderr.write(`${pkg.name}${where}${how}: ${problem.kind}\n`);
    }
    if (problems.length > 0) failures++;
  }
} finally {
  rmSync(destination, { recursive: true, force: true });
}
if (failures > 0) {
  process.stderr.write(`${failures} package(s) have wrong types (see https://arethetypeswrong.github.io)\n`);
  process.exit(1);
}
process.stdout.write('Types are right: every package, node16 ESM and bundler resolution.\n');
