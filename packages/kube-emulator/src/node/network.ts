// Pod networking of the node: one Linux bridge per cluster with a private /24, and per pod a
// network namespace joined to it by a veth pair, like a CNI bridge plugin without its NAT. Pods
// get no default route, so they reach only the bridge (host) address and each other; nothing is
// forwarded, masqueraded or routed anywhere else.
//
// Several emulators share the machine (vitest workers, CI): each cluster leases a subnet index
// under a lock file; a lease whose process is gone is stale, and its bridge and namespaces are
// removed by the next cluster that takes the lock.
import { execFile } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { processLauncher } from './process-launcher.js';
import { findTool } from './sandbox-template.js';

const run = promisify(execFile);
/** The iproute2 binary by path: the emulator's PATH may lack the sbin directories. */
const ip = (): string => findTool('ip') ?? 'ip';

/** The network a pod's containers share. */
export interface PodNetworkAttachment {
  /** status.podIP. */
  readonly podIP: string;
  /** The network namespace file containers and exec sessions join (undefined: the host network). */
  readonly netnsPath: string | undefined;
}

/** The node's pod networking strategy. */
export interface PodNetwork {
  /** status.hostIP and the address pods reach the host at (the bridge address, or 127.0.0.1). */
  readonly hostIP: string;
  /** Why pods share the host network (undefined when each pod gets its own namespace). */
  readonly fallbackReason: string | undefined;
  /** Gives a pod its namespace and IP (`hostNetwork` pods get the host's). */
  attach(podUid: string, hostNetwork: boolean): Promise<PodNetworkAttachment>;
  /** Removes the pod's namespace and frees its IP (no-op for host-network pods). */
  detach(podUid: string): Promise<void>;
  /** Removes every namespace, the bridge and the lease. */
  stop(): Promise<void>;
}

/** Options of {@link createPodNetwork}. */
export interface PodNetworkOptions {
  /** false: pods share the host network (ClusterOptions.podNetwork). */
  enabled: boolean;
  /** Where leases and the allocation lock live (default /run/podrun-network). */
  leaseDir?: string;
}

const subnetPrefix = '10.244';
const bridgeName = (index: number): string => `podrun${index}`;
const netnsName = (index: number, host: number): string => `podrun-${index}-${host}`;
const lockStaleMs = 30_000;

/** Sets up the bridge, or returns a host-network strategy saying why it could not. */
export async function createPodNetwork(options: PodNetworkOptions): Promise<PodNetwork> {
  if (!options.enabled) return hostNetwork('pod networking is turned off (podNetwork: false)');
  const problem = unsupportedReason();
  if (problem) return hostNetwork(problem);
  const leaseDir = options.leaseDir ?? '/run/podrun-network';
  let index: number;
  try {
    mkdirSync(leaseDir, { recursive: true, mode: 0o700 });
    index = await withLock(join(leaseDir, 'lock'), () => leaseSubnet(leaseDir));
  } catch (error) {
    return hostNetwork(`cannot create the pod bridge: ${firstLine(error)}`);
  }
  return bridgeNetwork(leaseDir, index);
}

function unsupportedReason(): string | undefined {
  if (process.platform !== 'linux') return `pod network namespaces need Linux (this is ${process.platform})`;
  if (!findTool('ip')) return 'the `ip` binary (iproute2) is not on the PATH';
  if (!findTool('nsenter')) return 'the `nsenter` binary (util-linux) is not on the PATH';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root (CAP_NET_ADMIN)';
  try {
    const capabilities = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
    if ((BigInt(`0x${capabilities}`) & (1n << 12n)) === 0n) return 'the process lacks CAP_NET_ADMIN';
  } catch {
    return 'cannot read /proc/self/status to check for CAP_NET_ADMIN';
  }
  return undefined;
}

function hostNetwork(reason: string): PodNetwork {
  return {
    hostIP: '127.0.0.1',
    fallbackReason: reason,
    attach: () => Promise.resolve({ podIP: '127.0.0.1', netnsPath: undefined }),
    detach: () => Promise.resolve(),
    stop: () => Promise.resolve(),
  };
}

