/**
 * Certificates for the test control plane of kubeApiServer.ts, made by the `openssl` CLI: a CA, the
 * API server's serving certificate, an admin client certificate (group system:masters) and the
 * ServiceAccount signing key pair. EC P-256 keys because they are instant to generate and Go
 * accepts them everywhere.
 */
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface Certs {
  caCert: string;
  servingCert: string;
  servingKey: string;
  clientCert: string;
  clientKey: string;
  saKey: string;
  saPub: string;
}

const OPENSSL_CNF = `[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[serving]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** Writes the key pairs and certificates into `pki` and returns their paths. */
export async function makeCerts(pki: string): Promise<Certs> {
  await fs.promises.mkdir(pki, { recursive: true, mode: 0o700 });
  const f = (name: string): string => path.join(pki, name);
  const cnf = f('openssl.cnf');
  await fs.promises.writeFile(cnf, OPENSSL_CNF);

  const genKey = (out: string): Promise<void> =>
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out]);
  const serial = (): string => BigInt(`0x${crypto.randomBytes(16).toString('hex')}`).toString();
  // Certificates signed by the test CA, via a CSR so it also works with OpenSSL 1.1 and LibreSSL.
  const signed = async (name: string, subj: string, section: string): Promise<void> => {
    await genKey(f(`${name}.key`));
    await openssl([
      'req',
      '-new',
      '-config',
      cnf,
      '-key',
      f(`${name}.key`),
      '-subj',
      subj,
      '-out',
      f(`${name}.csr`),
    ]);
    await openssl([
      'x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
      '-set_serial', serial(), '-days', '2', '-sha256', '-extfile', cnf, '-extensions', section, '-out', f(`${name}.crt`),
    ]); // prettier-ignore
  };

  await genKey(f('ca.key'));
  await openssl([
    'req', '-x509', '-new', '-config', cnf, '-extensions', 'ca', '-key', f('ca.key'),
    '-subj', '/CN=model-canary-test-ca', '-days', '2', '-sha256', '-set_serial', serial(), '-out', f('ca.crt'),
  ]); // prettier-ignore
  await Promise.all([
    signed('apiserver', '/CN=kube-apiserver', 'serving'),
    signed('admin', '/O=system:masters/CN=model-canary-admin', 'client'),
    genKey(f('sa.key')).then(() => openssl(['pkey', '-in', f('sa.key'), '-pubout', '-out', f('sa.pub')])),
  ]);
  return {
    caCert: f('ca.crt'),
    servingCert: f('apiserver.crt'),
    servingKey: f('apiserver.key'),
    clientCert: f('admin.crt'),
    clientKey: f('admin.key'),
    saKey: f('sa.key'),
    saPub: f('sa.pub'),
  };
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr || String(err)}`, { cause: err });
  }
}
