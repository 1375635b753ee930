// The bundled command as Node loads it: every chunk of dist/bundle evaluates without touching a
// deprecated built-in (Node 21+ warns about punycode on every start, which whatwg-url under
// client-node's node-fetch asked for), and what scripts/bundle.js leaves out of client-node stays
// out, with stand-ins that fail loudly while everything podrun calls on a KubeConfig stays real.
import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bundle = fileURLToPath(new URL('../dist/bundle/', import.meta.url));
const chunks = readdirSync(bundle).filter((f) => f.endsWith('.js'));

/** Runs `body` as an ES module in a fresh Node with every chunk imported into `modules`. */
function withChunks(body: string): string {
  const script = `const modules = []; for (const f of ${JSON.stringify(chunks)}) modules.push(await import(${JSON.stringify(bundle)} + f));\n${body}`;
  return execFileSync(
    process.execPath,
    ['--pending-deprecation', '--throw-deprecation', '--input-type=module', '-e', script],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

describe('the bundled podrun command', () => {
  it('loads every chunk with deprecations made errors', () => {
    expect(chunks.length).toBeGreaterThan(3);
    expect(withChunks('')).toBe('');
  });

  it("leaves out client-node's generated API clients, node-fetch (whatwg-url, tr46) and ws", () => {
    // esbuild's metafile (scripts/bundle.js writes it) tells which modules have code in each chunk;
    // modules it read and then shook out entirely have none.
    const meta = JSON.parse(readFileSync(new URL('../dist/bundle-meta.json', import.meta.url), 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
    };
    const inputs = Object.values(meta.outputs).flatMap((output) =>
      Object.entries(output.inputs)
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([path]) => path),
    );
    expect(inputs).toContain('../../node_modules/@kubernetes/client-node/dist/config.js');
    for (const gone of [
      'node_modules/@kubernetes/client-node/dist/gen/',
      'node_modules/node-fetch/',
      'node_modules/whatwg-url/',
      'node_modules/tr46/',
      // The SOCKS proxy stack loads from node_modules when a kubeconfig asks for it.
      'node_modules/socks-proxy-agent/',
      'node_modules/socks/',
      'node_modules/ip-address/',
      'node_modules/smart-buffer/',
      // Exec speaks WebSocket itself (@podrun/kube channel-socket.ts).
      'node_modules/ws/',
    ]) {
      expect(inputs.filter((path) => path.includes(gone))).toEqual([]);
    }
    // What the start parses: client-node and all it brought were 1.8 MB of one chunk, 0.7 MB
    // without them; minified, the whole bundle is about 1.4 MB.
    const bytes = chunks.reduce((sum, f) => sum + readFileSync(bundle + f).length, 0);
    expect(bytes).toBeLessThan(1_600_000);
  });

  it('keeps KubeConfig real for podrun and makes what it leaves out fail, naming it', () => {
    const out = withChunks(`
      const createKubeConfig = modules.flatMap((m) => Object.values(m)).find((v) => v?.name === 'createKubeConfig');
      const kc = createKubeConfig({ masterUrl: 'https://127.0.0.1:6443', oauthToken: 'tok-bundle' }, {});
      const opts = {};
      await kc.applyToHTTPSOptions(opts);
      const failure = async (call) => { try { await call(); return 'no error'; } catch (e) { return e.message; } };
      console.log(JSON.stringify({
        server: kc.getCurrentCluster().server,
        authorization: opts.headers.Authorization,
        makeApiClient: await failure(() => kc.makeApiClient(class {})),
        applyToFetchOptions: await failure(() => kc.applyToFetchOptions({})),
      }));
    `);
    const result = JSON.parse(out) as Record<string, string>;
    expect(result.server).toBe('https://127.0.0.1:6443');
    expect(result.authorization).toBe('Bearer tok-bundle');
    expect(result.makeApiClient).toMatch(
      /^\[podrun\] KubeConfig\.makeApiClient called ServerConfiguration, which the podrun command bundle leaves out \(client-node's generated API clients/,
    );
    expect(result.applyToFetchOptions).toMatch(
      /^\[podrun\] KubeConfig\.applyToFetchOptions called Headers, which the podrun command bundle leaves out \(node-fetch/,
    );
  });

  it('declares every package it loads from node_modules, so strict installs (pnpm) find them', () => {
    // What the bundle leaves to Node's resolver is resolved from the podrun package's own folder:
    // only its declared dependencies are found there when the install does not hoist.
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      name: string;
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    const declared = new Set([
      manifest.name,
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.optionalDependencies ?? {}),
    ]);
    // An optional helper nunjucks loads inside try/catch and podrun never needs: its file watcher.
    const optionalOfOthers = new Set(['chokidar']);
    const builtins = new Set(builtinModules);
    const loaded = new Set<string>();
    for (const f of chunks) {
      const text = readFileSync(bundle + f, 'utf8');
      for (const match of text.matchAll(
        /(?:\bfrom\s*|\bimport\s*\(\s*|\b__require\s*\(\s*|\brequire\d*\s*\(\s*|createRequire\d*\([^)]*\)\s*\(\s*)"([@\w][\w@./-]*)"/g,
      )) {
        const specifier = match[1]!;
        if (specifier.startsWith('node:')) continue;
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        if (!builtins.has(name)) loaded.add(name);
      }
    }
    expect(loaded.size).toBeGreaterThan(3);
    const undeclared = [...loaded].filter((name) => !declared.has(name) && !optionalOfOthers.has(name)).sort();
    expect(undeclared).toEqual([]);
  });
});
