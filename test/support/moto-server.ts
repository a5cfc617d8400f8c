/**
 * moto's S3 server (moto_server, from the machine image's Python) on a free port, with one bucket:
 * the S3-compatible peer for what s3rver cannot do (multipart ListParts and AbortMultipartUpload,
 * which @tus/s3-store calls on every request). With CI set a missing moto is a failure, as any
 * missing service is.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { S3 } from '@aws-sdk/client-s3';

export interface MotoServer {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** A client for the bucket, to look at what landed. */
  s3: S3;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startMotoServer(): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  // The image's Python is pyenv's, whose shims a non-login shell may not have on PATH.
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PATH: `${process.env['PATH'] ?? ''}:${join(homedir(), '.pyenv', 'shims')}` },
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-5000)));
  let failure: Error | null = null;
  child.once(
    'error',
    (error) => (failure = new Error(`moto_server could not start (pip install 'moto[server]'): ${error}`)),
  );
  child.once('exit', (code) => (failure ??= new Error(`moto_server exited with ${code}:\n${output}`)));
  for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
    if (failure) throw failure;
    if (
      await fetch(endpoint).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`moto_server did not answer on ${endpoint} within 30 s:\n${output}`);
    }
  }
  const server = {
    endpoint,
    region: 'us-east-1',
    bucket: 'plugboard-files',
    accessKeyId: 'test',
    secretAccessKey: 'test',
  };
  const s3 = new S3({
    endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
  });
  await s3.createBucket({ Bucket: server.bucket });
  return {
    ...server,
    s3,
    async close() {
      s3.destroy();
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill();
      await exited;
    },
  };
}
