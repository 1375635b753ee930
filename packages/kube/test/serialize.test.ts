// The small timestamp table that replaced client-node's ObjectSerializer: (a) it is exactly what
// client-node's own typeMap declares for the models podrun reads, so an upgrade that adds a
// timestamp fails here; (b) real answers of the embedded cluster come out the same through both.
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as models from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import type { EmbeddedCluster } from '@podrun/kube-emulator';
import type { PodrunKubePort } from '@podrun/kube';
import { fromJson, MODEL_SHAPES, type ModelName } from '../src/port/serialize.js';
import { clusterWithPort } from './support/cluster.js';

const { ObjectSerializer } = models;
const ROOTS: ModelName[] = ['V1Pod', 'CoreV1Event', 'V1PersistentVolumeClaim', 'V1Status'];

interface Attribute {
  name: string;
  baseName: string;
  type: string;
}
interface ModelClass {
  new (): object;
  discriminator?: string;
  getAttributeTypeMap(): Attribute[];
}

/**
 * client-node's typeMap is private to ObjectSerializer.js, which re-exports every model class under
 * its typeMap name; deserializing `{}` as a name yields an instance of the class the typeMap holds.
 */
function typeMapEntry(name: string): ModelClass | undefined {
  const cls = (models as Record<string, unknown>)[name] as ModelClass | undefined;
  if (typeof cls?.getAttributeTypeMap !== 'function') return undefined;
  expect(ObjectSerializer.deserialize({}, name, '')).toBeInstanceOf(cls);
  return cls;
}

const WRAPPERS = [
  ['Array<', '>', '[]'],
  ['{ [key: string]: ', '; }', '{}'],
] as const;

/** Types ObjectSerializer returns as they are (V1MicroTime is not in its typeMap: a string stays). */
const PASSED_AS_IS = ['string', 'number', 'boolean', 'any', 'IntOrString', 'V1MicroTime'];

/** `Date <path>` and `rename <path> -> <name>` for everything below `model`, from client-node's typeMap. */
function pathsFromTypeMap(model: string, prefix: string[] = [], stack: string[] = []): string[] {
  const cls = typeMapEntry(model)!;
  expect(stack, `${model} is recursive`).not.toContain(model);
  expect(cls.discriminator, `${model} is polymorphic`).toBeUndefined();
  const out: string[] = [];
  for (const a of cls.getAttributeTypeMap()) {
    const path = [...prefix, a.baseName];
    if (a.name !== a.baseName) out.push(`rename ${path.join('.')} -> ${a.name}`);
    let type = a.type;
    // Array<T> and { [key: string]: T; } hold T per item, in any nesting.
    for (let wrapped = true; wrapped; ) {
      wrapped = false;
      for (const [open, close, mark] of WRAPPERS) {
        if (!type.startsWith(open)) continue;
        type = type.slice(open.length, -close.length);
        path.push(mark);
        wrapped = true;
      }
    }
    if (type === 'Date') out.push(`Date ${path.join('.')}`);
    else if (typeMapEntry(type)) out.push(...pathsFromTypeMap(type, path, [...stack, model]));
    else expect(PASSED_AS_IS, `${model}.${a.name}: ${a.type}`).toContain(type);
  }
  return out;
}

/** The same, from podrun's table; `reached` collects the table's models on the way. */
function pathsFromTable(model: string, reached: Set<string>, prefix: string[] = []): string[] {
  const shape = MODEL_SHAPES[model];
  expect(shape, `${model} is missing from the table`).toBeDefined();
  reached.add(model);
  const out = Object.entries(shape!.renamed ?? {}).map(
    ([key, name]) => `rename ${[...prefix, key].join('.')} -> ${name}`,
  );
  for (const [key, field] of Object.entries(shape!.fields ?? {})) {
    const path = [...prefix, key];
    if (field === 'Date') out.push(`Date ${path.join('.')}`);
    else if (field.endsWith('[]')) out.push(...pathsFromTable(field.slice(0, -2), reached, [...path, '[]']));
    else out.push(...pathsFromTable(field, reached, path));
  }
  return out;
}

/** Every Date in `value`, by path, as its time. */
function dates(value: unknown, path = ''): Array<[string, number]> {
  if (value instanceof Date) return [[path, value.getTime()]];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => dates(v, path ? `${path}.${k}` : k));
}

