// The list of workspace packages, read once so vitest and the tooling agree on names and paths.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

export interface WorkspacePackage {
  /** Short name used as the vitest project name, e.g. `transfer-exec-tar`. */
  short: string;
  /** npm package name, e.g. `@podrun/transfer-exec-tar`. */
  name: string;
  /** Directory relative to the repository root. */
  dir: string;
}

const groups = ['packages', 'packages/transfer', 'packages/logs'];

export function workspacePackages(root: string): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const group of groups) {
    for (const entry of readdirSync(join(root, group))) {
      const dir = `${group}/${entry}`;
      const manifest = join(root, dir, 'package.json');
      if (!existsSync(manifest)) continue;
      const name = JSON.parse(readFileSync(manifest, 'utf8')).name as string;
      const short = group === 'packages' ? entry : `${group.split('/')[1]}-${entry}`;
      out.push({ short, name, dir });
    }
  }
  return out;
}
