// Object validation as pkg/apis/core/validation does it, for the fields podrun and kubectl use.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../contracts.js';
import { fieldErrors as fe } from './field-errors.js';
import type { FieldError } from './field-errors.js';
import {
  validateDns1123Label,
  validateDns1123Subdomain,
  validateLabelValue,
  validatePathSegmentName,
  validateQualifiedName,
} from './names.js';

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const asArr = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/** Which name rule a resource uses (ValidateObjectMeta's nameFn). */
export type NameRule = 'subdomain' | 'label' | 'path-segment';

/** ValidateObjectMeta: name/generateName, labels, annotations. */
export function validateObjectMeta(object: KubeObject, nameRule: NameRule): FieldError[] {
  const errs: FieldError[] = [];
  const meta = object.metadata;
  const check =
    nameRule === 'label'
      ? validateDns1123Label
      : nameRule === 'subdomain'
        ? validateDns1123Subdomain
        : validatePathSegmentName;
  if (!meta.name) {
    if (!meta.generateName) errs.push(fe.required('metadata.name', 'name or generateName is required'));
  } else {
    for (const msg of check(meta.name)) errs.push(fe.invalid('metadata.name', meta.name, msg));
  }
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    for (const msg of validateQualifiedName(key)) errs.push(fe.invalid('metadata.labels', key, msg));
    for (const msg of validateLabelValue(String(value))) errs.push(fe.invalid('metadata.labels', value, msg));
  }
  let annotationBytes = 0;
  for (const [key, value] of Object.entries(meta.annotations ?? {})) {
    for (const msg of validateQualifiedName(key.toLowerCase())) errs.push(fe.invalid('metadata.annotations', key, msg));
    annotationBytes += key.length + String(value).length;
  }
  if (annotationBytes > 256 * 1024) {
    errs.push({
      reason: 'FieldValueTooLong',
      field: 'metadata.annotations',
      message: `Too long: may not be more than 262144 bytes`,
    });
  }
  return errs;
}

const restartPolicies = ['Always', 'OnFailure', 'Never'];
const pullPolicies = ['Always', 'IfNotPresent', 'Never'];
const messagePolicies = ['File', 'FallbackToLogsOnError'];
const volumeSources = [
  'emptyDir',
  'hostPath',
  'persistentVolumeClaim',
  'configMap',
  'secret',
  'downwardAPI',
  'projected',
  'ephemeral',
  'nfs',
  'csi',
  'image',
];

function validateVolumes(volumes: Obj[]): { errs: FieldError[]; names: Set<string> } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  volumes.forEach((volume, i) => {
    const path = `spec.volumes[${i}]`;
    const name = volume.name as string | undefined;
    if (!name) errs.push(fe.required(`${path}.name`));
    else {
      for (const msg of validateDns1123Label(name)) errs.push(fe.invalid(`${path}.name`, name, msg));
      if (names.has(name)) errs.push(fe.duplicate(`${path}.name`, name));
      names.add(name);
    }
    const sources = volumeSources.filter((s) => volume[s] !== undefined && volume[s] !== null);
    if (sources.length === 0) errs.push(fe.required(path, 'must specify a volume type'));
    for (const extra of sources.slice(1))
      errs.push(fe.forbidden(`${path}.${extra}`, 'may not specify more than 1 volume type'));
    const claim = asObj(volume.persistentVolumeClaim);
    if (volume.persistentVolumeClaim !== undefined && !claim.claimName) {
      errs.push(fe.required(`${path}.persistentVolumeClaim.claimName`));
    }
    for (const kind of ['configMap', 'secret'] as const) {
      const source = asObj(volume[kind]);
      const key = kind === 'configMap' ? 'name' : 'secretName';
      if (volume[kind] !== undefined && !source[key] && kind === 'secret')
        errs.push(fe.required(`${path}.secret.secretName`));
    }
  });
  return { errs, names };
}

