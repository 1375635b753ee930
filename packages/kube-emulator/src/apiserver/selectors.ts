// labelSelector and fieldSelector parsing and matching (apimachinery pkg/labels, pkg/fields).
import type { KubeObject } from '../contracts.js';
import { badRequest } from './status.js';
import { validateLabelValue, validateQualifiedName } from './names.js';

type LabelRequirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

/** Splits on commas that are not inside parentheses. */
function splitTerms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  out.push(current);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

function checkKey(key: string, selector: string): void {
  const errors = validateQualifiedName(key);
  if (errors.length > 0)
    throw badRequest(`unable to parse requirement: invalid label key "${key}": ${errors.join('; ')}`);
  if (!key) throw badRequest(`unable to parse requirement: found '', expected: identifier in "${selector}"`);
}

function checkValue(value: string): void {
  const errors = validateLabelValue(value);
  if (errors.length > 0) {
    throw badRequest(`unable to parse requirement: values[0]: Invalid value: "${value}": ${errors.join('; ')}`);
  }
}

/** A compiled label selector; `matches` takes the object's labels. */
export interface LabelSelector {
  matches(labels: Record<string, string> | undefined): boolean;
}

/** Parses `a=b,c!=d,e in (f,g),h notin (i),j,!k` (400 BadRequest when malformed). */
export function parseLabelSelector(selector: string | null): LabelSelector {
  const requirements: LabelRequirement[] = [];
  for (const term of splitTerms(selector ?? '')) {
    let m: RegExpExecArray | null;
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term))) {
      const values = m[3]!.split(',').map((v) => v.trim());
      checkKey(m[1]!, selector!);
      values.forEach(checkValue);
      requirements.push({ op: m[2] as 'in' | 'notin', key: m[1]!, values });
    } else if ((m = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term))) {
      checkKey(m[1]!, selector!);
      checkValue(m[3]!);
      requirements.push({ op: m[2] === '!=' ? 'neq' : 'eq', key: m[1]!, value: m[3]! });
    } else if ((m = /^!\s*([^!=\s(),]+)$/.exec(term))) {
      checkKey(m[1]!, selector!);
      requirements.push({ op: 'notexists', key: m[1]! });
    } else if ((m = /^([^!=\s(),]+)$/.exec(term))) {
      checkKey(m[1]!, selector!);
      requirements.push({ op: 'exists', key: m[1]! });
    } else {
      throw badRequest(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }
  return {
    matches(labels) {
      const l = labels ?? {};
      return requirements.every((r) => {
        const present = Object.prototype.hasOwnProperty.call(l, r.key);
        switch (r.op) {
          case 'eq':
            return present && l[r.key] === r.value;
          case 'neq':
            return !present || l[r.key] !== r.value;
          case 'in':
            return present && r.values.includes(l[r.key]!);
          case 'notin':
            return !present || !r.values.includes(l[r.key]!);
          case 'exists':
            return present;
          case 'notexists':
            return !present;
        }
      });
    },
  };
}

/** Field paths each resource supports in fieldSelector (plus metadata.name/namespace everywhere). */
const fieldGetters: Record<string, Record<string, (o: KubeObject) => string | undefined>> = {
  pods: {
    'status.phase': (o) => (o.status as { phase?: string } | undefined)?.phase,
    'spec.nodeName': (o) => (o.spec as { nodeName?: string } | undefined)?.nodeName ?? '',
    'spec.restartPolicy': (o) => (o.spec as { restartPolicy?: string } | undefined)?.restartPolicy,
    'spec.serviceAccountName': (o) => (o.spec as { serviceAccountName?: string } | undefined)?.serviceAccountName,
    'status.podIP': (o) => (o.status as { podIP?: string } | undefined)?.podIP ?? '',
  },
  events: {
    'involvedObject.kind': (o) => (o.involvedObject as Record<string, string> | undefined)?.kind,
    'involvedObject.name': (o) => (o.involvedObject as Record<string, string> | undefined)?.name,
    'involvedObject.namespace': (o) => (o.involvedObject as Record<string, string> | undefined)?.namespace,
    'involvedObject.uid': (o) => (o.involvedObject as Record<string, string> | undefined)?.uid,
    'involvedObject.fieldPath': (o) => (o.involvedObject as Record<string, string> | undefined)?.fieldPath,
    'involvedObject.resourceVersion': (o) => (o.involvedObject as Record<string, string> | undefined)?.resourceVersion,
    'involvedObject.apiVersion': (o) => (o.involvedObject as Record<string, string> | undefined)?.apiVersion,
    reason: (o) => o.reason as string | undefined,
    type: (o) => o.type as string | undefined,
    source: (o) => (o.source as { component?: string } | undefined)?.component,
    reportingComponent: (o) => o.reportingComponent as string | undefined,
  },
  namespaces: { 'status.phase': (o) => (o.status as { phase?: string } | undefined)?.phase },
  secrets: { type: (o) => o.type as string | undefined },
};

/** A compiled field selector. */
export interface FieldSelector {
  matches(object: KubeObject): boolean;
}

/** Parses `metadata.name=x,status.phase!=Running` for a resource (400 for unsupported fields, as the server says). */
export function parseFieldSelector(selector: string | null, resource: string): FieldSelector {
  const tests: ((o: KubeObject) => boolean)[] = [];
  for (const term of splitTerms(selector ?? '')) {
    const m = /^([^!=\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = m[1]!;
    const wanted = m[3]!;
    const getter =
      field === 'metadata.name'
        ? (o: KubeObject) => o.metadata.name
        : field === 'metadata.namespace'
          ? (o: KubeObject) => o.metadata.namespace ?? ''
          : fieldGetters[resource]?.[field];
    if (!getter) {
      throw badRequest(`field label not supported: ${field}`);
    }
    const negate = m[2] === '!=';
    tests.push((o) => ((getter(o) ?? '') === wanted) !== negate);
  }
  return { matches: (o) => tests.every((t) => t(o)) };
}
