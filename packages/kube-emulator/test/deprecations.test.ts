// The embedded cluster as the podrun command runs it (in the user's process, from dist/): its first
// write validates fields against client-node's models, and loading them must not load what Node
// deprecates. client-node's index brought node-fetch, whose whatwg-url asks for the punycode
// built-in: Node 21+ printed DEP0040 on every first run without a kubeconfig. Node 20 reports it
// only as a pending deprecation, which this test turns into an error.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('the embedded cluster from its build', () => {
  it('creates an object without touching a deprecated Node built-in', async () => {
    const script = `
      import https from 'node:https';
      import { startCluster } from ${JSON.stringify(dist)};
      const cluster = await startCluster({
        podNetwork: false,
        staticTokens: [{ token: 'tok-deprecations', user: 'admin', groups: ['system:masters'] }],
      });
      const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } });
      const status = await new Promise((resolve, reject) => {
        const request = https.request(new URL('/api/v1/namespaces/default/configmaps', cluster.url), {
          method: 'POST', ca: cluster.caCertPem,
          headers: { 'content-type': 'application/json', authorization: 'Bearer tok-deprecations' },
        }, (response) => { response.resume(); response.on('end', () => resolve(response.statusCode)); });
        request.on('error', reject);
        request.end(body);
      });
      await cluster.stop();
      console.log('status', status);
    `;
    const { stdout, stderr } = await run(
      process.execPath,
      ['--pending-deprecation', '--throw-deprecation', '--input-type=module', '-e', script],
      { timeout: 60_000 },
    );
    expect(stdout.trim()).toBe('status 201');
    expect(stderr).not.toMatch(/Deprecation/);
  });
});
