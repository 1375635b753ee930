// Key and trust stores (the reference's keyStoreFile / trustStoreFile): PKCS#12, read with
// node-forge so legacy encryptions that OpenSSL 3 refuses still work (keys forge cannot represent,
// EC and Ed25519, are handed to node:crypto as DER); and Java KeyStores (JKS), which users of a
// Java orchestrator have, read with jks-js — loaded only when a JKS file is met.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import type forgeModule from 'node-forge';
import { fieldError, readField } from './tls-material.js';

/** Contents of a key store: the private key and its certificate chain, leaf first. */
export interface KeyStoreContents {
  keyPem: string;
  certChainPem: string;
}

const JKS_MAGIC = 0xfeedfeed;

// node-forge is half a megabyte of JavaScript: loaded when a key or trust store is met, not on
// every start of the podrun command.
let forgeLoaded: typeof forgeModule | undefined;
function forge(): typeof forgeModule {
  return (forgeLoaded ??= createRequire(import.meta.url)('node-forge') as typeof forgeModule);
}

type JksEntries = Record<string, { ca?: string; cert?: string; key?: string }>;

function isJks(bytes: Buffer): boolean {
  return bytes.length >= 4 && bytes.readUInt32BE(0) === JKS_MAGIC;
}

/** Opens a JKS store: its entries as PEM (trusted certificates as `ca`, key entries as `key` + `cert`). */
function openJks(fileField: string, bytes: Buffer, passField: string, passphrase: string | undefined): JksEntries {
  const jks = createRequire(import.meta.url)('jks-js') as {
    toPem(keystore: Buffer, password: string): JksEntries;
  };
  try {
    return jks.toPem(bytes, passphrase ?? '');
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (/password|decrypt|verification/i.test(message)) {
      throw fieldError(passField, `does not open ${fileField}; check the passphrase`);
    }
    throw fieldError(fileField, 'cannot be read as a Java KeyStore (JKS)', error);
  }
}

const pemBlocks = (text: string | undefined): string[] =>
  text?.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)?.map((b) => `${b}\n`) ?? [];

function openStore(fileField: string, file: string, passField: string, passphrase: string | undefined) {
  const bytes = readField(fileField, file);
  let asn1: forgeModule.asn1.Asn1;
  try {
    asn1 = forge().asn1.fromDer(forge().util.createBuffer(bytes.toString('binary')));
  } catch (error) {
    throw fieldError(fileField, 'is not a PKCS#12 (.p12/.pfx) file', error);
  }
  try {
    return forge().pkcs12.pkcs12FromAsn1(asn1, false, passphrase ?? '');
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (/password|mac|decrypt/i.test(message)) {
      throw fieldError(passField, `does not open ${fileField}; check the passphrase`);
    }
    throw fieldError(fileField, 'cannot be read as PKCS#12', error);
  }
}

function bagsOf(p12: forgeModule.pkcs12.Pkcs12Pfx, type: string): forgeModule.pkcs12.Bag[] {
  return p12.getBags({ bagType: type })[type] ?? [];
}

function certPem(bag: forgeModule.pkcs12.Bag): string {
  if (bag.cert) return forge().pki.certificateToPem(bag.cert);
  const der = Buffer.from(forge().asn1.toDer(bag.asn1).getBytes(), 'binary');
  return new X509Certificate(der).toString();
}

function keyPem(bag: forgeModule.pkcs12.Bag): string {
  if (bag.key) return forge().pki.privateKeyToPem(bag.key);
  const der = Buffer.from(forge().asn1.toDer(bag.asn1).getBytes(), 'binary');
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/** Reads keyStoreFile: exactly one private key, with its certificate first in the chain. */
export function readKeyStore(file: string, passphrase: string | undefined): KeyStoreContents {
  const bytes = readField('keyStoreFile', file);
  let key: string;
  let certs: string[];
  if (isJks(bytes)) {
    const entries = Object.values(openJks('keyStoreFile', bytes, 'keyStorePassphrase', passphrase));
    const keyEntries = entries.filter((e) => e.key);
    if (keyEntries.length !== 1) {
      throw fieldError('keyStoreFile', `holds ${keyEntries.length} private keys; it must hold exactly one client key`);
    }
    key = createPrivateKey(keyEntries[0]!.key!).export({ type: 'pkcs8', format: 'pem' }).toString();
    certs = entries.flatMap((e) => pemBlocks(e.cert ?? e.ca));
  } else {
    const p12 = openStore('keyStoreFile', file, 'keyStorePassphrase', passphrase);
    const keys = [...bagsOf(p12, forge().pki.oids.pkcs8ShroudedKeyBag!), ...bagsOf(p12, forge().pki.oids.keyBag!)];
    if (keys.length !== 1) {
      throw fieldError('keyStoreFile', `holds ${keys.length} private keys; it must hold exactly one client key`);
    }
    key = keyPem(keys[0]!);
    certs = bagsOf(p12, forge().pki.oids.certBag!).map(certPem);
  }
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
  const bytes = readField('trustStoreFile', file);
  const certs = isJks(bytes)
    ? Object.values(openJks('trustStoreFile', bytes, 'trustStorePassphrase', passphrase)).flatMap((e) =>
        pemBlocks(e.ca ?? e.cert),
      )
    : bagsOf(openStore('trustStoreFile', file, 'trustStorePassphrase', passphrase), forge().pki.oids.certBag!).map(
        certPem,
      );
  if (!certs.length) throw fieldError('trustStoreFile', 'holds no certificates');
  return certs.join('');
}
