// Packs every publishable workspace package once (npm pack, as a release would), so checks and
// the integrator test see exactly what users install.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspacePackages } from '../../vitest.workspace-packages.js';

/** One packed package. */
export interface PackedPackage {
  name: string;
  version: string;
  /** Absolute path of the .tgz. */
  tarball: string;
}

/** Packs the public workspace packages of `root` into `destination`. */
export function packWorkspaces(root: string, destination: string): PackedPackage[] {
  mkdirSync(destination, { recursive: true });
  const output = execFileSync(
    'npm',
    ['pack', '--workspaces', '--json', '--pack-destination', destination, '--ignore-scripts'],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 },
  );
  const packed = JSON.parse(output) as { name: string; version: string; filename: string }[];
  // Private packages (tools, test-utils, integration) are never published: not checked as if they were.
  const published = new Set(
    workspacePackages(root)
      .filter(
        (w) => !(JSON.parse(readFileSync(join(root, w.dir, 'package.json'), 'utf8')) as { private?: boolean }).private,
      )
      .map((w) => w.name),
  );
  return packed
    .filter((p) => published.has(p.name))
    .map((p) => ({ name: p.name, version: p.version, tarball: join(destination, p.filename) }));
}
