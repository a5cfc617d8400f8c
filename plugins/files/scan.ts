/**
 * Virus scanning with ClamAV's daemon (clamd) over TCP or a Unix socket, by its INSTREAM command.
 *
 * A small client on node:net rather than the `clamscan` package (2.4), which was evaluated first:
 * - a reply it does not recognise (an empty answer, `UNKNOWN COMMAND`, `COMMAND READ TIMED OUT`)
 *   becomes `{ isInfected: null }`, which scanStream resolves with instead of failing, so a caller
 *   testing `!isInfected` marks the file clean;
 * - `init()` runs the local `clamdscan`/`clamscan` binaries even when a host or socket is given,
 *   and `getVersion()` falls back to them when the daemon does not answer;
 * - `scanStream` ignores back-pressure (every chunk is written at once, so a large upload is
 *   buffered whole in memory), has no byte limit, and leaves the clamd connection open when the
 *   source stream fails;
 * - it prints socket errors with console.error, and gives no signature database version.
 *
 * Protocol (clamd(8)): `zINSTREAM\0`, then chunks each prefixed by its length (4 bytes, big-endian),
 * then a zero length; clamd answers `stream: OK\0`, `stream: <signature> FOUND\0` or an error such
 * as `INSTREAM size limit exceeded. ERROR\0`. Only the first two are verdicts: anything else throws.
 */
import { createConnection, type Socket } from 'node:net';
import type { Readable } from 'node:stream';

export interface ScanResult {
  status: 'clean' | 'infected';
  /** The signature that matched (e.g. `Win.Test.EICAR_HDB-1`), null when clean. */
  signature: string | null;
  /** The engine, e.g. `ClamAV 1.4.6`. */
  engine: string;
  /** The signature database version clamd reports (its daily database), null when it reports none. */
  signatureVersion: string | null;
}

export interface ClamdVersion {
  engine: string;
  signatureVersion: string | null;
}

export interface ClamdScannerOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 3310 */
  port?: number;
  /** A Unix socket path; when given, host and port are not used. */
  socket?: string;
  /**
   * How long clamd may stay silent (connecting, taking a chunk, giving its verdict) before the scan
   * fails with ScannerUnavailableError.
   * @default 30000
   */
  timeoutMs?: number;
  /**
   * The largest body scanned; a larger one fails with ScanTooLargeError. Set it to clamd's
   * `StreamMaxLength` (clamd refuses more anyway, with the same error).
   * @default 26214400 (25 MiB, clamd's default StreamMaxLength)
   */
  maxBytes?: number;
}

export interface ClamdScanner {
  /**
   * Scans a body (a stream is read to its end, or until it passes maxBytes, and destroyed after).
   * Rejects with ScannerUnavailableError (no verdict: try again later), ScanTooLargeError (never
   * scannable at this limit), or the stream's own error.
   */
  scan(body: Readable | Buffer): Promise<ScanResult>;
  version(): Promise<ClamdVersion>;
  /** True when clamd answers PING; false when it is down or answers anything else. */
  ping(): Promise<boolean>;
}

/**
 * clamd could not give a verdict (down, refused, timed out, hung up, or answered something that
 * is not one): the file stays pending and the scan is tried again later. Never a reason to call
 * the file clean.
 */
export class ScannerUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ScannerUnavailableError';
  }
}

/** clamd answered, but with neither a verdict nor an error this client knows (kept in `reply`). */
export class ScannerReplyError extends ScannerUnavailableError {
  readonly reply: string;
  constructor(what: string, reply: string) {
    super(`clamd answered ${what} with ${JSON.stringify(reply.slice(0, 200))}, which is not a verdict`);
    this.name = 'ScannerReplyError';
    this.reply = reply;
  }
}

/** clamd reset the connection while the INSTREAM body was still being written; its reply, if any, is lost. */
class HungUpMidBodyError extends ScannerUnavailableError {
  constructor(where: string, cause: unknown) {
    super(`${where} hung up while the body was being sent`, { cause });
    this.name = 'HungUpMidBodyError';
  }
}

/** The body is larger than the scanner takes: it cannot be scanned, so it must not be served. */
export class ScanTooLargeError extends Error {
  /** The limit that was passed, when known (clamd does not say its own). */
  readonly limitBytes: number | null;
  constructor(limitBytes: number | null) {
    super(
      limitBytes === null
        ? "the file is larger than clamd's StreamMaxLength"
        : `the file is larger than the ${limitBytes} bytes the scanner takes`,
    );
    this.name = 'ScanTooLargeError';
    this.limitBytes = limitBytes;
  }
}

