// Who a container's process is, decided as the kubelet and runc decide it: securityContext
// runAsUser/runAsGroup (container over pod), else the image's USER (a name, uid, uid:gid or
// name:group, names looked up in the image's own /etc/passwd and /etc/group), else root; the
// supplemental groups are the pod's plus fsGroup; capabilities are the runtime's default set
// (less SYS_CHROOT: see defaultCapabilities) adjusted by securityContext.capabilities.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The identity a container's processes run with. */
export interface ContainerIdentity {
  uid: number;
  gid: number;
  groups: number[];
  /** Capability names (lower case, no `cap_` prefix) of the bounding set. */
  capabilities: string[];
  readOnlyRootFilesystem: boolean;
}

/**
 * The capabilities a container gets by default: runc's and containerd's 14 (Docker's set) less
 * SYS_CHROOT. A real runtime makes the container's root the root of its mount namespace
 * (pivot_root), so chroot(2) inside it cannot climb out; this sandbox enters its root with
 * chroot(2) (the host's tools must run until the last exec), so a process holding SYS_CHROOT
 * could chroot into a subdirectory and walk `..` back to the host's root. `capabilities.add` can
 * still grant it, which hands the host to that container.
 */
export const defaultCapabilities: readonly string[] = [
  'chown',
  'dac_override',
  'fsetid',
  'fowner',
  'mknod',
  'net_raw',
  'setgid',
  'setuid',
  'setfcap',
  'setpcap',
  'net_bind_service',
  'kill',
  'audit_write',
];

// Capability numbers by name, as capability.h numbers them (0 to 40).
const capabilityNames = (
  'chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap linux_immutable ' +
  'net_bind_service net_broadcast net_admin net_raw ipc_lock ipc_owner sys_module sys_rawio ' +
  'sys_chroot sys_ptrace sys_pacct sys_admin sys_boot sys_nice sys_resource sys_time ' +
  'sys_tty_config mknod lease audit_write audit_control setfcap mac_override mac_admin syslog ' +
  'wake_alarm block_suspend audit_read perfmon bpf checkpoint_restore'
).split(' ');

let lastCapability: number | undefined;
/** The highest capability number of this kernel (/proc/sys/kernel/cap_last_cap). */
function kernelLastCapability(): number {
  if (lastCapability === undefined) {
    try {
      lastCapability = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    } catch {
      lastCapability = capabilityNames.length - 1;
    }
  }
  return lastCapability;
}

/**
 * The numbers of this kernel's capabilities that are not in `kept` (names as in
 * {@link defaultCapabilities}): what to drop from a bounding set. By number, so that a capability
 * newer than this table is dropped too.
 */
export function capabilitiesOutside(kept: readonly string[]): number[] {
  const keep = new Set(kept.map((name) => capabilityNames.indexOf(name)));
  const out: number[] = [];
  for (let cap = 0; cap <= kernelLastCapability(); cap++) if (!keep.has(cap)) out.push(cap);
  return out;
}

interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
}

interface PodSecurityContext extends SecurityContext {
  fsGroup?: number;
  supplementalGroups?: number[];
}

/** The entry of the image's passwd/group file whose field `field` (0: name, 2: id) is `value`. */
function lookup(rootfs: string | undefined, file: 'passwd' | 'group', value: string, field = 0): string[] | undefined {
  if (rootfs === undefined) return undefined;
  try {
    const lines = readFileSync(join(rootfs, 'etc', file), 'utf8').split('\n');
    return lines.map((line) => line.split(':')).find((fields) => fields[field] === value);
  } catch {
    return undefined;
  }
}

function capabilitySet(context: SecurityContext | undefined): string[] {
  const normalise = (cap: string): string => cap.toLowerCase().replace(/^cap_/, '');
  const drop = (context?.capabilities?.drop ?? []).map(normalise);
  const add = (context?.capabilities?.add ?? []).map(normalise);
  const base = drop.includes('all') ? [] : defaultCapabilities.filter((cap) => !drop.includes(cap));
  return [...new Set([...base, ...add.filter((cap) => cap !== 'all')])];
}

/**
 * The identity of container `containerName`, or the kubelet's CreateContainerConfigError message.
 * `imageUser` is the image config's User; `rootfs` the image's root filesystem (undefined for
 * the host-filesystem fallback, whose user is root).
 */
export function containerIdentity(
  pod: { metadata: { name: string; namespace?: string; uid?: string }; spec?: unknown },
  containerName: string,
  container: { securityContext?: SecurityContext },
  imageUser: string | undefined,
  rootfs: string | undefined,
): { ok: true; identity: ContainerIdentity } | { ok: false; message: string } {
  const podContext = ((pod.spec ?? {}) as { securityContext?: PodSecurityContext }).securityContext ?? {};
  const own = container.securityContext ?? {};
  const podRef = `pod: "${pod.metadata.name}_${pod.metadata.namespace ?? 'default'}(${pod.metadata.uid ?? ''})", container: ${containerName}`;
  const [userPart = '', groupPart] = (imageUser ?? '').split(':');
  let uid = own.runAsUser ?? podContext.runAsUser;
  let gid = own.runAsGroup ?? podContext.runAsGroup;
  let nonNumericUser: string | undefined;
  if (uid === undefined && userPart !== '') {
    if (/^\d+$/.test(userPart)) uid = Number(userPart);
    else {
      const entry = lookup(rootfs, 'passwd', userPart);
      if (!entry) nonNumericUser = userPart;
      else {
        uid = Number(entry[2]);
        gid ??= Number(entry[3]);
      }
    }
  }
  if (gid === undefined && groupPart !== undefined && groupPart !== '') {
    gid = /^\d+$/.test(groupPart) ? Number(groupPart) : Number(lookup(rootfs, 'group', groupPart)?.[2] ?? NaN);
    if (Number.isNaN(gid)) {
      return { ok: false, message: `unable to find group ${groupPart}: no matching entries in group file` };
    }
  }
  if (nonNumericUser !== undefined) {
    if (own.runAsNonRoot ?? podContext.runAsNonRoot) {
      return {
        ok: false,
        message: `container has runAsNonRoot and image has non-numeric user (${nonNumericUser}), cannot verify user is non-root (${podRef})`,
      };
    }
    return { ok: false, message: `unable to find user ${nonNumericUser}: no matching entries in passwd file` };
  }
  uid ??= 0;
  gid ??= Number(lookup(rootfs, 'passwd', String(uid), 2)?.[3] ?? 0);
  if (uid === 0 && (own.runAsNonRoot ?? podContext.runAsNonRoot)) {
    return { ok: false, message: `container has runAsNonRoot and image will run as root (${podRef})` };
  }
  const groups = [
    ...new Set([
      ...(podContext.supplementalGroups ?? []),
      ...(podContext.fsGroup !== undefined ? [podContext.fsGroup] : []),
    ]),
  ];
  return {
    ok: true,
    identity: {
      uid,
      gid,
      groups,
      capabilities: capabilitySet(own),
      readOnlyRootFilesystem: own.readOnlyRootFilesystem === true,
    },
  };
}
