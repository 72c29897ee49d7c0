/**
 * Stand-ins for Fabric peers in driver tests: a self-signed TLS certificate for 127.0.0.1 (made with
 * openssl) and real gRPC servers with TLS and no services, so every Fabric call answers UNIMPLEMENTED
 * while connections, failover and readiness behave as against a peer.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';

export interface TlsFiles {
  readonly keyFile: string;
  readonly certFile: string;
  readonly key: Buffer;
  readonly cert: Buffer;
}

/** A P-256 key and self-signed certificate for 127.0.0.1 / peer0.test: the server's and the trusted CA. */
export async function selfSignedTls(dir: string): Promise<TlsFiles> {
  const keyFile = path.join(dir, 'tls.key');
  const certFile = path.join(dir, 'tls.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=peer0.test',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:peer0.test',
    ],
    { stdio: 'ignore' },
  );
  return { keyFile, certFile, key: await readFile(keyFile), cert: await readFile(certFile) };
}

/** A gRPC server with TLS and no services on 127.0.0.1:`port` (0: any free port). */
export async function startTlsServer(
  port: number,
  key: Buffer,
  cert: Buffer,
): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `127.0.0.1:${port}`,
      grpc.ServerCredentials.createSsl(null, [{ private_key: key, cert_chain: cert }], false),
      (e, p) => (e ? reject(e) : resolve(p)),
    ),
  );
  return { server, port: bound };
}