function bridgeNetwork(leaseDir: string, index: number): PodNetwork {
  const hostIP = `${subnetPrefix}.${index}.1`;
  const attached = new Map<string, number>();
  const used = new Set<number>();
  let next = 2;
  const allocate = (): number => {
    // Round robin, as host-local IPAM does: a deleted pod's IP is not handed out again at once.
    for (let i = 0; i < 253; i += 1) {
      const candidate = ((next - 2 + i) % 253) + 2;
      if (!used.has(candidate)) {
        used.add(candidate);
        next = candidate + 1;
        return candidate;
      }
    }
    throw new Error(`no free pod IP left in ${subnetPrefix}.${index}.0/24`);
  };
  // Deleting the namespace destroys its veth end, and with it the bridge end. Namespaces whose
  // pods end while an `ip` runs are deleted together by the next one (errors are ignored anyway:
  // a namespace already gone is the goal).
  const deleteNamespace = groupCommit((names: string[]) =>
    ipBatch(
      ['-force'],
      names.map((name) => `netns delete ${name}`),
    ).catch(() => undefined),
  );
  const remove = async (host: number): Promise<void> => {
    await deleteNamespace(netnsName(index, host));
    used.delete(host);
  };
  return {
    hostIP,
    fallbackReason: undefined,
    async attach(podUid, hostNetworkPod) {
      if (hostNetworkPod) return { podIP: hostIP, netnsPath: undefined };
      const host = allocate();
      const ns = netnsName(index, host);
      const podIP = `${subnetPrefix}.${index}.${host}`;
      try {
        const veth = `prv${index}-${host}`;
        // Two `ip` processes, the host's side then the pod's (`-n`, which enters the namespace
        // in-process): process starts are the cost of a pod start at scale, and `netns exec` would
        // add one per command, each with a mount namespace and a /sys mount of its own.
        await ipBatch(
          [],
          [
            `netns add ${ns}`,
            `link add ${veth} type veth peer name eth0 netns ${ns}`,
            `link set ${veth} master ${bridgeName(index)} up`,
          ],
        );
        await ipBatch(['-n', ns], [`addr add ${podIP}/24 dev eth0`, 'link set eth0 up', 'link set lo up']);
      } catch (error) {
        await remove(host);
        throw new Error(`cannot create the network namespace of pod ${podUid}: ${firstLine(error)}`);
      }
      attached.set(podUid, host);
      return { podIP, netnsPath: `/run/netns/${ns}` };
    },
    async detach(podUid) {
      const host = attached.get(podUid);
      if (host === undefined) return;
      attached.delete(podUid);
      await remove(host);
    },
    async stop() {
      await Promise.all([...attached.keys()].map((uid) => this.detach(uid)));
      await run(ip(), ['link', 'delete', bridgeName(index)]).catch(() => undefined);
      rmSync(join(leaseDir, `${index}.lease`), { force: true });
    },
  };
}

/**
 * Calls `flush` with every item added while the previous flush ran, one flush at a time: the
 * first item goes at once, later ones share the next call (group commit, no timer).
 */
function groupCommit<T>(flush: (items: T[]) => Promise<void>): (item: T) => Promise<void> {
  let inFlight: Promise<void> = Promise.resolve();
  let next: { items: T[]; done: Promise<void> } | undefined;
  return (item) => {
    if (!next) {
      const batch: { items: T[]; done: Promise<void> } = { items: [], done: Promise.resolve() };
      batch.done = inFlight.then(() => {
        if (next === batch) next = undefined;
        return flush(batch.items);
      });
      inFlight = batch.done.catch(() => undefined);
      next = batch;
    }
    next.items.push(item);
    return next.done;
  };
}

/** One `ip` process for several commands (process starts are the cost of a pod start). */
async function ipBatch(options: string[], commands: string[]): Promise<void> {
  const child = await processLauncher().launch(ip(), [...options, '-batch', '-'], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' },
    cwd: '/',
  });
  let stderr = '';
  child.stdio[2]!.setEncoding('utf8');
  child.stdio[2]!.on('data', (text: string) => {
    if (stderr.length < 8192) stderr += text;
  });
  child.stdio[0]!.on('error', () => undefined);
  child.stdio[0]!.end(`${commands.join('\n')}\n`);
  const { code, signal } = await child.closed;
  if (code !== 0)
    throw new Error(
      `${ip()} -batch failed: ${stderr.trim() || (signal ? `killed by ${signal}` : `exit code ${code}`)}`,
    );
}

/** Under the lock: clears stale leases, then creates the bridge of the first free subnet. */
async function leaseSubnet(leaseDir: string): Promise<number> {
  const live = new Set<number>();
  for (const file of readdirSync(leaseDir)) {
    const match = /^(\d+)\.lease$/.exec(file);
    if (!match) continue;
    const index = Number(match[1]);
    if (holderAlive(readFileSync(join(leaseDir, file), 'utf8'))) live.add(index);
    else {
      await removeLeftovers(index);
      rmSync(join(leaseDir, file), { force: true });
    }
  }
  const taken = await hostSubnets();
  // From a random start, so that a subnet just released is rarely handed out again at once.
  const start = Math.floor(Math.random() * 256);
  for (let i = 0; i < 256; i += 1) {
    const index = (start + i) % 256;
    if (live.has(index) || taken.has(index)) continue;
    // A bridge without a live lease is a leftover of a run that crashed before writing its lease.
    await removeLeftovers(index);
    try {
      await run(ip(), ['link', 'add', bridgeName(index), 'type', 'bridge']);
    } catch {
      continue;
    }
    writeLease(join(leaseDir, `${index}.lease`));
    try {
      await ipBatch(
        [],
        [`addr add ${subnetPrefix}.${index}.1/24 dev ${bridgeName(index)}`, `link set ${bridgeName(index)} up`],
      );
      confineBridge(bridgeName(index));
    } catch (error) {
      await removeLeftovers(index);
      rmSync(join(leaseDir, `${index}.lease`), { force: true });
      throw error;
    }
    return index;
  }
  throw new Error(`every subnet ${subnetPrefix}.0-255.0/24 is in use`);
}

