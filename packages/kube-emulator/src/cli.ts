// `podrun-kube-emulator start`: runs an emulated cluster in the foreground until SIGINT/SIGTERM.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '@podrun/core';
import { startCluster } from './cluster.js';

const usage = `Usage: podrun-kube-emulator start [--port N] [--kubeconfig-out FILE] [--state-dir DIR] [--plain-http]
                             [--no-pod-network] [--kubernetes-version 1.N] [--image ARCHIVE]...

Starts an emulated Kubernetes cluster on 127.0.0.1 and keeps it running until interrupted.
  --port N               listen on this port (default: a random free port)
  --kubeconfig-out FILE  also write the admin kubeconfig to FILE
  --state-dir DIR        keep pods, volumes and logs in DIR (default: a temp dir removed on exit)
  --plain-http           serve plain HTTP instead of HTTPS (the kubeconfig then uses a token)
  --no-pod-network       pods share the host network (no network namespace and IP per pod)
  --kubernetes-version V serve as Kubernetes V, e.g. 1.29 (before 1.30 exec negotiates v4 at most)
  --image ARCHIVE        import an OCI or docker save archive at start (repeatable)`;

/**
 * Runs the command line. Resolves when the cluster has stopped after a signal; rejects with a
 * ConfigError for bad arguments.
 */
export async function runCli(
  argv: string[],
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'kubeconfig-out': { type: 'string' },
      'state-dir': { type: 'string' },
      'plain-http': { type: 'boolean' },
      'no-pod-network': { type: 'boolean' },
      'kubernetes-version': { type: 'string' },
      image: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out(usage);
    return;
  }
  if (positionals[0] !== 'start' || positionals.length > 1) {
    throw new ConfigError(
      [{ path: 'command', message: `expected "start", got "${positionals.join(' ')}"\n${usage}` }],
      {
        component: 'kube-emulator',
        title: 'invalid command line',
      },
    );
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new ConfigError([{ path: '--port', message: `"${values.port}" is not a TCP port (0-65535)` }], {
      component: 'kube-emulator',
      title: 'invalid command line',
    });
  }
  const cluster = await startCluster({
    ...(port !== undefined ? { port } : {}),
    ...(values['state-dir'] ? { stateDir: resolve(values['state-dir']) } : {}),
    ...(values['plain-http'] ? { plainHttp: true } : {}),
    ...(values['no-pod-network'] ? { podNetwork: false } : {}),
    ...(values['kubernetes-version'] ? { kubernetesVersion: values['kubernetes-version'] } : {}),
    ...(values.image?.length ? { imageArchives: values.image.map((archive) => resolve(archive)) } : {}),
  });
  let kubeconfigPath = cluster.kubeconfigPath;
  if (values['kubeconfig-out']) {
    kubeconfigPath = resolve(values['kubeconfig-out']);
    writeFileSync(kubeconfigPath, cluster.kubeconfig, { mode: 0o600 });
  }
  out(`kubeconfig: ${kubeconfigPath}`);
  out(
    `The podrun kube-emulator serves ${cluster.url}; use it with: KUBECONFIG=${kubeconfigPath} kubectl get pods (Ctrl-C stops it)`,
  );
  await new Promise<void>((resolveStop) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void cluster.stop().then(resolveStop);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
