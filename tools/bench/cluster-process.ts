// Starts tools/bench/start-cluster.ts in a child process, so a benchmark measures only its own
// side; `PODRUN_TEST_IMAGES` in `env` selects the images it imports.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The running cluster process and its kubeconfig; end `child.stdin` to stop it. */
export async function startClusterProcess(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; kubeconfig: string }> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./start-cluster.ts', import.meta.url))],
    {
      cwd: root,
      env: { ...env, TSX_TSCONFIG_PATH: `${root}tsconfig.dev.json` },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const kubeconfig = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /KUBECONFIG (\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.on('exit', () => reject(new Error('the cluster process exited')));
  });
  return { child, kubeconfig };
}
