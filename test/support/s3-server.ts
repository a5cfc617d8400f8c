/**
 * An S3-compatible server in this process (`s3rver`), for the real AWS SDK and for browsers' fetch:
 *
 *   const s3 = await startS3Server();
 *   // createS3Storage({ endpoint: s3.endpoint, region: s3.region, bucket: s3.bucket,
 *   //   accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true })
 *   await s3.close(); // stops it and removes its directory
 *
 * It listens on a free port of 127.0.0.1 and keeps its objects in a temporary directory with one
 * bucket made. s3rver checks a presigned URL's expiry but not its SigV4 signature (its
 * authentication middleware: "Signature version 4 calculation is unimplemented"), so a PUT of
 * another size or type than signed would pass. This server therefore signs every presigned request
 * again with the SDK's own presigner (with the request's method, path, query, signed headers and
 * date) and answers 403 SignatureDoesNotMatch when the signatures differ, as S3 does.
 * Requests signed in an Authorization header (the SDK's own calls) are left to s3rver, which
 * checks the access key id only.
 *
 * What else s3rver 3.7 does differently from S3, as the storage adapter met it:
 * - A ListObjectsV2 page that is truncated fails (500): its continuation tokens use DES, which
 *   Node's OpenSSL 3 does not offer. The adapter lists with ListObjects (v1) and a marker.
 * - A ranged GET of an empty object sends a Content-Length of 1 and no byte (the SDK reports the
 *   response aborted); S3 answers 416.
 * - x-amz-copy-source is decoded with decodeURI, so keys with reserved characters (`+`, `&`, `?`…)
 *   cannot be copied.
 * - A PUT is answered once the body has been read, not once it is written: a HEAD right after it
 *   could see fewer bytes (seen under load, about once in 10,000 uploads). This server writes the
 *   object before answering, as S3's read-after-write consistency promises.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import S3rver from 's3rver';

export interface S3Server {
  /** `http://127.0.0.1:<port>`: use with forcePathStyle. */
  endpoint: string;
  region: string;
  bucket: string;
  /** s3rver's one account (it accepts no other access key id). */
  accessKeyId: string;
  secretAccessKey: string;
  /** Where s3rver keeps the bucket. */
  directory: string;
  close(): Promise<void>;
}

const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';
/** Query parameters the presigner writes (the rest of the query is signed as it is). */
const AUTH_PARAMETERS = new Set([
  'X-Amz-Algorithm',
  'X-Amz-Content-Sha256',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-Security-Token',
  'X-Amz-Signature',
  'X-Amz-SignedHeaders',
]);

export async function startS3Server(options: { bucket?: string; region?: string } = {}): Promise<S3Server> {
  const bucket = options.bucket ?? 'plugboard-test';
  const region = options.region ?? 'us-east-1';
  const directory = await mkdtemp(join(tmpdir(), 'plugboard-s3-'));
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: bucket }],
  });
  writeObjectsBeforeAnswering(s3rver);
  const { port } = await s3rver.run();
  const endpoint = `http://127.0.0.1:${port}`;

  // The SDK's presigner, configured as the adapter's client is (it takes the client's config).
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
  });
  const presigner = new S3RequestPresigner({ ...client.config });

  /** Why a presigned request's signature is wrong, or null when it is right (or not presigned). */
  async function signatureRefusal(request: IncomingMessage): Promise<string | null> {
    const target = request.url ?? '/';
    const mark = target.indexOf('?');
    if (mark < 0) return null;
    const parameters = new URLSearchParams(target.slice(mark + 1));
    const signature = parameters.get('X-Amz-Signature');
    if (signature === null) return null;
    const [, , signingRegion, signingService] = (parameters.get('X-Amz-Credential') ?? '').split('/');
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(parameters.get('X-Amz-Date') ?? '');
    const signedHeaders = (parameters.get('X-Amz-SignedHeaders') ?? '').split(';');
    if (!date || !signingRegion || !signingService) return 'the presigned URL is malformed';
    const query: Record<string, string> = {};
    for (const [name, value] of parameters) if (!AUTH_PARAMETERS.has(name)) query[name] = value;
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = request.headers[name];
      if (value === undefined) return `the signed header ${name} is missing`;
      headers[name] = Array.isArray(value) ? value.join(',') : value;
    }
    const host = new URL(`http://${request.headers.host}`);
    const expected = await presigner.presign(
      {
        method: request.method ?? 'GET',
        protocol: 'http:',
        hostname: host.hostname,
        port: Number(host.port),
        path: target.slice(0, mark),
        query,
        headers,
      },
      {
        signingDate: new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!)),
        expiresIn: Number(parameters.get('X-Amz-Expires')),
        signableHeaders: new Set(signedHeaders),
        signingRegion,
        signingService,
      },
    );
    return expected.query?.['X-Amz-Signature'] === signature ? null : 'the signature does not match the request';
  }

  function refuse(response: ServerResponse, message: string): void {
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>${message}</Message></Error>`;
    response.writeHead(403, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    response.end(body);
  }

  const server = s3rver.httpServer;
  const [s3rverListener] = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    signatureRefusal(request).then(
      (refusal) => (refusal === null ? s3rverListener!(request, response) : refuse(response, refusal)),
      (error: unknown) => refuse(response, `the signature could not be checked: ${(error as Error).message}`),
    );
  });

  return {
    endpoint,
    region,
    bucket,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    directory,
    async close() {
      client.destroy();
      server.closeAllConnections();
      await s3rver.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver 3.7's filesystem store resolves a PUT when its hashing stream has read the body, while the
 * file may still be being written: this one resolves once the file is written (then the metadata).
 */
function writeObjectsBeforeAnswering(s3rver: S3rver): void {
  const { store } = s3rver;
  store.putObject = async (object) => {
    const path = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(path), { recursive: true });
    const md5 = createHash('md5');
    let size = 0;
    await pipeline(
      Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          md5.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(path),
    );
    const digest = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
}
