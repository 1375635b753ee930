// The cluster's PKI: a CA made at start, a serving certificate for 127.0.0.1/localhost and client
// certificates (CN = user, O = groups) as kube-apiserver's x509 authenticator reads them.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

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

// Node's native RSA generation is milliseconds; node-forge's pure-JS one takes seconds.
function newKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), keyPem };
}

function serialNumber(): string {
  // Positive (leading bit clear) 128-bit serial, as RFC 5280 asks.
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate, days: number): void {
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now + days * 24 * 60 * 60 * 1000);
}

/** Creates a fresh CA (`CN=podrun-kube-emulator-ca`). */
export function createClusterCa(): ClusterCa {
  const caKeys = newKeyPair();
  const caCert = forge.pki.createCertificate();
  caCert.publicKey = caKeys.publicKey;
  caCert.serialNumber = serialNumber();
  validity(caCert, 3650);
  const caSubject = [{ name: 'commonName', value: 'podrun-kube-emulator-ca' }];
  caCert.setSubject(caSubject);
  caCert.setIssuer(caSubject);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(caKeys.privateKey, forge.md.sha256.create());

  const issue = (subject: forge.pki.CertificateField[], extensions: object[]): CertificatePair => {
    const keys = newKeyPair();
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    cert.serialNumber = serialNumber();
    validity(cert, 365);
    cert.setSubject(subject);
    cert.setIssuer(caCert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
      ...extensions,
    ]);
    cert.sign(caKeys.privateKey, forge.md.sha256.create());
    return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem };
  };

  return {
    certPem: forge.pki.certificateToPem(caCert),
    keyPem: caKeys.keyPem,
    issueClientCertificate(commonName, groups = []) {
      return issue(
        [...groups.map((value) => ({ name: 'organizationName', value })), { name: 'commonName', value: commonName }],
        [
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', clientAuth: true },
        ],
      );
    },
    issueServerCertificate(dnsNames, ipAddresses) {
      return issue(
        [{ name: 'commonName', value: 'kube-apiserver' }],
        [
          { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
          { name: 'extKeyUsage', serverAuth: true },
          {
            name: 'subjectAltName',
            altNames: [...dnsNames.map((value) => ({ type: 2, value })), ...ipAddresses.map((ip) => ({ type: 7, ip }))],
          },
        ],
      );
    },
  };
}
