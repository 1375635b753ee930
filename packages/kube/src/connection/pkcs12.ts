// PKCS#12 key and trust stores (the reference's keyStoreFile / trustStoreFile), read with
// node-forge so legacy encryptions that OpenSSL 3 refuses still work. Keys forge cannot
// represent (EC, Ed25519) are handed to node:crypto as DER.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { fieldError, readField } from './tls-material.js';

/** Contents of a key store: the private key and its certificate chain, leaf first. */
export interface KeyStoreContents {
  keyPem: string;
  certChainPem: string;
}

const JKS_MAGIC = 0xfeedfeed;

function openStore(fileField: string, file: string, passField: string, passphrase: string | undefined) {
  const bytes = readField(fileField, file);
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === JKS_MAGIC) {
    throw fieldError(
      fileField,
      'is a Java KeyStore (JKS), not PKCS#12; convert it with ' +
        '`keytool -importkeystore -srckeystore FILE -destkeystore FILE.p12 -deststoretype pkcs12`',
    );
  }
  let asn1: forge.asn1.Asn1;
  try {
    asn1 = forge.asn1.fromDer(forge.util.createBuffer(bytes.toString('binary')));
  } catch (error) {
    throw fieldError(fileField, 'is not a PKCS#12 (.p12/.pfx) file', error);
  }
  try {
    return forge.pkcs12.pkcs12FromAsn1(asn1, false, passphrase ?? '');
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (/password|mac|decrypt/i.test(message)) {
      throw fieldError(passField, `does not open ${fileField}; check the passphrase`);
    }
    throw fieldError(fileField, 'cannot be read as PKCS#12', error);
  }
}

function bagsOf(p12: forge.pkcs12.Pkcs12Pfx, type: string): forge.pkcs12.Bag[] {
  return p12.getBags({ bagType: type })[type] ?? [];
}

function certPem(bag: forge.pkcs12.Bag): string {
  if (bag.cert) return forge.pki.certificateToPem(bag.cert);
  const der = Buffer.from(forge.asn1.toDer(bag.asn1).getBytes(), 'binary');
  return new X509Certificate(der).toString();
}

function keyPem(bag: forge.pkcs12.Bag): string {
  if (bag.key) return forge.pki.privateKeyToPem(bag.key);
  const der = Buffer.from(forge.asn1.toDer(bag.asn1).getBytes(), 'binary');
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/** Reads keyStoreFile: exactly one private key, with its certificate first in the chain. */
export function readKeyStore(file: string, passphrase: string | undefined): KeyStoreContents {
  const p12 = openStore('keyStoreFile', file, 'keyStorePassphrase', passphrase);
  const keys = [...bagsOf(p12, forge.pki.oids.pkcs8ShroudedKeyBag!), ...bagsOf(p12, forge.pki.oids.keyBag!)];
  if (keys.length !== 1) {
    throw fieldError('keyStoreFile', `holds ${keys.length} private keys; it must hold exactly one client key`);
  }
  const key = keyPem(keys[0]!);
  const certs = bagsOf(p12, forge.pki.oids.certBag!).map(certPem);
  const keyObject = createPrivateKey(key);
  const leafIndex = certs.findIndex((pem) => new X509Certificate(pem).checkPrivateKey(keyObject));
  if (leafIndex < 0) {
    throw fieldError('keyStoreFile', 'holds no certificate for its private key; export the key with its certificate');
  }
  const chain = [certs[leafIndex]!, ...certs.filter((_, i) => i !== leafIndex)];
  return { keyPem: key, certChainPem: chain.join('') };
}

/** Reads trustStoreFile: every certificate in it becomes a trusted CA. */
export function readTrustStore(file: string, passphrase: string | undefined): string {
  const p12 = openStore('trustStoreFile', file, 'trustStorePassphrase', passphrase);
  const certs = bagsOf(p12, forge.pki.oids.certBag!).map(certPem);
  if (!certs.length) throw fieldError('trustStoreFile', 'holds no certificates');
  return certs.join('');
}
