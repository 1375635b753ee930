// The cluster's PKI: a CA made at start, a serving certificate for 127.0.0.1/localhost and client
// certificates (CN = user, O = groups) as kube-apiserver's x509 authenticator reads them.
//
// Keys are ECDSA P-256, as k3s makes them by default and kubeadm with `encryptionAlgorithm:
// ECDSA-P256`: a key takes well under a millisecond, where an RSA-2048 key took 30-300 ms (its
// prime search) and three of them were most of a cluster's start. Node can sign but not build a
// certificate, so the few DER structures X.509 needs are written by hand below (RFC 5280).
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** A PEM certificate and its PEM private key. */
export interface CertificatePair {
  certPem: string;
  keyPem: string;
}

/** The cluster CA, able to sign further certificates. */
export interface ClusterCa extends CertificatePair {
  /** Signs a client certificate: CN = user name, one O per group. */
  issueClientCertificate(commonName: string, groups?: string[]): CertificatePair;
  /** Signs a serving certificate for these host names and IP addresses. */
  issueServerCertificate(dnsNames: string[], ipAddresses: string[]): CertificatePair;
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organizationName: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

// --- DER, just what certificates use ------------------------------------------------------------

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  let length: Buffer;
  if (body.length < 0x80) length = Buffer.from([body.length]);
  else {
    const bytes: number[] = [];
    for (let n = body.length; n > 0; n >>= 8) bytes.unshift(n & 0xff);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

const sequence = (...items: Buffer[]): Buffer => tlv(0x30, ...items);
const set = (...items: Buffer[]): Buffer => tlv(0x31, ...items);
const octetString = (bytes: Buffer): Buffer => tlv(0x04, bytes);
const utf8String = (text: string): Buffer => tlv(0x0c, Buffer.from(text, 'utf8'));
const TRUE = tlv(0x01, Buffer.from([0xff]));
/** A BIT STRING of whole bytes. */
const bitString = (bytes: Buffer, unusedBits = 0): Buffer => tlv(0x03, Buffer.from([unusedBits]), bytes);
/** Context-specific tag `n`: constructed (EXPLICIT) or primitive (IMPLICIT of a primitive). */
const explicit = (n: number, ...items: Buffer[]): Buffer => tlv(0xa0 | n, ...items);
const implicit = (n: number, bytes: Buffer): Buffer => tlv(0x80 | n, bytes);

function objectId(id: string): Buffer {
  const [first, second, ...rest] = id.split('.').map(Number);
  const bytes = [first! * 40 + second!];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let n = arc; ; n = Math.floor(n / 128)) {
      groups.unshift(n % 128 | (groups.length ? 0x80 : 0));
      if (n < 128) break;
    }
    bytes.push(...groups);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime `YYMMDDHHMMSSZ` (RFC 5280 4.1.2.5.1: dates before 2050). */
function utcTime(date: Date): Buffer {
  return tlv(0x17, Buffer.from(`${date.toISOString().slice(2, 19).replace(/[-T:]/g, '')}Z`, 'ascii'));
}

// --- Certificates --------------------------------------------------------------------------------

/** A Name: one RDN per attribute, in order (O before CN, as Kubernetes' own certificates). */
function name(attributes: { oid: string; value: string }[]): Buffer {
  return sequence(...attributes.map(({ oid, value }) => set(sequence(objectId(oid), utf8String(value)))));
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectId(oid), ...(critical ? [TRUE] : []), octetString(value));
}

/** KeyUsage as a named bit list: trailing zero bits are not encoded (DER). */
function keyUsage(bits: { digitalSignature?: boolean; keyCertSign?: boolean; cRLSign?: boolean }): Buffer {
  const byte = (bits.digitalSignature ? 0x80 : 0) | (bits.keyCertSign ? 0x04 : 0) | (bits.cRLSign ? 0x02 : 0);
  let unused = 0;
  while (unused < 7 && !(byte & (1 << unused))) unused++;
  return bitString(Buffer.from([byte]), unused);
}

/** A positive 128-bit serial in minimal DER (RFC 5280 4.1.2.2). */
function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return tlv(0x02, bytes);
}

