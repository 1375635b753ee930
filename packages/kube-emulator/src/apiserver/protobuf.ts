// Decoding of `application/vnd.kubernetes.protobuf` request bodies. kubectl's typed clients
// (create namespace/serviceaccount/secret/configmap/role/rolebinding, create token, auth can-i,
// auth whoami) send protobuf and never fall back to JSON, so the object types they send are
// decoded here into the JSON shape. Field numbers are those of k8s.io/api generated.proto.
import { badRequest } from './status.js';

type Kind = 'string' | 'bytes' | 'int' | 'bool' | Schema | { repeated: Kind } | { map: 'string' | 'bytes' };
interface Schema {
  [field: number]: [string, Kind];
}

const str = 'string' as const;
const objectMeta: Schema = {
  1: ['name', str],
  2: ['generateName', str],
  3: ['namespace', str],
  5: ['uid', str],
  6: ['resourceVersion', str],
  11: ['labels', { map: 'string' }],
  12: ['annotations', { map: 'string' }],
  14: ['finalizers', { repeated: str }],
};
const policyRule: Schema = {
  1: ['verbs', { repeated: str }],
  2: ['apiGroups', { repeated: str }],
  3: ['resources', { repeated: str }],
  4: ['resourceNames', { repeated: str }],
  5: ['nonResourceURLs', { repeated: str }],
};
const subject: Schema = { 1: ['kind', str], 2: ['apiGroup', str], 3: ['name', str], 4: ['namespace', str] };
const roleRef: Schema = { 1: ['apiGroup', str], 2: ['kind', str], 3: ['name', str] };
const binding: Schema = {
  1: ['metadata', objectMeta],
  2: ['subjects', { repeated: subject }],
  3: ['roleRef', roleRef],
};
const role: Schema = { 1: ['metadata', objectMeta], 2: ['rules', { repeated: policyRule }] };
const localRef: Schema = { 1: ['name', str] };
const resourceAttributes: Schema = {
  1: ['namespace', str],
  2: ['verb', str],
  3: ['group', str],
  4: ['version', str],
  5: ['resource', str],
  6: ['subresource', str],
  7: ['name', str],
};

const schemas: Record<string, Schema> = {
  Namespace: { 1: ['metadata', objectMeta], 2: ['spec', { 1: ['finalizers', { repeated: str }] }] },
  ServiceAccount: {
    1: ['metadata', objectMeta],
    2: ['secrets', { repeated: { 1: ['kind', str], 2: ['namespace', str], 3: ['name', str] } }],
    3: ['imagePullSecrets', { repeated: localRef }],
    4: ['automountServiceAccountToken', 'bool'],
  },
  ConfigMap: {
    1: ['metadata', objectMeta],
    2: ['data', { map: 'string' }],
    3: ['binaryData', { map: 'bytes' }],
    4: ['immutable', 'bool'],
  },
  Secret: {
    1: ['metadata', objectMeta],
    2: ['data', { map: 'bytes' }],
    3: ['type', str],
    4: ['stringData', { map: 'string' }],
    5: ['immutable', 'bool'],
  },
  Role: role,
  ClusterRole: role,
  RoleBinding: binding,
  ClusterRoleBinding: binding,
  SelfSubjectAccessReview: {
    1: ['metadata', objectMeta],
    2: [
      'spec',
      {
        1: ['resourceAttributes', resourceAttributes],
        2: ['nonResourceAttributes', { 1: ['path', str], 2: ['verb', str] }],
      },
    ],
  },
  SelfSubjectRulesReview: { 1: ['metadata', objectMeta], 2: ['spec', { 1: ['namespace', str] }] },
  SelfSubjectReview: { 1: ['metadata', objectMeta] },
  TokenRequest: {
    1: ['metadata', objectMeta],
    2: [
      'spec',
      {
        1: ['audiences', { repeated: str }],
        3: ['boundObjectRef', { 1: ['kind', str], 2: ['apiVersion', str], 3: ['name', str], 4: ['uid', str] }],
        4: ['expirationSeconds', 'int'],
      },
    ],
  },
};

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  }
  bytes(): Buffer {
    const length = this.varint();
    if (this.pos + length > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
  }
}

function decodeMessage(buf: Buffer, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const reader = new Reader(buf);
  while (!reader.done()) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    const entry = schema[field];
    if (!entry) {
      reader.skip(wireType);
      continue;
    }
    const [name, kind] = entry;
    if (typeof kind === 'object' && 'repeated' in kind) {
      const list = (out[name] as unknown[] | undefined) ?? [];
      list.push(decodeValue(reader, wireType, kind.repeated));
      out[name] = list;
    } else if (typeof kind === 'object' && 'map' in kind) {
      const pair = decodeMessage(reader.bytes(), { 1: ['key', str], 2: ['value', kind.map] });
      const map = (out[name] as Record<string, unknown> | undefined) ?? {};
      map[String(pair.key ?? '')] = pair.value ?? (kind.map === 'bytes' ? '' : '');
      out[name] = map;
    } else {
      const value = decodeValue(reader, wireType, kind);
      // gogo-protobuf writes empty strings that JSON (omitempty) would leave out.
      if (value !== '') out[name] = value;
    }
  }
  return out;
}

function decodeValue(reader: Reader, wireType: number, kind: Kind): unknown {
  if (kind === 'int') return reader.varint();
  if (kind === 'bool') return reader.varint() !== 0;
  if (wireType !== 2) throw new Error('length-delimited field expected');
  const bytes = reader.bytes();
  if (kind === 'string') return bytes.toString('utf8');
  if (kind === 'bytes') return bytes.toString('base64');
  return decodeMessage(bytes, kind as Schema);
}

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a `k8s\0`-prefixed runtime.Unknown envelope into a JSON object with apiVersion and kind. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(magic))
    throw badRequest('protobuf body does not start with the k8s magic');
  try {
    const envelope = decodeMessage(body.subarray(4), {
      1: ['typeMeta', { 1: ['apiVersion', str], 2: ['kind', str] }],
      2: ['raw', 'bytes'],
    }) as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: string };
    const kind = envelope.typeMeta?.kind ?? '';
    const schema = schemas[kind];
    if (!schema) {
      throw badRequest(`the podrun kube-emulator cannot decode protobuf ${kind || 'objects'}; send application/json`);
    }
    const object = decodeMessage(Buffer.from(envelope.raw ?? '', 'base64'), schema);
    return { apiVersion: envelope.typeMeta?.apiVersion, kind, ...object, metadata: object.metadata ?? {} };
  } catch (error) {
    if (error instanceof Error && 'status' in error) throw error;
    throw badRequest(`error decoding protobuf body: ${(error as Error).message}`);
  }
}
