// podrun beside the tool a user would type instead, on one embedded cluster, in one run:
//   - a trivial task: `podrun run` of an `echo hi` flow vs `kubectl run --rm -i --restart=Never`;
//   - files: a task that copies its input to its output, minus the same task with a 1-byte file,
//     vs `kubectl cp` in plus `kubectl cp` out of a running pod.
// Medians of several alternating runs; the cluster runs in its own process. Not a test.
//
//   npm run bench -- [--runs N] [--mb SIZE]
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startClusterProcess } from './bench/cluster-process.js';
import { buildTestImages } from './test-images/build.js';

const { values } = parseArgs({ options: { runs: { type: 'string' }, mb: { type: 'string' } } });
const runs = Number(values.runs ?? 5);
const mb = Number(values.mb ?? 200);
const root = fileURLToPath(new URL('..', import.meta.url));
const podrun = join(root, 'packages/cli/bin/podrun.js');
const work = mkdtempSync(join(tmpdir(), 'podrun-bench-'));

/** Runs a command to its end; rejects on a non-zero exit, with its stderr. */
function run(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: work, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout),
    );
  });
}

async function timed(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  await run(file, args, env);
  return (performance.now() - started) / 1000;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function sha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

const images = await buildTestImages();
const { child, kubeconfig } = await startClusterProcess({
  ...process.env,
  PODRUN_TEST_IMAGES: images.archives.join(','),
});
const env = { ...process.env, KUBECONFIG: kubeconfig };
const kubectl = 'kubectl';

writeFileSync(
  join(work, 'hello.yml'),
  `id: hello
namespace: bench
tasks:
  - id: hi
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    taskRunner: {type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes}
    commands: ['echo hi']
`,
);
writeFileSync(
  join(work, 'copy.yml'),
  `id: copy
namespace: bench
inputs: [{id: file, type: FILE}]
tasks:
  - id: copy
    type: io.kestra.plugin.scripts.shell.Commands
    containerImage: busybox
    taskRunner: {type: io.kestra.plugin.ee.kubernetes.runner.Kubernetes}
    inputFiles: {in.bin: "{{ inputs.file }}"}
    outputFiles: [out.bin]
    commands: ['cp in.bin out.bin']
`,
);
const big = join(work, 'big.bin');
await run('sh', ['-c', `head -c ${mb * 1024 * 1024} /dev/urandom > ${big}`]);
writeFileSync(join(work, 'tiny.bin'), 'x');

const results: Record<string, number[]> = {
  podrunHello: [],
  kubectlRun: [],
  podrunFiles: [],
  kubectlCpIn: [],
  kubectlCpOut: [],
};
try {
  // One warm-up of each, not measured: the first pod start pays for the image's first mount.
  await timed(process.execPath, [podrun, 'run', 'hello.yml', '--kubeconfig', kubeconfig], env);
  await timed(
    kubectl,
    ['run', 'warm', '--image=busybox', '--restart=Never', '--rm', '-i', '--quiet', '--', 'echo', 'hi'],
    env,
  );
  for (let i = 0; i < runs; i++) {
    results.podrunHello!.push(
      await timed(process.execPath, [podrun, 'run', 'hello.yml', '--kubeconfig', kubeconfig], env),
    );
    results.kubectlRun!.push(
      await timed(
        kubectl,
        ['run', `hi-${i}`, '--image=busybox', '--restart=Never', '--rm', '-i', '--quiet', '--', 'echo', 'hi'],
        env,
      ),
    );
    const copy = (file: string): Promise<number> =>
      timed(process.execPath, [podrun, 'run', 'copy.yml', '--kubeconfig', kubeconfig, '-i', `file=@${file}`], env);
    results.podrunFiles!.push((await copy(big)) - (await copy(join(work, 'tiny.bin'))));
    const pod = `cp-${i}`;
    await run(kubectl, ['run', pod, '--image=busybox', '--restart=Never', '--', 'sleep', '600'], env);
    await run(kubectl, ['wait', '--for=condition=Ready', `pod/${pod}`, '--timeout=120s'], env);
    results.kubectlCpIn!.push(await timed(kubectl, ['cp', big, `${pod}:/tmp/in.bin`], env));
    const out = join(work, `out-${i}.bin`);
    results.kubectlCpOut!.push(await timed(kubectl, ['cp', `${pod}:/tmp/in.bin`, out], env));
    if ((await sha256(out)) !== (await sha256(big))) throw new Error('kubectl cp brought back different bytes');
    rmSync(out);
    await run(kubectl, ['delete', 'pod', pod, '--grace-period=0', '--wait=false'], env);
  }
} finally {
  child.stdin!.end();
  rmSync(work, { recursive: true, force: true });
}

const s = (x: number): string => `${x.toFixed(2)} s`;
const rate = (seconds: number): string => `${(mb / seconds).toFixed(0)} MB/s`;
const hello = median(results.podrunHello!);
const kRun = median(results.kubectlRun!);
const files = median(results.podrunFiles!);
const cp = median(results.kubectlCpIn!) + median(results.kubectlCpOut!);
console.log(`\npodrun beside kubectl, one embedded cluster, medians of ${runs} runs (${new Date().toISOString()})\n`);
console.log('| work | podrun | kubectl | podrun / kubectl |');
console.log('|---|---|---|---|');
console.log(
  `| \`echo hi\` in busybox, whole command | ${s(hello)} | ${s(kRun)} (\`run --rm -i\`) | ${(hello / kRun).toFixed(2)}× |`,
);
console.log(
  `| ${mb} MB in and out, verified (podrun: the task's files minus a 1-byte run) | ${s(files)} (${rate(files / 2)} each way) | ${s(cp)} (\`cp\` in ${s(median(results.kubectlCpIn!))} + out ${s(median(results.kubectlCpOut!))}) | ${(files / cp).toFixed(2)}× |`,
);
