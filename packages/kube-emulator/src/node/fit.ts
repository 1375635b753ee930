// The scheduler's filters for the one node: volume claims, nodeSelector / required node affinity,
// and resource fit against allocatable. Messages follow kube-scheduler's FitError format.
import type { KubeObject } from '../contracts.js';
import { parseQuantity } from '@podrun/core';
import { podRequest } from './quantity.js';

/** What one scheduling attempt sees. */
export interface SchedulingInput {
  pod: KubeObject;
  nodeLabels: Record<string, string>;
  allocatable: Record<string, string>;
  /** Non-terminal pods already bound to the node. */
  assigned: KubeObject[];
  /** The "scheduling stopped" fault: the node behaves as cordoned. */
  stopped: boolean;
  /** The claim's phase (`Bound`, `Pending`, ...), or undefined when it does not exist. */
  claimPhase(namespace: string, name: string): string | undefined;
}

interface Requirement {
  key: string;
  operator: string;
  values?: string[];
}

const notHelpful = 'preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.';
const noVictims = 'preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.';

/** Returns undefined when the pod fits the node, else the scheduler's Unschedulable message. */
export function unschedulableReason(input: SchedulingInput): string | undefined {
  const spec = (input.pod.spec ?? {}) as PodSpecLike;
  const namespace = input.pod.metadata.namespace ?? 'default';
  for (const volume of spec.volumes ?? []) {
    const claim = volume.persistentVolumeClaim?.claimName;
    if (!claim) continue;
    const phase = input.claimPhase(namespace, claim);
    if (phase === undefined)
      return `0/1 nodes are available: persistentvolumeclaim "${claim}" not found. ${notHelpful}`;
    // The VolumeBinding plugin's PreFilter, for claims of an Immediate-binding storage class.
    if (phase !== 'Bound')
      return `0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. ${notHelpful}`;
  }
  if (input.stopped) return `0/1 nodes are available: 1 node(s) were unschedulable. ${notHelpful}`;
  if (!matchesNode(spec, input.nodeLabels)) {
    return `0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. ${notHelpful}`;
  }
  const reasons = insufficient(spec, input.allocatable, input.assigned);
  if (reasons.length > 0) return `0/1 nodes are available: ${reasons.sort().join(', ')}. ${noVictims}`;
  return undefined;
}

interface PodSpecLike {
  nodeSelector?: Record<string, string>;
  affinity?: {
    nodeAffinity?: {
      requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: { matchExpressions?: Requirement[] }[] };
    };
  };
  volumes?: { persistentVolumeClaim?: { claimName?: string } }[];
  containers?: never[];
  initContainers?: never[];
}

function matchesNode(spec: PodSpecLike, labels: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(spec.nodeSelector ?? {})) {
    if (labels[key] !== value) return false;
  }
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && terms.length > 0) {
    // Terms are ORed, expressions within a term ANDed.
    return terms.some((term) => (term.matchExpressions ?? []).every((req) => matchesRequirement(req, labels)));
  }
  return true;
}

function matchesRequirement(req: Requirement, labels: Record<string, string>): boolean {
  const value = labels[req.key];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
      return value !== undefined && Number(value) > Number(values[0]);
    case 'Lt':
      return value !== undefined && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

function insufficient(spec: PodSpecLike, allocatable: Record<string, string>, assigned: KubeObject[]): string[] {
  const reasons: string[] = [];
  const podsAllowed = parseQuantity(allocatable.pods ?? '110');
  if (assigned.length + 1 > podsAllowed) reasons.push('1 Too many pods');
  const resources = new Set<string>();
  for (const c of [
    ...((spec.containers ?? []) as ContainerWithResources[]),
    ...((spec.initContainers ?? []) as ContainerWithResources[]),
  ]) {
    for (const name of Object.keys({ ...c.resources?.requests, ...c.resources?.limits })) resources.add(name);
  }
  for (const resource of resources) {
    const wanted = podRequest(spec as never, resource);
    if (wanted <= 0) continue;
    const capacity = parseQuantity(allocatable[resource] ?? '0');
    const used = assigned.reduce((total, pod) => total + podRequest((pod.spec ?? {}) as never, resource), 0);
    // Compare in milli-units so that 0.1 + 0.2 style float noise cannot flip the decision.
    if (Math.round(wanted * 1000) > Math.round((capacity - used) * 1000)) reasons.push(`1 Insufficient ${resource}`);
  }
  return reasons;
}

interface ContainerWithResources {
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
}
