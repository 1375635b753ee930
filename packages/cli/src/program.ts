import { Command, Option } from 'commander';
import { createRequire } from 'node:module';
import type { CliIo } from './io.js';

// Each command's module is imported when that command runs: `podrun --version` or `podrun run` never
// load what other commands need (the Kubernetes client alone takes most of a second).

const collect = (value: string, previous: string[] = []) => [...previous, value];

function version(): string {
  return (createRequire(import.meta.url)('podrun/package.json') as { version: string }).version;
}

/** Builds the `podrun` command line; `setCode` receives each command's exit code. */
export function buildProgram(io: CliIo, setCode: (code: number) => void): Command {
  const program = new Command('podrun')
    .description('Run workflow tasks in Kubernetes pods (or on the embedded cluster).')
    .version(version())
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  const clusterOptions = (cmd: Command) =>
    cmd
      .option('--kubeconfig <file>', 'kubeconfig file (default: KUBECONFIG, ~/.kube/config, in-cluster)')
      .option('--context <name>', 'kubeconfig context')
      .option('--namespace <ns>', 'namespace for pods (a flow that sets one keeps it)')
      .addOption(
        new Option('--cluster <mode>', 'auto: kubeconfig if any, else embedded').choices([
          'auto',
          'embedded',
          'kubeconfig',
        ]),
      )
      .option('--state-dir <dir>', 'execution state, storage and cache (default .podrun)');
  const runOptions = (cmd: Command) =>
    clusterOptions(cmd)
      .option('--output-dir <dir>', 'where output files are saved (default podrun-outputs)')
      .option('--json', 'print one JSON result document instead of the summary (logs go to stderr)')
      .option('--config <file>', 'host configuration (default PODRUN_CONFIG or ./podrun.config.yml)')
      .option('--namespace-files <dir>', "namespace files directory (default: the flow's directory)")
      .option(
        '--all-logs',
        'print every line of tasks inside Parallel and ForEach too, instead of the live summary of them',
      )
      .option(
        '-v, --verbose',
        "show debug lines (also DEBUG=podrun:*): what podrun chose automatically and why, and the runner's own",
      );

  runOptions(
    program
      .command('run')
      .description('run a flow file')
      .argument('<flow>', 'flow YAML file')
      .option('-i, --input <name=value>', 'flow input; name=@path for FILE inputs (repeatable)', collect)
      .option('--execution-id <id>', 'execution id; an existing one is resumed'),
  ).action(async (flow: string, flags) =>
    setCode(await (await import('./commands/run.js')).runCommand(flow, flags, io)),
  );

  runOptions(
    program
      .command('resume')
      .description('resume an interrupted execution')
      .argument('<execution-id>')
      .option('-i, --input <name=value>', 'SECRET inputs again (podrun never stores them; repeatable)', collect),
  ).action(async (id: string, flags) =>
    setCode(await (await import('./commands/run.js')).resumeCommand(id, flags, io)),
  );

  program
    .command('logs')
    .description('print what the task runs of an execution printed (every line, from its log files)')
    .argument('<execution-id>')
    .argument('[task...]', 'task ids or run keys such as t[value] (default: every run)')
    .option('--state-dir <dir>', 'execution state, storage and cache (default .podrun)')
    .option('--config <file>', 'host configuration (default PODRUN_CONFIG or ./podrun.config.yml)')
    .action(async (id: string, tasks: string[], flags) =>
      setCode(await (await import('./commands/logs.js')).logsCommand(id, tasks, flags, io)),
    );

  program
    .command('validate')
    .description('check flow files: every problem with its path and line')
    .argument('<flow...>')
    .action(async (files: string[]) =>
      setCode(await (await import('./commands/validate.js')).validateCommand(files, io)),
    );

  program
    .command('rbac')
    .description('print least-privilege ServiceAccount/Role/RoleBinding YAML for the configured strategies')
    .argument('[flow...]', 'flows whose Kubernetes tasks decide the strategies')
    .option('--namespace <ns>', 'namespace of the role', 'default')
    .option('--service-account <name>', 'service account name', 'podrun')
    .option('--transfer <type>', 'file transfer strategy: exec-tar, pvc, object-storage (repeatable)', collect)
    .action(async (flows: string[], flags) =>
      setCode(await (await import('./commands/rbac.js')).rbacCommand(flows, flags, io)),
    );

  clusterOptions(
    program
      .command('doctor')
      .description('check connection, server version, exec protocol and permissions')
      .argument('[flow...]', 'flows whose Kubernetes tasks decide the strategies')
      .option('--transfer <type>', 'file transfer strategy: exec-tar, pvc, object-storage (repeatable)', collect),
  ).action(async (flows: string[], flags) =>
    setCode(await (await import('./commands/doctor.js')).doctorCommand(flows, flags, io)),
  );

  const cluster = program.command('cluster').description('the embedded Kubernetes cluster');
  cluster
    .command('start')
    .description('run the embedded cluster in the foreground until interrupted')
    .option('--port <port>', 'API server port (default: a free one)')
    .option('--kubeconfig-out <file>', 'where to write the kubeconfig')
    .option('--state-dir <dir>', 'cluster state directory (default .podrun/cluster)')
    .option('--no-pod-network', 'pods share the host network instead of each getting a namespace and IP')
    .option('--kubernetes-version <version>', 'serve as this Kubernetes version, e.g. 1.29 (exec v4 before 1.30)')
    .option('--image <archive>', 'import an image archive at start (repeatable)', (v, all: string[]) => [...all, v], [])
    .action(async (flags) => setCode(await (await import('./commands/cluster.js')).clusterStartCommand(flags, io)));

  const image = cluster.command('image').description("the embedded cluster's images (what pods can pull)");
  image
    .command('import')
    .description('load OCI image layouts or docker save archives (tar, tar.gz) into a running embedded cluster')
    .argument('<archive...>')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (the one `podrun cluster start` printed)')
    .option('--name <image>', "name the image instead of the archive's own name")
    .action(async (files: string[], flags) =>
      setCode(await (await import('./commands/images.js')).imageImportCommand(files, flags, io)),
    );
  image
    .command('ls')
    .description('list the images of a running embedded cluster')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (the one `podrun cluster start` printed)')
    .action(async (flags) => setCode(await (await import('./commands/images.js')).imageListCommand(flags, io)));

  return program;
}
