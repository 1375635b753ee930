// Server-side printing (meta.k8s.io/v1 Table) for kubectl get, following
// pkg/printers/internalversion/printers.go for the columns kubectl shows by default.
import type { KubeObject } from '../contracts.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  cell: (o: Obj) => unknown;
}

/** duration.HumanDuration from apimachinery. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8)
    return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  return `${Math.floor(hours / 24 / 365)}y`;
}

const age = (timestamp: string | undefined): string =>
  timestamp ? humanDuration(Date.now() - Date.parse(timestamp)) : '<unknown>';

const nameColumn: Column = { name: 'Name', type: 'string', format: 'name', cell: (o) => o.metadata.name };
const ageColumn: Column = { name: 'Age', type: 'string', cell: (o) => age(o.metadata.creationTimestamp) };

/** The STATUS, READY and RESTARTS cells of printPod. */
export function podSummary(pod: Obj): { status: string; ready: string; restarts: number } {
  const spec = pod.spec ?? {};
  const status = pod.status ?? {};
  let reason: string = status.reason || status.phase || '';
  let restarts = 0;
  let readyContainers = 0;
  let initializing = false;
  const inits: Obj[] = status.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i]!;
    restarts += c.restartCount ?? 0;
    const terminated = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (terminated) {
      reason = terminated.reason
        ? `Init:${terminated.reason}`
        : terminated.signal
          ? `Init:Signal:${terminated.signal}`
          : `Init:ExitCode:${terminated.exitCode}`;
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }
  const initialized = (status.conditions ?? []).some((c: Obj) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    restarts = 0;
    let hasRunning = false;
    const containers: Obj[] = status.containerStatuses ?? [];
    for (let i = containers.length - 1; i >= 0; i--) {
      const c = containers[i]!;
      restarts += c.restartCount ?? 0;
      const waiting = c.state?.waiting;
      const terminated = c.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (terminated?.reason) reason = terminated.reason;
      else if (terminated)
        reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode}`;
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = (status.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  if (pod.metadata.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return { status: reason, ready: `${readyContainers}/${(spec.containers ?? []).length}`, restarts };
}

const columnsByResource: Record<string, Column[]> = {
  pods: [
    nameColumn,
    { name: 'Ready', type: 'string', cell: (o) => podSummary(o).ready },
    { name: 'Status', type: 'string', cell: (o) => podSummary(o).status },
    { name: 'Restarts', type: 'string', cell: (o) => String(podSummary(o).restarts) },
    ageColumn,
    { name: 'IP', type: 'string', priority: 1, cell: (o) => o.status?.podIP ?? '<none>' },
    { name: 'Node', type: 'string', priority: 1, cell: (o) => o.spec?.nodeName || '<none>' },
    { name: 'Nominated Node', type: 'string', priority: 1, cell: (o) => o.status?.nominatedNodeName ?? '<none>' },
    { name: 'Readiness Gates', type: 'string', priority: 1, cell: () => '<none>' },
  ],
  namespaces: [nameColumn, { name: 'Status', type: 'string', cell: (o) => o.status?.phase ?? '' }, ageColumn],
  nodes: [
    nameColumn,
    { name: 'Status', type: 'string', cell: () => 'Ready' },
    { name: 'Roles', type: 'string', cell: () => '<none>' },
    ageColumn,
    { name: 'Version', type: 'string', cell: (o) => o.status?.nodeInfo?.kubeletVersion ?? '' },
  ],
  persistentvolumeclaims: [
    nameColumn,
    { name: 'Status', type: 'string', cell: (o) => o.status?.phase ?? '' },
    { name: 'Volume', type: 'string', cell: (o) => o.spec?.volumeName ?? '' },
    { name: 'Capacity', type: 'string', cell: (o) => o.status?.capacity?.storage ?? '' },
    { name: 'Access Modes', type: 'string', cell: (o) => accessModesText(o.status?.accessModes ?? []) },
    { name: 'StorageClass', type: 'string', cell: (o) => o.spec?.storageClassName ?? '<unset>' },
    { name: 'VolumeAttributesClass', type: 'string', cell: () => '<unset>' },
    ageColumn,
  ],
  configmaps: [nameColumn, { name: 'Data', type: 'integer', cell: (o) => dataCount(o) }, ageColumn],
  secrets: [
    nameColumn,
    { name: 'Type', type: 'string', cell: (o) => o.type ?? 'Opaque' },
    { name: 'Data', type: 'integer', cell: (o) => dataCount(o) },
    ageColumn,
  ],
  serviceaccounts: [nameColumn, { name: 'Secrets', type: 'integer', cell: (o) => (o.secrets ?? []).length }, ageColumn],
  events: [
    {
      name: 'Last Seen',
      type: 'string',
      cell: (o) => age(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp),
    },
    { name: 'Type', type: 'string', cell: (o) => o.type ?? '' },
    { name: 'Reason', type: 'string', cell: (o) => o.reason ?? '' },
    {
      name: 'Object',
      type: 'string',
      cell: (o) => `${String(o.involvedObject?.kind ?? '').toLowerCase()}/${o.involvedObject?.name ?? ''}`,
    },
    { name: 'Message', type: 'string', cell: (o) => o.message ?? '' },
  ],
  rolebindings: [
    nameColumn,
    { name: 'Role', type: 'string', cell: (o) => `${o.roleRef?.kind}/${o.roleRef?.name}` },
    ageColumn,
  ],
  clusterrolebindings: [
    nameColumn,
    { name: 'Role', type: 'string', cell: (o) => `${o.roleRef?.kind}/${o.roleRef?.name}` },
    ageColumn,
  ],
  roles: [nameColumn, { name: 'Created At', type: 'date', cell: (o) => o.metadata.creationTimestamp }],
  clusterroles: [nameColumn, { name: 'Created At', type: 'date', cell: (o) => o.metadata.creationTimestamp }],
};

function dataCount(o: Obj): number {
  return Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length;
}

function accessModesText(modes: string[]): string {
  const short: Record<string, string> = {
    ReadWriteOnce: 'RWO',
    ReadOnlyMany: 'ROX',
    ReadWriteMany: 'RWX',
    ReadWriteOncePod: 'RWOP',
  };
  return modes.map((m) => short[m] ?? m).join(',');
}

/** Whether the Accept header asks for a Table (kubectl get). */
export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

/** Renders objects as a meta.k8s.io/v1 Table; `includeObject` is None, Object or PartialObjectMetadata. */
export function toTable(
  resource: string,
  objects: KubeObject[],
  resourceVersion: string,
  includeObject: string | null,
  listMeta: Record<string, unknown> = {},
): unknown {
  const columns: Column[] = columnsByResource[resource] ?? [
    nameColumn,
    { name: 'Created At', type: 'date', cell: (o: Obj) => o.metadata.creationTimestamp },
  ];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...listMeta },
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: '',
      priority: c.priority ?? 0,
    })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o)),
      object: rowObject(o, includeObject),
    })),
  };
}

function rowObject(o: KubeObject, includeObject: string | null): unknown {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}
