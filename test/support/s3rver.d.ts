/** The part of `s3rver` (an S3-compatible server in Node; no published types) the tests use. */
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  import type { Server } from 'node:http';
  import type { Readable } from 'node:stream';
  interface S3rverOptions {
    address?: string;
    /** 0: a free port. */
    port?: number;
    silent?: boolean;
    /** Where buckets and objects are kept. */
    directory: string;
    resetOnClose?: boolean;
    /** Off: bucket names come from the path only. */
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }
  /** An object as s3rver's store receives it. */
  interface S3rverObject {
    bucket: string;
    key: string;
    content: Buffer | Readable;
    metadata: Record<string, string>;
  }
  /** s3rver's filesystem store (its methods used by s3-server.ts). */
  interface FilesystemStore {
    getResourcePath(bucket: string, key: string | undefined, resource: string): string;
    putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5?: string): Promise<void>;
    putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    /** Creates the configured buckets and listens. */
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    /** Set once run() has resolved. */
    httpServer: Server;
    store: FilesystemStore;
  }
}
