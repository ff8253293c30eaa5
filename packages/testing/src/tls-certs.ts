import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A CA of its own and a server certificate it signed, for 127.0.0.1 and localhost: what a TLS Redis under test serves. */
export interface TestCertificates {
  /** The CA's certificate, PEM: what a client trusts (REDIS_TLS_CA_FILE). */
  caFile: string;
  ca: string;
  certFile: string;
  keyFile: string;
  /** The redis-server arguments that serve them. */
  serverArgs: string[];
  close(): Promise<void>;
}

/** Made with the openssl command (Debian's `openssl`): Node can sign nothing itself. */
export async function makeTestCertificates(opts: { names?: string } = {}): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'bridge-tls-'));
  const file = (name: string) => join(dir, name);
  const openssl = (args: string[]) => promisify(execFile)(process.env.OPENSSL_BIN ?? 'openssl', args);
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    await openssl(['req', '-x509', ...key, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=bridge test CA']);
    await openssl(['req', ...key, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost']);
    await writeFile(file('san.ext'), `subjectAltName=${opts.names ?? 'IP:127.0.0.1,DNS:localhost'}\n`);
    await openssl([
      'x509',
      '-req',
      '-in',
      file('server.csr'),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file('server.pem'),
      '-days',
      '2',
      '-extfile',
      file('san.ext'),
    ]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`openssl could not make the test certificates (is it installed?): ${(err as Error).message}`);
  }
  return {
    caFile: file('ca.pem'),
    ca: await readFile(file('ca.pem'), 'utf8'),
    certFile: file('server.pem'),
    keyFile: file('server.key'),
    // Clients show no certificate of their own: the bridge authenticates with a password.
    serverArgs: [
      '--tls-cert-file',
      file('server.pem'),
      '--tls-key-file',
      file('server.key'),
      '--tls-ca-cert-file',
      file('ca.pem'),
      '--tls-auth-clients',
      'no',
    ],
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