/**
 * Nothing received on the bridge is forwarded, even where the host forwards between its other
 * interfaces (a pod given NET_ADMIN could route through the bridge address); no IPv6 on it either,
 * so the bridge's IPv4 address is the only way to the host.
 */
function confineBridge(bridge: string): void {
  writeFileSync(`/proc/sys/net/ipv4/conf/${bridge}/forwarding`, '0');
  try {
    writeFileSync(`/proc/sys/net/ipv6/conf/${bridge}/disable_ipv6`, '1');
  } catch {
    // The kernel has no IPv6: nothing to turn off.
  }
}

/** The third octets of 10.244.x.0/24 subnets that some address or route of the host already covers. */
async function hostSubnets(): Promise<Set<number>> {
  const { stdout } = await run(ip(), ['-4', '-o', 'route', 'show', 'table', 'all']);
  const taken = new Set<number>();
  for (const [, prefix] of stdout.matchAll(/(?:^|\s)(\d+\.\d+\.\d+\.\d+(?:\/\d+)?)\s/gm)) {
    const [address, bits = '32'] = prefix!.split('/');
    const octets = address!.split('.').map(Number);
    const length = Number(bits);
    if (length === 0) continue;
    for (let index = 0; index < 256; index += 1) {
      const candidate = [10, 244, index, 0];
      const covers = (a: number[], b: number[], n: number): boolean =>
        a.every((octet, i) => {
          const keep = Math.max(0, Math.min(8, n - i * 8));
          const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
          return (octet & mask) === (b[i]! & mask);
        });
      if (covers(octets, candidate, Math.min(length, 24))) taken.add(index);
    }
  }
  return taken;
}

async function removeLeftovers(index: number): Promise<void> {
  const { stdout } = await run(ip(), ['netns', 'list']).catch(() => ({ stdout: '' }));
  const prefix = `podrun-${index}-`;
  for (const line of stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (name.startsWith(prefix)) await run(ip(), ['netns', 'delete', name]).catch(() => undefined);
  }
  await run(ip(), ['link', 'delete', bridgeName(index)]).catch(() => undefined);
}

/** `pid starttime`: the start time tells a live holder from a reused PID. */
function processIdentity(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return `${pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
  } catch {
    return undefined;
  }
}

function holderAlive(content: string): boolean {
  const pid = Number(content.split(' ')[0]);
  return Number.isInteger(pid) && pid > 0 && processIdentity(pid) === content.trim();
}

function writeLease(path: string): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    writeSync(fd, processIdentity(process.pid) ?? String(process.pid));
  } finally {
    closeSync(fd);
  }
}

/** A cross-process lock: an exclusively created file naming its holder; a dead holder's lock is broken. */
async function withLock<T>(path: string, body: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (;;) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, processIdentity(process.pid) ?? String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder = '';
      try {
        holder = readFileSync(path, 'utf8');
      } catch {
        continue;
      }
      if ((holder !== '' && !holderAlive(holder)) || Date.now() - started > lockStaleMs) rmSync(path, { force: true });
      else await new Promise((resolveWait) => setTimeout(resolveWait, 20));
    }
  }
  try {
    return await body();
  } finally {
    rmSync(path, { force: true });
  }
}

/** /etc/hosts of a pod as the kubelet writes it (managedHostsFileContent / nodeHostsFileContent). */
export function hostsFile(pod: {
  podIP: string;
  hostname: string;
  /** `<subdomain>.<namespace>.svc.cluster.local`, or empty. */
  domain: string;
  hostNetwork: boolean;
  aliases: { ip: string; hostnames?: string[] }[];
}): string {
  const aliases = pod.aliases.map((a) => `${a.ip}\t${(a.hostnames ?? []).join('\t')}\n`).join('');
  const aliasBlock = aliases ? `\n# Entries added by HostAliases.\n${aliases}` : '';
  if (pod.hostNetwork) {
    let node = '';
    try {
      node = readFileSync('/etc/hosts', 'utf8');
    } catch {
      // No hosts file on the node: the kubelet would fail the pod; an empty one is kinder and harmless.
    }
    return `# Kubernetes-managed hosts file (host network).\n${node}${aliasBlock}`;
  }
  const self = pod.domain ? `${pod.hostname}.${pod.domain}\t${pod.hostname}` : pod.hostname;
  return (
    [
      '# Kubernetes-managed hosts file.',
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'fe00::0\tip6-mcastprefix',
      'fe00::1\tip6-allnodes',
      'fe00::2\tip6-allrouters',
      `${pod.podIP}\t${self}`,
      '',
    ].join('\n') + aliasBlock
  );
}

function firstLine(error: unknown): string {
  const err = error as { stderr?: string; message?: string };
  return (err.stderr || err.message || String(error)).trim().split('\n')[0] ?? '';
}
