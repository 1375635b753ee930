// The bundled command as Node loads it: every chunk of dist/bundle evaluates without touching a
// deprecated built-in (Node 21+ warns about punycode on every start, which whatwg-url under
// client-node's node-fetch asked for), and what scripts/bundle.js leaves out of client-node stays
// out, with stand-ins that fail loudly while everything podrun calls on a KubeConfig stays real.
import { execFileSync } from 'node:child_process';
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

  it("leaves out client-node's generated API clients and node-fetch (whatwg-url, tr46)", () => {
    const text = chunks.map((f) => readFileSync(bundle + f, 'utf8')).join('\n');
    // esbuild heads each module it bundles with its path: the check can see client-node's modules.
    expect(text).toContain('node_modules/@kubernetes/client-node/dist/config.js\n');
    for (const gone of [
      'node_modules/@kubernetes/client-node/dist/gen/',
      'node_modules/node-fetch/',
      'node_modules/whatwg-url/',
      'node_modules/tr46/',
    ]) {
      expect(text).not.toContain(gone);
    }
    // What the start parses: client-node and all it brought were 1.8 MB of one chunk, 0.7 MB without them.
    const bytes = chunks.reduce((sum, f) => sum + readFileSync(bundle + f).length, 0);
    expect(bytes).toBeLessThan(2_600_000);
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
});
