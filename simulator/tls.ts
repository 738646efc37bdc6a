/**
 * A throwaway CA and a kubelet serving certificate signed by it (ECDSA P-256), so scrapers can
 * verify kubelet TLS against the CA exactly as they would in a real cluster.
 */
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type KeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const VALIDITY_MS = 31 * 86_400_000;

export interface GeneratedTls {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** A client certificate from the same CA, when a client common name was asked for. */
  readonly client?: { certPem: string; keyPem: string };
}

function pem(label: string, der: ArrayBuffer): string {
  const base64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${base64}\n-----END ${label}-----\n`;
}

/**
 * A throwaway CA that issues kubelet serving certificates, each valid only for its own addresses
 * and names, as a real kubelet's is. All serving certificates share one key pair (generating a
 * key per node would cost seconds at 10,000 nodes and changes nothing a scraper sees).
 */
export class SimulatorCa {
  private constructor(
    readonly caPem: string,
    /** The serving certificates' private key (PKCS#8 PEM). */
    readonly servingKeyPem: string,
    private readonly caKeys: KeyPair,
    private readonly servingKeys: KeyPair,
    private readonly ca: x509.X509Certificate,
    private readonly authorityKeyId: x509.AuthorityKeyIdentifierExtension,
  ) {}

  private serial = 1;

  static async create(): Promise<SimulatorCa> {
    const notBefore = new Date(Date.now() - 3_600_000);
    const caKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as KeyPair;
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=Podometer simulator CA',
      notBefore,
      notAfter: new Date(notBefore.getTime() + VALIDITY_MS),
      signingAlgorithm: ALGORITHM,
      keys: caKeys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
      ],
    });
    const servingKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as KeyPair;
    const servingKeyPem = pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', servingKeys.privateKey));
    return new SimulatorCa(ca.toString('pem') + '\n', servingKeyPem, caKeys, servingKeys, ca, await x509.AuthorityKeyIdentifierExtension.create(ca));
  }

  /** A serving certificate (PEM) for `ipAddresses` and `dnsNames`, with the shared serving key. */
  async issueServing(commonName: string, ipAddresses: readonly string[], dnsNames: readonly string[]): Promise<string> {
    const cert = await this.issue(`CN=${commonName}`, this.servingKeys.publicKey, [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...ipAddresses.map((value) => ({ type: 'ip' as const, value })),
        ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
      ]),
    ]);
    return cert.toString('pem') + '\n';
  }

  /** A client certificate and its own key (PEM) for `commonName`. */
  async issueClient(commonName: string): Promise<{ certPem: string; keyPem: string }> {
    const clientKeys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as KeyPair;
    const cert = await this.issue(`CN=${commonName}`, clientKeys.publicKey, [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ]);
    const keyDer = await webcrypto.subtle.exportKey('pkcs8', clientKeys.privateKey);
    return { certPem: cert.toString('pem') + '\n', keyPem: pem('PRIVATE KEY', keyDer) };
  }

  private issue(subject: string, publicKey: webcrypto.CryptoKey, extensions: x509.Extension[]): Promise<x509.X509Certificate> {
    this.serial++;
    const notBefore = new Date(Date.now() - 3_600_000);
    return x509.X509CertificateGenerator.create({
      serialNumber: this.serial.toString(16).padStart(2, '0'),
      subject,
      issuer: this.ca.subject,
      notBefore,
      notAfter: new Date(notBefore.getTime() + VALIDITY_MS),
      signingAlgorithm: ALGORITHM,
      publicKey,
      signingKey: this.caKeys.privateKey,
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true), ...extensions, this.authorityKeyId],
    });
  }
}

/** A CA and one server certificate valid for `ipAddresses` and `dnsNames` (and a client one when asked). */
export async function generateServingTls(ipAddresses: readonly string[], dnsNames: readonly string[], clientCommonName?: string): Promise<GeneratedTls> {
  const ca = await SimulatorCa.create();
  const generated = { caPem: ca.caPem, certPem: await ca.issueServing('simulated-kubelet', ipAddresses, dnsNames), keyPem: ca.servingKeyPem };
  if (clientCommonName === undefined) return generated;
  return { ...generated, client: await ca.issueClient(clientCommonName) };
}
