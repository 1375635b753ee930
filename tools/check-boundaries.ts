// The layering of docs/architecture.md, enforced (run by `npm run lint`):
// 1. Each package's layer is its `nx.tags` entry `layer:<name>`; it may depend only on packages of
//    the layers LAYERS lets it use — in package.json (dependencies, peerDependencies) and in what
//    its src/ imports, statically or with import(). Strategies are one layer that may not use
//    itself: no strategy depends on another; what they share lives in a kit.
// 2. Every @podrun package that src/ imports is declared in package.json.
// 3. No import cycle: not among the source files of a package (type-only imports count: they are
//    the same tangle to a reader), nor among packages.
// A small script rather than @nx/enforce-module-boundaries + import-x/no-cycle: it needs no extra
// dependencies and checks the whole repository in about a second.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { workspacePackages } from '../vitest.workspace-packages.js';

/** Which layers each layer may depend on. */
const LAYERS: Record<string, string[]> = {
  core: [],
  kube: ['core'], // @podrun/kube and @podrun/pod-spec
  kit: ['core'],
  strategy: ['core', 'kit'],
  runner: ['core', 'kube', 'kit', 'strategy'],
  host: ['core', 'kube', 'kit', 'strategy', 'runner'],
  cli: ['core', 'kube', 'kit', 'strategy', 'runner', 'host', 'emulator'],
  emulator: ['core'],
  testing: ['core', 'kube', 'kit', 'emulator'],
  tools: ['core', 'kube', 'kit', 'strategy', 'runner', 'host', 'cli', 'emulator', 'testing'],
};

interface Pkg {
  name: string;
  dir: string;
  layer: string;
  declared: Set<string>;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const problems: string[] = [];

function sourceFiles(dir: string): string[] {
  let out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out = out.concat(sourceFiles(path));
    else if (/\.tsx?$/.test(entry) && !entry.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function importsOf(file: string): string[] {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((i) => i.fileName);
}

const podrunName = (specifier: string): string | undefined => /^(@podrun\/[^/]+|podrun)(\/|$)/.exec(specifier)?.[1];

const packages = new Map<string, Pkg>();
for (const { name, dir } of workspacePackages(root)) {
  const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  const tags: string[] = manifest.nx?.tags ?? [];
  const layer = tags.find((t) => t.startsWith('layer:'))?.slice('layer:'.length);
  if (!layer || !(layer in LAYERS)) {
    problems.push(
      `${dir}/package.json: nx.tags needs one of ${Object.keys(LAYERS)
        .map((l) => `layer:${l}`)
        .join(', ')}`,
    );
    continue;
  }
  const declared = new Set(
    Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }).filter((d) => podrunName(d) === d),
  );
  packages.set(name, { name, dir, layer, declared });
}
for (const dir of ['tools']) {
  const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  if (!packages.has(manifest.name))
    packages.set(manifest.name, { name: manifest.name, dir, layer: 'tools', declared: new Set() });
}

function allowed(from: Pkg, to: string, where: string): void {
  const target = packages.get(to);
  if (!target) return (problems.push(`${where}: ${to} is not a package of this repository`), undefined);
  if (!LAYERS[from.layer]!.includes(target.layer)) {
    const why =
      from.layer === 'strategy' && target.layer === 'strategy'
        ? 'a strategy may not depend on another strategy; move what they share into a kit'
        : `layer ${from.layer} may use only ${LAYERS[from.layer]!.join(', ') || 'nothing of ours'}`;
    problems.push(`${where}: ${from.name} (layer ${from.layer}) depends on ${to} (layer ${target.layer}): ${why}`);
  }
}

// Packages: declared dependencies, what src/ imports, and cycles between files.
const packageEdges = new Map<string, Set<string>>();
for (const pkg of packages.values()) {
  const edges = new Set<string>();
  packageEdges.set(pkg.name, edges);
  for (const dep of pkg.declared) {
    allowed(pkg, dep, `${pkg.dir}/package.json`);
    edges.add(dep);
  }
  const srcDir = join(root, pkg.dir, pkg.layer === 'tools' ? '.' : 'src');
  let files: string[];
  try {
    files = sourceFiles(srcDir).filter((f) => !f.includes('node_modules'));
  } catch {
    continue;
  }
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const local: string[] = [];
    for (const specifier of importsOf(file)) {
      const where = relative(root, file);
      const dep = podrunName(specifier);
      if (dep && dep !== pkg.name && pkg.layer !== 'tools') {
        if (!pkg.declared.has(dep))
          problems.push(`${where}: imports ${dep}, which ${pkg.dir}/package.json does not declare`);
        allowed(pkg, dep, where);
      } else if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
        if (graph.has(target) || files.includes(target)) local.push(target);
      }
    }
    graph.set(file, local);
  }
  for (const cycle of cyclesOf(graph)) {
    problems.push(
      `import cycle in ${pkg.dir}: ${[...cycle, cycle[0]!].map((f) => relative(join(root, pkg.dir), f)).join(' -> ')}`,
    );
  }
}
for (const cycle of cyclesOf(new Map([...packageEdges].map(([k, v]) => [k, [...v]])))) {
  problems.push(`package cycle: ${[...cycle, cycle[0]!].join(' -> ')}`);
}

/** Strongly connected components with more than one node (or a self-import): Tarjan's algorithm. */
function cyclesOf(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indices.get(next)!));
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.reverse());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

if (problems.length > 0) {
  process.stderr.write(`Boundary check failed (layers: docs/architecture.md, rules: tools/check-boundaries.ts):\n`);
  for (const problem of problems) process.stderr.write(`  ${problem}\n`);
  process.exit(1);
}
process.stdout.write(`Boundaries hold: ${packages.size} packages, layers respected, no import cycles.\n`);
