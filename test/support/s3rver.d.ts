/** The part of `s3rver` (an S3-compatible server in Node; no published types) the tests use. */
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  import type { Server } from 'node:http';
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
  export default class S3rver {
    constructor(options: S3rverOptions);
    /** Creates the configured buckets and listens. */
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
    /** Set once run() has resolved. */
    httpServer: Server;
  }
}
