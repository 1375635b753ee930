// The reference's Python and Node script tasks (Script and Commands) under the Process runner and
// the Kubernetes runner: the script file, beforeCommands, env, the plugin's own env defaults,
// input and output files, exit codes and warningOnStdErr.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type EmbeddedCluster } from '@podrun/kube-emulator';
import {
  SCRIPT_LANGUAGES,
  createHost,
  createRunnerRegistry,
  registerKubernetesRunner,
  registerProcessRunner,
  type Host,
} from '@podrun/host';
import { testImageArchives } from '@podrun/test-utils';

let cluster: EmbeddedCluster;
let dir: string;
let host: Host;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'podrun-host-scripts-'));
  cluster = await startCluster({ imageArchives: testImageArchives() });
  const registry = createRunnerRegistry();
  registerKubernetesRunner(registry);
  registerProcessRunner(registry);
  host = createHost({
    registry,
    stateDir: join(dir, 'state'),
    env: { PATH: process.env.PATH },
    tempDir: dir,
    cluster: { kubeconfigPath: cluster.kubeconfigPath },
  });
});
afterAll(async () => {
  await cluster?.stop();
  await rm(dir, { recursive: true, force: true });
});

const PROCESS = 'io.kestra.plugin.core.runner.Process';
const KUBERNETES = 'io.kestra.plugin.ee.kubernetes.runner.Kubernetes';

async function run(tasks: string) {
  const logs: string[] = [];
  const result = await host.run({
    source: `id: scripts\nnamespace: company.team\ntasks:\n${tasks}`,
    observer: { taskLog: (task, line) => void logs.push(`${task}: ${line.text}`) },
  });
  return { record: result.record, logs };
}

const output = async (uri: string) =>
  (await host.storage.open(uri)).content.toArray().then((c) => Buffer.concat(c).toString());

describe.each([
  ['the Process runner', PROCESS],
  ['the Kubernetes runner', KUBERNETES],
])('script tasks under %s', { timeout: 180_000 }, (_name, runner) => {
  it('runs a Python Script that reads an input file and writes an output, with beforeCommands and env', async () => {
    const { record, logs } = await run(`  - id: py
    type: io.kestra.plugin.scripts.python.Script
    taskRunner: { type: ${runner} }
    inputFiles:
      data.txt: "a b b"
    outputFiles: [counts.txt]
    env:
      GREETING: hi
    beforeCommands:
      - echo before
    script: |
      import os, sys
      words = open("data.txt").read().split()
      open("counts.txt", "w").write(str(len(words)))
      print(os.environ["GREETING"], os.environ["PYTHONUNBUFFERED"], sys.version_info[0])
      print('::{"outputs":{"distinct":%d}}::' % len(set(words)))
`);
    expect(record.status).toBe('SUCCESS');
    expect(logs).toEqual(['py: before', 'py: hi true 3']);
    const outputs = record.tasks.py!.outputs!;
    expect(outputs.vars).toEqual({ distinct: 2 });
    expect(await output(outputs.outputFiles['counts.txt']!)).toBe('3');
  });

  it('runs Node Script and Commands, and Python Commands', async () => {
    const { record, logs } = await run(`  - id: js
    type: io.kestra.plugin.scripts.node.Script
    taskRunner: { type: ${runner} }
    script: |
      console.log("node says", [1, 2, 3].map((n) => n * 2).join(","));
  - id: jscmd
    type: io.kestra.plugin.scripts.node.Commands
    taskRunner: { type: ${runner} }
    commands:
      - node -e 'console.log(40 + 2)'
  - id: pycmd
    type: io.kestra.plugin.scripts.python.Commands
    taskRunner: { type: ${runner} }
    inputFiles:
      main.py: print("main ran")
    commands:
      - "$(command -v python || command -v python3) main.py"
`);
    expect(record.status).toBe('SUCCESS');
    expect(logs).toEqual(['js: node says 2,4,6', 'jscmd: 42', 'pycmd: main ran']);
  });

  it('fails on a non-zero exit of the script', async () => {
    const { record } = await run(`  - id: bad
    type: io.kestra.plugin.scripts.python.Script
    taskRunner: { type: ${runner} }
    script: |
      raise SystemExit(3)
`);
    expect(record.status).toBe('FAILED');
    expect(record.tasks.bad!.outputs?.exitCode).toBe(3);
  });
});

describe('script task defaults', () => {
  it("default to the reference plugins' images", () => {
    expect(SCRIPT_LANGUAGES.python.image).toBe('ghcr.io/kestra-io/kestrapy:latest');
    expect(SCRIPT_LANGUAGES.node.image).toBe('node');
    expect(SCRIPT_LANGUAGES.shell.image).toBe('ubuntu');
  });

  it('warningOnStdErr (default true) turns output on stderr into a WARNING; false keeps SUCCESS', async () => {
    const tasks = (flag: string) => `  - id: warn
    type: io.kestra.plugin.scripts.python.Script
    taskRunner: { type: ${PROCESS} }
    ${flag}
    script: |
      import sys
      print("careful", file=sys.stderr)
`;
    expect((await run(tasks(''))).record.tasks.warn!.status).toBe('WARNING');
    expect((await run(tasks('warningOnStdErr: false'))).record.tasks.warn!.status).toBe('SUCCESS');
  }, 60_000);

  it('runs the Python example of examples/ on the Kubernetes runner', async () => {
    const source = await readFile(join(import.meta.dirname, '../../../examples/python-word-count.yml'), 'utf8');
    const result = await host.run({
      source,
      inputs: { file: join(import.meta.dirname, '../../../examples/data.txt') },
    });
    expect(result.record.status).toBe('SUCCESS');
    const csv = await output(result.record.tasks.count!.outputs!.outputFiles['counts.csv']!);
    expect(csv.split('\n')[0]).toBe('word,count');
    expect(result.record.tasks.count!.outputs!.vars.words).toBeGreaterThan(0);
  }, 120_000);
});
