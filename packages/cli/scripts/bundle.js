// Bundles the podrun command into dist/bundle: a few files to read instead of hundreds of modules
// to resolve, and only the part of @kubernetes/client-node podrun uses (its generated API is 14 MB
// of JavaScript that every start would otherwise load). Commands and strategies stay lazy chunks.
//
// Left outside the bundle, loaded from node_modules when used:
//   - the embedded cluster (@podrun/kube-emulator), started only without a kubeconfig;
//   - the AWS SDK, used only by object storage and EKS tokens;
//   - the optional native helper bufferutil (WebSocket masking in C, for exec stdin), when installed;
//   - socks-proxy-agent, for a kubeconfig whose proxy-url is socks (see below);
//   - node-forge and jks-js, loaded by @podrun/kube for PKCS#12 and JKS credentials only, and
//     @podrun/kubernetes-runner's package.json, read for its version;
//   - strategy packages a host imports by name (pvc, object-storage, poll), which a user may
//     install on their own; errors from them still pass `instanceof` (see @podrun/core's errors).
// package.json declares every one of them (test/bundle.test.ts checks): Node resolves them from
// this package's folder, which is all a non-hoisting install (pnpm) makes visible.
//
// Left out altogether (stand-ins that throw, naming what was called): client-node's generated API
// clients and node-fetch, which its KubeConfig imports for makeApiClient and applyToFetchOptions
// only; podrun's CLI calls neither (test/bundle.test.ts checks they stay out).
import { build } from 'esbuild';
import { rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = `${root}dist/bundle`;

// client-node does not declare `sideEffects`; its modules are plain classes and re-exports, so
// marking them side-effect free lets esbuild drop the API classes nothing imports.
const clientNodeWithoutSideEffects = {
  name: 'client-node-side-effect-free',
  setup(b) {
    b.onResolve({ filter: /^[^.]|^\./ }, async (args) => {
      if (args.pluginData === 'resolving') return undefined;
      const inClientNode = args.importer.includes('/@kubernetes/client-node/');
      if (!inClientNode && !args.path.startsWith('@kubernetes/client-node')) return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: 'resolving',
      });
      if (resolved.errors.length || !resolved.path.includes('/@kubernetes/client-node/')) return resolved;
      return { ...resolved, sideEffects: false };
    });
  },
};

/** True for an import made by client-node's config.js, the one module the stand-ins below are for. */
const fromClientNodeConfig = (args) => /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]config\.js$/.test(args.importer);

// client-node's config.js (KubeConfig, which podrun's PodrunKubeConfig extends) imports its
// generated API clients' configuration (for makeApiClient) and node-fetch (for the Headers of
// applyToFetchOptions; node-fetch brings whatwg-url and tr46, ~350 kB). podrun's CLI calls neither:
// its own port speaks HTTP through applyToHTTPSOptions. For that one importer they resolve to
// small modules that throw, naming what was called, if a later change ever reaches them.
const LEFT_OUT = {
  './gen/index.js': {
    what: "client-node's generated API clients",
    exports: ['createConfiguration', 'ServerConfiguration'],
    caller: 'KubeConfig.makeApiClient',
  },
  'node-fetch': { what: 'node-fetch', exports: ['Headers'], caller: 'KubeConfig.applyToFetchOptions' },
};

const clientNodeConfigWithoutApiClients = {
  name: 'client-node-config-without-api-clients',
  setup(b) {
    b.onResolve({ filter: /^(\.\/gen\/index\.js|node-fetch)$/ }, (args) =>
      fromClientNodeConfig(args) ? { path: args.path, namespace: 'podrun-left-out' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'podrun-left-out' }, (args) => {
      const { what, exports, caller } = LEFT_OUT[args.path];
      // test/bundle.test.ts looks for these messages in the bundle and for the modules' absence.
      const fail = (name) =>
        `export function ${name}() { throw new Error(${JSON.stringify(
          `[podrun] ${caller} called ${name}, which the podrun command bundle leaves out (${what}, ` +
            'unused by podrun; see packages/cli/scripts/bundle.js): use @kubernetes/client-node directly for it',
        )}); }`;
      return { contents: exports.map(fail).join('\n'), loader: 'js' };
    });
  },
};

// client-node's config.js also imports the SOCKS proxy agent (socks-proxy-agent with socks,
// ip-address and smart-buffer: ~190 kB parsed on every start) for the one kubeconfig case that
// needs it, a socks `proxy-url`. There it is loaded from node_modules on first use instead
// (package.json declares it; test/cli-cluster.test.ts runs a task through a SOCKS5 proxy).
const socksProxyAgentOnUse = {
  name: 'socks-proxy-agent-on-use',
  setup(b) {
    b.onResolve({ filter: /^socks-proxy-agent$/ }, (args) =>
      fromClientNodeConfig(args) ? { path: args.path, namespace: 'podrun-on-use' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'podrun-on-use' }, () => ({
      contents: [
        "import { createRequire } from 'node:module';",
        'export class SocksProxyAgent {',
        '  constructor(...args) {',
        "    const { SocksProxyAgent: Agent } = createRequire(import.meta.url)('socks-proxy-agent');",
        '    return new Agent(...args);',
        '  }',
        '}',
      ].join('\n'),
      loader: 'js',
    }));
  },
};

// zod re-exports its ~60 message locales as `z.locales` (364 kB of a 837 kB chunk, parsed on every
// start); podrun only uses the English messages zod configures itself with.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /\/zod\/v4\/(classic|core)\//.test(args.importer) ? { path: args.importer, namespace: 'zod-locales' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from '../locales/en.js';`,
      resolveDir: dirname(args.path),
      loader: 'js',
    }));
  },
};

await rm(outdir, { recursive: true, force: true });
const { metafile } = await build({
  entryPoints: { podrun: `${root}dist/main.js` },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  // Error classes name themselves from their constructor (PodrunError's `name`).
  keepNames: true,
  // Every start parses what it loads: without whitespace and with shorter syntax that is 0.7 MB
  // less (about 4% of a trivial run). Names stay as written, so stack traces still name
  // functions, and the linked source maps (`node --enable-source-maps`) give their files and lines.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  // Which modules went in, for test/bundle.test.ts (minified chunks no longer name them).
  metafile: true,
  // A native module cannot be bundled: bufferutil is loaded from node_modules.
  external: ['@podrun/kube-emulator', '@aws-sdk/*', '@smithy/*', 'bufferutil'],
  // The left-out modules first: client-node-side-effect-free resolves every path in client-node.
  plugins: [clientNodeConfigWithoutApiClients, socksProxyAgentOnUse, clientNodeWithoutSideEffects, zodEnglishOnly],
  // CommonJS dependencies inside an ES module bundle still call `require` for Node's built-ins.
  banner: {
    js: "import { createRequire as __podrunRequire } from 'node:module';\nconst require = __podrunRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
// Outside dist/bundle: not a chunk to load, and not needed to run.
await writeFile(`${root}dist/bundle-meta.json`, JSON.stringify(metafile));
