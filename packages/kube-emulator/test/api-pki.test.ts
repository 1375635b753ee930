// The cluster's certificates, whose DER the emulator writes itself: they must parse, chain and say
// what a kube-apiserver's say, for OpenSSL (Node's X509Certificate) as for Go's kubectl (the
// kubectl tests use them end to end).
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createClusterCa } from '../src/apiserver/tls.js';

describe('the cluster PKI', () => {
  const ca = createClusterCa();
  const caCert = new X509Certificate(ca.certPem);

  it('makes a self-signed ECDSA P-256 CA that may sign certificates', () => {
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toBe('CN=podrun-kube-emulator-ca');
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    expect(caCert.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: 'prime256v1' });
    expect(caCert.toLegacyObject().subjectaltname).toBeUndefined();
    expect(caCert.serialNumber).toMatch(/^[0-7][0-9A-F]{31}$/);
  });

  it('issues a serving certificate for the given names and IPv4 and IPv6 addresses', () => {
    const pair = ca.issueServerCertificate(['localhost', 'kubernetes.default.svc'], ['127.0.0.1', '::1', 'fd00::1:2']);
    const cert = new X509Certificate(pair.certPem);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe(
      'DNS:localhost, DNS:kubernetes.default.svc, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FD00:0:0:0:0:0:1:2',
    );
    expect(cert.checkHost('kubernetes.default.svc')).toBe('kubernetes.default.svc');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth
    expect(cert.checkPrivateKey(createPrivateKey(pair.keyPem))).toBe(true);
  });

  it('issues client certificates whose O are the groups and CN the user', () => {
    const pair = ca.issueClientCertificate('alice', ['dev', 'system:masters']);
    const cert = new X509Certificate(pair.certPem);
    expect(cert.subject.split('\n')).toEqual(['O=dev', 'O=system:masters', 'CN=alice']);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth
    expect(cert.checkPrivateKey(createPrivateKey(pair.keyPem))).toBe(true);
    // Every certificate has its own serial.
    expect(cert.serialNumber).not.toBe(new X509Certificate(ca.issueClientCertificate('alice').certPem).serialNumber);
  });
});