/** clamd's verdict in an INSTREAM reply (without its terminating NUL); anything else throws. */
export function parseScanReply(reply: string): { status: 'clean' } | { status: 'infected'; signature: string } {
  if (reply === 'stream: OK') return { status: 'clean' };
  const found = /^stream: ([^\s\0][^\0\n]*?) FOUND$/.exec(reply);
  if (found) return { status: 'infected', signature: found[1]! };
  if (reply === 'INSTREAM size limit exceeded. ERROR') throw new ScanTooLargeError(null);
  throw new ScannerReplyError('INSTREAM', reply);
}

/** `ClamAV 1.4.6/27480/Tue Dec  9 08:32:01 2025`, or `ClamAV 1.4.6` when no daily database is loaded. */
export function parseVersionReply(reply: string): ClamdVersion {
  const match = /^(ClamAV [^/\s]+)(?:\/(\d+)\/[^\0\n]*)?$/.exec(reply);
  if (!match) throw new ScannerReplyError('VERSION', reply);
  return { engine: match[1]!, signatureVersion: match[2] ?? null };
}

const CHUNK_BYTES = 64 * 1024;
const LENGTH_BYTES = 4;
const END_OF_STREAM = Buffer.alloc(LENGTH_BYTES); // a zero length ends INSTREAM
const STOPPED: unique symbol = Symbol('stopped');

type Target = { path: string } | { host: string; port: number };

function positiveInteger(name: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER) {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`clamd scanner: ${name} must be an integer from 1 to ${max}, got ${value}`);
  }
  return value;
}

export function createClamdScanner(options: ClamdScannerOptions): ClamdScanner {
  const timeoutMs = positiveInteger('timeoutMs', options.timeoutMs, 30_000);
  const maxBytes = positiveInteger('maxBytes', options.maxBytes, 25 * 1024 * 1024);
  const target: Target = options.socket
    ? { path: options.socket }
    : { host: options.host || '127.0.0.1', port: positiveInteger('port', options.port, 3310, 65_535) };
  const where = 'path' in target ? `clamd at unix:${target.path}` : `clamd at ${target.host}:${target.port}`;

  const version = async () => parseVersionReply(await exchange(where, target, timeoutMs, 'VERSION'));

  return {
    version,
    async ping() {
      try {
        return (await exchange(where, target, timeoutMs, 'PING')) === 'PONG';
      } catch (error) {
        if (error instanceof ScannerUnavailableError) return false;
        throw error;
      }
    },
    async scan(body) {
      if (Buffer.isBuffer(body) && body.length > maxBytes) throw new ScanTooLargeError(maxBytes);
      // Asked first, on its own connection: when clamd is down this fails before the body is read.
      const { engine, signatureVersion } = await version();
      const reply = await exchange(where, target, timeoutMs, 'INSTREAM', { body, maxBytes }).catch(async (error) => {
        if (!(error instanceof HungUpMidBodyError)) throw error;
        // clamd refuses a body past its StreamMaxLength by replying and hanging up at once. When a
        // write of ours meets that reset before the reply is read, Node closes the socket with the
        // reply unread. clamd still answering, on a new connection, tells that refusal apart from
        // clamd going away mid-scan (then this throws ScannerUnavailableError).
        await version();
        throw new ScanTooLargeError(null);
      });
      const verdict = parseScanReply(reply);
      return verdict.status === 'clean'
        ? { status: 'clean', signature: null, engine, signatureVersion }
        : { status: 'infected', signature: verdict.signature, engine, signatureVersion };
    },
  };
}

/**
 * Sends one `z` command (NUL-terminated, answered with one NUL-terminated reply), with the INSTREAM
 * body when given, and resolves with the reply. Fails with ScannerUnavailableError when clamd cannot
 * be reached, stays silent for timeoutMs, or hangs up before a whole reply.
 */
