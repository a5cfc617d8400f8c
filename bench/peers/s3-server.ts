/**
 * The upload benchmark's S3-compatible server in a process of its own (so it can be pinned and its
 * CPU time read): test/support/s3-server.ts (s3rver, with presigned signatures checked by the AWS
 * SDK's presigner). Sends the parent its endpoint, region, bucket and keys over IPC once it
 * listens; stops (removing its folder) when the parent disconnects or sends SIGTERM.
 */
import { startS3Server } from '../../test/support/s3-server.ts';

const s3 = await startS3Server({ bucket: 'plugboard-bench' });
// Once: a SIGTERM is followed by the parent's exit (a disconnect), which must not cut the first stop short.
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void s3.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('disconnect', stop);
process.send!({
  endpoint: s3.endpoint,
  region: s3.region,
  bucket: s3.bucket,
  accessKeyId: s3.accessKeyId,
  secretAccessKey: s3.secretAccessKey,
});