describe('the timestamp table', () => {
  it('lists exactly the Date fields and renamed keys client-node declares below each model podrun reads', () => {
    const reached = new Set<string>();
    for (const root of ROOTS) {
      const declared = pathsFromTypeMap(root).sort();
      expect(pathsFromTable(root, reached).sort(), root).toEqual(declared);
    }
    // The walk above really reaches the timestamps the pod's lifecycle carries.
    expect(pathsFromTypeMap('V1Pod')).toContain('Date status.containerStatuses.[].state.terminated.finishedAt');
    expect(pathsFromTypeMap('V1Status')).toEqual(['rename metadata.continue -> _continue']);
    expect([...reached].sort()).toEqual(Object.keys(MODEL_SHAPES).sort());
  });
});

describe('answers of the embedded cluster', () => {
  const TOKEN = 'tok-serialize-admin';
  const NS = 'default';
  let cluster: EmbeddedCluster;
  let port: PodrunKubePort;

  beforeAll(async () => {
    ({ cluster, port } = await clusterWithPort({
      staticTokens: [{ token: TOKEN, user: 'serialize-admin', groups: ['system:masters'] }],
    }));
  });
  afterAll(async () => {
    await port?.close();
    await cluster?.stop();
  });

  /** The answer's body exactly as the API server sent it. */
  const raw = (path: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        new URL(path, cluster.url),
        { ca: cluster.caCertPem, headers: { authorization: `Bearer ${TOKEN}` } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });

  /** Both converters on their own parse of `text`: the same JSON and the same Dates. */
  function expectSame(text: string, model: ModelName): Array<[string, number]> {
    const theirs = ObjectSerializer.deserialize(JSON.parse(text), model, '') as unknown;
    const ours = fromJson<unknown>(JSON.parse(text), model);
    expect(JSON.parse(JSON.stringify(ours)), model).toEqual(JSON.parse(JSON.stringify(theirs)));
    expect(dates(ours).sort(), model).toEqual(dates(theirs).sort());
    return dates(ours);
  }

  it('a pod that ran and ended, its events, a PVC and a 404 Status', async () => {
    const pod = await port.createPod(NS, {
      metadata: { generateName: 'serialize-', labels: { suite: 'serialize' } },
      spec: {
        restartPolicy: 'Never',
        initContainers: [{ name: 'init', image: 'busybox', command: ['true'] }],
        containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo hi; exit 3'] }],
      },
    });
    const name = pod.metadata!.name!;
    await port.waitForPod(
      { namespace: NS, labelSelector: 'suite=serialize' },
      name,
      (p) => p.status?.phase === 'Failed',
    );

    const podAnswer = await raw(`/api/v1/namespaces/${NS}/pods/${name}`);
    expect(podAnswer.status).toBe(200);
    const podDates = expectSame(podAnswer.text, 'V1Pod').map(([path]) => path);
    expect(podDates).toEqual(
      expect.arrayContaining([
        'metadata.creationTimestamp',
        'status.startTime',
        'status.conditions.0.lastTransitionTime',
        'status.initContainerStatuses.0.state.terminated.finishedAt',
        'status.containerStatuses.0.state.terminated.startedAt',
        'status.containerStatuses.0.state.terminated.finishedAt',
      ]),
    );

    const events = await raw(`/api/v1/namespaces/${NS}/events?fieldSelector=involvedObject.name%3D${name}`);
    const items = (JSON.parse(events.text) as { items: unknown[] }).items;
    expect(items.length).toBeGreaterThan(0);
    for (const item of items) expect(expectSame(JSON.stringify(item), 'CoreV1Event').length).toBeGreaterThan(0);

    await port.createPersistentVolumeClaim(NS, {
      metadata: { name: 'serialize-claim' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } },
    });
    const claim = await raw(`/api/v1/namespaces/${NS}/persistentvolumeclaims/serialize-claim`);
    expect(claim.status).toBe(200);
    expect(expectSame(claim.text, 'V1PersistentVolumeClaim').map(([path]) => path)).toContain(
      'metadata.creationTimestamp',
    );

    const missing = await raw(`/api/v1/namespaces/${NS}/pods/serialize-missing`);
    expect(missing.status).toBe(404);
    expectSame(missing.text, 'V1Status');
    // A Status of a list carries `continue`, which client-node names `_continue`.
    const listed = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: { continue: 'next' },
      status: 'Failure',
    });
    expectSame(listed, 'V1Status');
    expect(fromJson<{ metadata: Record<string, unknown> }>(JSON.parse(listed), 'V1Status').metadata).toEqual({
      _continue: 'next',
    });
  });
});