async function exchange(
  where: string,
  target: Target,
  timeoutMs: number,
  command: 'PING' | 'VERSION' | 'INSTREAM',
  instream?: { body: Readable | Buffer; maxBytes: number },
): Promise<string> {
  const socket =
    'path' in target
      ? createConnection({ path: target.path, timeout: timeoutMs })
      : createConnection({ host: target.host, port: target.port, timeout: timeoutMs });
  const answer = readReply(socket, where, command, timeoutMs);
  try {
    await Promise.race([new Promise((resolve) => socket.once('connect', resolve)), answer.settled]);
    if (answer.done()) return await answer.reply;
    socket.write(`z${command}\0`);
    const sentWhole = instream ? await send(socket, answer, instream.body, instream.maxBytes) : true;
    return await answer.reply.catch((error: unknown) => {
      const code = error instanceof Error && (error.cause as NodeJS.ErrnoException | undefined)?.code;
      if (sentWhole || (code !== 'ECONNRESET' && code !== 'EPIPE')) throw error;
      throw new HungUpMidBodyError(where, error);
    });
  } finally {
    socket.destroy();
  }
}

interface PendingReply {
  reply: Promise<string>;
  /** Resolves (never rejects) once `reply` is settled. */
  settled: Promise<void>;
  done(): boolean;
}

function readReply(socket: Socket, where: string, command: string, timeoutMs: number): PendingReply {
  let done = false;
  const chunks: Buffer[] = [];
  const reply = new Promise<string>((resolve, reject) => {
    const fail = (message: string, cause?: unknown) => {
      if (done) return;
      done = true;
      reject(new ScannerUnavailableError(`${where}: ${message}`, cause === undefined ? undefined : { cause }));
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      chunks.push(chunk);
      const whole = Buffer.concat(chunks);
      const end = whole.indexOf(0);
      if (end === -1) return;
      done = true;
      resolve(whole.subarray(0, end).toString('utf8'));
    });
    socket.on('timeout', () => fail(`no answer to ${command} within ${timeoutMs} ms`));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      fail(`${command} failed: ${error.code ?? error.message}`, error),
    );
    socket.on('close', () => {
      // clamd ends some errors with a newline instead of NUL (`COMMAND READ TIMED OUT\n`) and hangs up.
      const partial = Buffer.concat(chunks).toString('utf8').slice(0, 200);
      fail(
        `connection closed before a whole answer to ${command}${partial ? ` (got ${JSON.stringify(partial)})` : ''}`,
      );
    });
  });
  // Handled here so a failure while the body is still being read is not an unhandled rejection;
  // the caller awaits `reply` itself.
  const settled = reply.then(
    () => {},
    () => {},
  );
  return { reply, settled, done: () => done };
}

/**
 * Writes the INSTREAM body, waiting for the socket to drain. Stops as soon as clamd answers or
 * fails, even while waiting on a stalled source (a stream body is destroyed then). True when the
 * whole body and its end were written.
 */
async function send(socket: Socket, answer: PendingReply, body: Readable | Buffer, maxBytes: number): Promise<boolean> {
  const pieces = chunksOf(body);
  let total = 0;
  try {
    for (;;) {
      const pending = pieces.next();
      const next = await Promise.race([pending, answer.settled.then((): typeof STOPPED => STOPPED)]);
      // clamd answers before the end only to refuse (its size limit) or to give up (its ReadTimeout).
      if (next === STOPPED || answer.done()) {
        pending.catch(() => {}); // the source is destroyed below; how its read ends no longer matters
        return false;
      }
      if (next.done) break;
      total += next.value.length;
      if (total > maxBytes) throw new ScanTooLargeError(maxBytes);
      const length = Buffer.alloc(LENGTH_BYTES);
      length.writeUInt32BE(next.value.length);
      socket.write(length);
      if (!socket.write(next.value)) await drained(socket, answer.settled);
    }
  } finally {
    if (!Buffer.isBuffer(body)) body.destroy();
  }
  if (answer.done()) return false;
  socket.write(END_OF_STREAM);
  return true;
}

async function* chunksOf(body: Readable | Buffer): AsyncGenerator<Buffer> {
  const pieces: AsyncIterable<unknown> | Iterable<unknown> = Buffer.isBuffer(body) ? [body] : body;
  for await (const piece of pieces) {
    const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
    if (!(bytes instanceof Uint8Array)) throw new TypeError('clamd scanner: the body must yield bytes');
    const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let offset = 0; offset < buffer.length; offset += CHUNK_BYTES) {
      yield buffer.subarray(offset, offset + CHUNK_BYTES);
    }
  }
}

function drained(socket: Socket, settled: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const go = () => {
      socket.off('drain', go);
      resolve();
    };
    socket.on('drain', go);
    void settled.then(go);
  });
}
