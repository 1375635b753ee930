// kubeconfig `exec` credential plugins (client.authentication.k8s.io ExecCredential), as cloud
// CLIs (gke-gcloud-auth-plugin, aws eks get-token, kubelogin) are configured: a real script runs
// as the plugin; its token authenticates, it is reused until its expirationTimestamp, and the
// plugin runs again once that has passed.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type EmbeddedCluster } from '@podrun/kube-emulator';
import { createKubeConfig, createKubePort } from '@podrun/kube';

const TOKEN = 'exec-plugin-token-5c1d';
let cluster: EmbeddedCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startCluster({
    staticTokens: [{ token: TOKEN, user: 'exec-user', groups: ['system:masters'] }],
    podNetwork: false,
  });
  dir = mkdtempSync(join(tmpdir(), 'podrun-exec-plugin-'));
});
afterAll(async () => {
  await cluster?.stop();
});

function kubeconfigWithPlugin(apiVersion: string, expiresInSeconds: number): string {
  const plugin = join(dir, `plugin-${apiVersion.split('/').at(-1)}-${expiresInSeconds}.sh`);
  const runs = `${plugin}.runs`;
  // The plugin gets KUBERNETES_EXEC_INFO and prints an ExecCredential on stdout.
  writeFileSync(
    plugin,
    `#!/bin/sh
echo run >> '${runs}'
test -n "$KUBERNETES_EXEC_INFO" || exit 3
expiry=$(date -u -d "@$(( $(date +%s) + ${expiresInSeconds} ))" +%Y-%m-%dT%H:%M:%SZ)
printf '{"apiVersion":"${apiVersion}","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' "$TOKEN_VALUE" "$expiry"
`,
  );
  chmodSync(plugin, 0o755);
  const file = join(dir, `kubeconfig-${apiVersion.split('/').at(-1)}-${expiresInSeconds}`);
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
  - name: c
    cluster:
      server: ${cluster.url}
      certificate-authority-data: ${Buffer.from(cluster.caCertPem).toString('base64')}
users:
  - name: u
    user:
      exec:
        apiVersion: ${apiVersion}
        command: ${plugin}
        env:
          - name: TOKEN_VALUE
            value: ${TOKEN}
        interactiveMode: Never
contexts:
  - name: x
    context: { cluster: c, user: u }
current-context: x
`,
  );
  return file;
}

const runsOf = (kubeconfig: string) =>
  readFileSync(`${readFileSync(kubeconfig, 'utf8').match(/command: (.*)/)![1]}.runs`, 'utf8')
    .split('\n')
    .filter(Boolean).length;

describe('kubeconfig exec credential plugins', () => {
  it.each(['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'])(
    'authenticate with the token a %s plugin prints, reused while it is valid',
    async (apiVersion) => {
      const file = kubeconfigWithPlugin(apiVersion, 3600);
      const kube = createKubePort({ kubeConfig: createKubeConfig(undefined, {}, { kubeconfigPath: file }) });
      try {
        for (let i = 0; i < 3; i++) expect(await kube.getPod('default', 'nothing-here')).toBeUndefined();
        expect(runsOf(file)).toBe(1);
      } finally {
        await kube.close();
      }
    },
  );

  it('runs the plugin again once its credential expired (expirationTimestamp is already past)', async () => {
    const file = kubeconfigWithPlugin('client.authentication.k8s.io/v1', 0);
    const kube = createKubePort({ kubeConfig: createKubeConfig(undefined, {}, { kubeconfigPath: file }) });
    try {
      expect(await kube.getPod('default', 'nothing-here')).toBeUndefined();
      expect(await kube.getPod('default', 'nothing-here')).toBeUndefined();
      expect(runsOf(file)).toBeGreaterThanOrEqual(2);
    } finally {
      await kube.close();
    }
  });
  it('reports a failing plugin with its own words, as PODRUN_KUBE_AUTH', async () => {
    const file = kubeconfigWithPlugin('client.authentication.k8s.io/v1', 3600);
    const plugin = readFileSync(file, 'utf8').match(/command: (.*)/)![1]!;
    writeFileSync(plugin, '#!/bin/sh\necho "error: you must log in first" >&2\nexit 1\n');
    const kube = createKubePort({
      kubeConfig: createKubeConfig(undefined, {}, { kubeconfigPath: file }),
      retry: { maxAttempts: 1 },
    });
    try {
      await expect(kube.getPod('default', 'x')).rejects.toMatchObject({
        code: 'PODRUN_KUBE_AUTH',
        message: expect.stringContaining('exited with 1: error: you must log in first') as unknown as string,
      });
    } finally {
      await kube.close();
    }
  });
});