function ipAddress(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  const [head, tail = ''] = ip.split('::');
  const groups = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = groups(head!);
  const right = ip.includes('::') ? groups(tail) : [];
  const all = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return Buffer.from(all.flatMap((g) => [g >> 8, g & 0xff]));
}

interface KeyPair {
  privateKey: KeyObject;
  /** SubjectPublicKeyInfo, DER. */
  spki: Buffer;
  /** RFC 5280's key identifier: SHA-1 of the public key's bits (the 65-byte P-256 point). */
  keyId: Buffer;
}

function newKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  return {
    privateKey,
    spki,
    keyId: createHash('sha1')
      .update(spki.subarray(spki.length - 65))
      .digest(),
  };
}

const signatureAlgorithm = sequence(objectId(OID.ecdsaWithSha256));

/** A signed X.509 v3 certificate, PEM. */
function certificate(options: {
  subject: Buffer;
  issuer: Buffer;
  spki: Buffer;
  signer: KeyObject;
  days: number;
  extensions: Buffer[];
}): string {
  const now = Date.now();
  const tbs = sequence(
    explicit(0, tlv(0x02, Buffer.from([2]))), // v3
    serialNumber(),
    signatureAlgorithm,
    options.issuer,
    sequence(utcTime(new Date(now - 60 * 60 * 1000)), utcTime(new Date(now + options.days * 24 * 60 * 60 * 1000))),
    options.subject,
    options.spki,
    explicit(3, sequence(...options.extensions)),
  );
  // Node's ECDSA signature is DER (r, s), as X.509 carries it.
  const der = sequence(tbs, signatureAlgorithm, bitString(sign('sha256', tbs, options.signer)));
  const lines = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`;
}

const pemOf = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();

/** Creates a fresh CA (`CN=podrun-kube-emulator-ca`). */
export function createClusterCa(): ClusterCa {
  const caKeys = newKeyPair();
  const caName = name([{ oid: OID.commonName, value: 'podrun-kube-emulator-ca' }]);
  const caCertPem = certificate({
    subject: caName,
    issuer: caName,
    spki: caKeys.spki,
    signer: caKeys.privateKey,
    days: 3650,
    extensions: [
      extension(OID.basicConstraints, true, sequence(TRUE)),
      extension(OID.keyUsage, true, keyUsage({ digitalSignature: true, keyCertSign: true, cRLSign: true })),
      extension(OID.subjectKeyIdentifier, false, octetString(caKeys.keyId)),
    ],
  });

  const issue = (subject: Buffer, purpose: string, more: Buffer[] = []): CertificatePair => {
    const keys = newKeyPair();
    const certPem = certificate({
      subject,
      issuer: caName,
      spki: keys.spki,
      signer: caKeys.privateKey,
      days: 365,
      extensions: [
        extension(OID.basicConstraints, true, sequence()),
        extension(OID.keyUsage, true, keyUsage({ digitalSignature: true })),
        extension(OID.extKeyUsage, false, sequence(objectId(purpose))),
        extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, caKeys.keyId))),
        ...more,
      ],
    });
    return { certPem, keyPem: pemOf(keys.privateKey) };
  };

  return {
    certPem: caCertPem,
    keyPem: pemOf(caKeys.privateKey),
    issueClientCertificate(commonName, groups = []) {
      return issue(
        name([
          ...groups.map((value) => ({ oid: OID.organizationName, value })),
          { oid: OID.commonName, value: commonName },
        ]),
        OID.clientAuth,
      );
    },
    issueServerCertificate(dnsNames, ipAddresses) {
      const altNames = [
        ...dnsNames.map((dns) => implicit(2, Buffer.from(dns, 'ascii'))),
        ...ipAddresses.map((ip) => implicit(7, ipAddress(ip))),
      ];
      return issue(name([{ oid: OID.commonName, value: 'kube-apiserver' }]), OID.serverAuth, [
        extension(OID.subjectAltName, false, sequence(...altNames)),
      ]);
    },
  };
}