function validateContainers(
  list: Obj[],
  field: string,
  volumeNames: Set<string>,
  containerNames: Set<string>,
): FieldError[] {
  const errs: FieldError[] = [];
  list.forEach((container, i) => {
    const path = `${field}[${i}]`;
    const name = container.name as string | undefined;
    if (!name) errs.push(fe.required(`${path}.name`));
    else {
      for (const msg of validateDns1123Label(name)) errs.push(fe.invalid(`${path}.name`, name, msg));
      if (containerNames.has(name)) errs.push(fe.duplicate(`${path}.name`, name));
      containerNames.add(name);
    }
    if (!container.image || String(container.image).trim() === '') errs.push(fe.required(`${path}.image`));
    if (container.imagePullPolicy !== undefined && !pullPolicies.includes(container.imagePullPolicy as string)) {
      errs.push(fe.notSupported(`${path}.imagePullPolicy`, container.imagePullPolicy, pullPolicies));
    }
    if (
      container.terminationMessagePolicy !== undefined &&
      !messagePolicies.includes(container.terminationMessagePolicy as string)
    ) {
      errs.push(
        fe.notSupported(`${path}.terminationMessagePolicy`, container.terminationMessagePolicy, messagePolicies),
      );
    }
    const mountPaths = new Set<string>();
    asArr(container.volumeMounts).forEach((mount, j) => {
      const mpath = `${path}.volumeMounts[${j}]`;
      const vname = mount.name as string | undefined;
      if (!vname) errs.push(fe.required(`${mpath}.name`));
      else if (!volumeNames.has(vname)) errs.push(fe.notFound(`${mpath}.name`, vname));
      const mountPath = mount.mountPath as string | undefined;
      if (!mountPath) errs.push(fe.required(`${mpath}.mountPath`));
      else {
        if (mountPaths.has(mountPath)) errs.push(fe.invalid(`${mpath}.mountPath`, mountPath, 'must be unique'));
        mountPaths.add(mountPath);
      }
      const sub = mount.subPath as string | undefined;
      if (sub && (sub.startsWith('/') || sub.split('/').includes('..'))) {
        errs.push(fe.invalid(`${mpath}.subPath`, sub, "must be a relative path without '..'"));
      }
    });
    asArr(container.env).forEach((env, j) => {
      if (!env.name) errs.push(fe.required(`${path}.env[${j}].name`));
    });
    // Container restartPolicy marks a native sidecar: init containers only, and only Always.
    if (container.restartPolicy !== undefined) {
      if (field !== 'spec.initContainers')
        errs.push(fe.forbidden(`${path}.restartPolicy`, 'may not be set for non-init containers'));
      else if (container.restartPolicy !== 'Always')
        errs.push(fe.notSupported(`${path}.restartPolicy`, container.restartPolicy, ['Always']));
    }
  });
  return errs;
}

/** ValidatePodCreate (spec part; metadata is checked by validateObjectMeta). */
export function validatePodSpec(pod: KubeObject): FieldError[] {
  const spec = asObj(pod.spec);
  const errs: FieldError[] = [];
  const { errs: volumeErrs, names } = validateVolumes(asArr(spec.volumes));
  errs.push(...volumeErrs);
  const containerNames = new Set<string>();
  errs.push(...validateContainers(asArr(spec.initContainers), 'spec.initContainers', names, containerNames));
  if (asArr(spec.containers).length === 0) errs.push(fe.required('spec.containers'));
  errs.push(...validateContainers(asArr(spec.containers), 'spec.containers', names, containerNames));
  if (spec.restartPolicy !== undefined && !restartPolicies.includes(spec.restartPolicy as string)) {
    errs.push(fe.notSupported('spec.restartPolicy', spec.restartPolicy, restartPolicies));
  }
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined && deadline !== null && (typeof deadline !== 'number' || deadline < 1)) {
    errs.push(fe.invalid('spec.activeDeadlineSeconds', deadline, 'must be between 1 and 2147483647, inclusive'));
  }
  const grace = spec.terminationGracePeriodSeconds;
  if (typeof grace === 'number' && grace < 0) {
    errs.push(fe.invalid('spec.terminationGracePeriodSeconds', grace, 'must be greater than or equal to 0'));
  }
  if (spec.serviceAccountName) {
    for (const msg of validateDns1123Subdomain(spec.serviceAccountName as string)) {
      errs.push(fe.invalid('spec.serviceAccountName', spec.serviceAccountName, msg));
    }
  }
  for (const [key, value] of Object.entries(asObj(spec.nodeSelector))) {
    for (const msg of validateQualifiedName(key)) errs.push(fe.invalid('spec.nodeSelector', key, msg));
    for (const msg of validateLabelValue(String(value))) errs.push(fe.invalid('spec.nodeSelector', value, msg));
  }
  return errs;
}

