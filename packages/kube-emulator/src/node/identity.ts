// Who a container's process is, decided as the kubelet and runc decide it: securityContext
// runAsUser/runAsGroup (container over pod), else the image's USER (a name, uid, uid:gid or
// name:group, names looked up in the image's own /etc/passwd and /etc/group), else root; the
// supplemental groups are the pod's plus fsGroup; capabilities are the runtime's default set
// adjusted by securityContext.capabilities.
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

/** The 14 capabilities runc and containerd give a container by default (Docker's set). */
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
  'sys_chroot',
  'kill',
  'audit_write',
];

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