/** ValidatePodUpdate: only images, activeDeadlineSeconds and tolerations may change in the spec. */
export function validatePodSpecUpdate(next: KubeObject, old: KubeObject): FieldError[] {
  const strip = (pod: KubeObject): Obj => {
    const spec = structuredClone(asObj(pod.spec));
    for (const key of ['containers', 'initContainers']) {
      for (const c of asArr(spec[key])) delete c.image;
    }
    delete spec.activeDeadlineSeconds;
    delete spec.tolerations;
    return spec;
  };
  if (isDeepStrictEqual(strip(next), strip(old))) return [];
  return [
    fe.forbidden(
      'spec',
      'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    ),
  ];
}

const accessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];

/** ValidatePersistentVolumeClaim (spec). */
export function validateClaimSpec(claim: KubeObject): FieldError[] {
  const spec = asObj(claim.spec);
  const errs: FieldError[] = [];
  const modes = Array.isArray(spec.accessModes) ? (spec.accessModes as string[]) : [];
  if (modes.length === 0) errs.push(fe.required('spec.accessModes', 'at least 1 access mode is required'));
  for (const mode of modes)
    if (!accessModes.includes(mode)) errs.push(fe.notSupported('spec.accessModes', mode, accessModes));
  const storage = asObj(asObj(spec.resources).requests).storage;
  if (storage === undefined) errs.push(fe.required('spec.resources[storage]'));
  return errs;
}

/** RBAC: binding roleRef and subjects. */
export function validateBinding(binding: KubeObject, clusterScoped: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = asObj(binding.roleRef);
  const kinds = clusterScoped ? ['ClusterRole'] : ['ClusterRole', 'Role'];
  if (ref.apiGroup !== 'rbac.authorization.k8s.io') {
    errs.push(fe.notSupported('roleRef.apiGroup', ref.apiGroup ?? '', ['rbac.authorization.k8s.io']));
  }
  if (!kinds.includes(ref.kind as string)) errs.push(fe.notSupported('roleRef.kind', ref.kind ?? '', kinds));
  if (!ref.name) errs.push(fe.required('roleRef.name'));
  asArr(binding.subjects).forEach((s, i) => {
    if (!['User', 'Group', 'ServiceAccount'].includes(s.kind as string)) {
      errs.push(fe.notSupported(`subjects[${i}].kind`, s.kind ?? '', ['Group', 'ServiceAccount', 'User']));
    }
    if (!s.name) errs.push(fe.required(`subjects[${i}].name`));
    if (s.kind === 'ServiceAccount' && clusterScoped && !s.namespace)
      errs.push(fe.required(`subjects[${i}].namespace`));
  });
  return errs;
}

/** RBAC: every rule needs verbs, and either resources+apiGroups or nonResourceURLs. */
export function validateRules(role: KubeObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  asArr(role.rules).forEach((rule, i) => {
    const path = `rules[${i}]`;
    if (asArr(rule.verbs).length === 0)
      errs.push(fe.required(`${path}.verbs`, 'verbs must contain at least one value'));
    const nonResource = asArr(rule.nonResourceURLs).length > 0;
    if (nonResource && namespaced) {
      errs.push(
        fe.invalid(
          `${path}.nonResourceURLs`,
          rule.nonResourceURLs,
          'namespaced rules cannot apply to non-resource URLs',
        ),
      );
    }
    if (!nonResource) {
      if (asArr(rule.apiGroups).length === 0)
        errs.push(fe.required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
      if (asArr(rule.resources).length === 0)
        errs.push(fe.required(`${path}.resources`, 'resource rules must supply at least one resource'));
    }
  });
  return errs;
}

const keyRe = /^[-._a-zA-Z0-9]+$/;

/** ConfigMap and Secret data keys (IsConfigMapKey). */
export function validateDataKeys(object: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const field of ['data', 'binaryData', 'stringData']) {
    for (const key of Object.keys(asObj(object[field]))) {
      if (!keyRe.test(key) || key === '.' || key === '..' || key.length > 253) {
        errs.push(
          fe.invalid(
            `${field}[${key}]`,
            key,
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
          ),
        );
      }
    }
  }
  return errs;
}
