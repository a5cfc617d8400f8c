/**
 * The file plugin's virus scanner against a real clamd (test/support/clamd.ts) over TCP and a Unix
 * socket, with the shipped signatures (EICAR and our own marker). The rule under test: a file is
 * clean only when clamd says `stream: OK`; clamd down, hung, giving up or refusing is an error.
 */
import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import {
  type ClamdScannerOptions,
  createClamdScanner,
  parseScanReply,
  parseVersionReply,
  ScannerReplyError,
  ScannerUnavailableError,
  ScanTooLargeError,
} from '../plugins/files/scan.ts';
import {
  findClamd,
  startClamd,
  TEST_MARKER,
  TEST_SIGNATURE_VERSION,
  TEST_SIGNATURES,
  type TestClamd,
} from './support/clamd.ts';

// The standard 68-byte EICAR test file (eicar.org), put together here so that this source file
// does not itself trip a virus scanner on a developer's machine.
const EICAR = Buffer.from(['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join(''));
const MiB = 1024 * 1024;
const TIMEOUT_MS = 5000;

describe('clamd replies', () => {
  test.each([
    ['stream: OK', { status: 'clean' }],
    ['stream: Win.Test.EICAR_HDB-1 FOUND', { status: 'infected', signature: 'Win.Test.EICAR_HDB-1' }],
    ['stream: Heuristics.Encrypted.PDF FOUND', { status: 'infected', signature: 'Heuristics.Encrypted.PDF' }],
  ])('%j is a verdict', (reply, verdict) => {
    expect(parseScanReply(reply)).toEqual(verdict);
  });

  test.each([
    '',
    'OK',
    'stream:OK',
    'stream: OK ',
    'stream: ok',
    'stream: OK\nstream: OK',
    'stream:  FOUND',
    'stream: FOUND',
    'stream: Eicar FOUND extra',
    'stream: Eicar\nFOUND',
    'COMMAND READ TIMED OUT',
    'UNKNOWN COMMAND',
    "stream: Can't allocate memory ERROR",
    'PONG',
  ])('%j is not a verdict: it throws, and is never clean', (reply) => {
    expect(() => parseScanReply(reply)).toThrow(ScannerReplyError);
    expect(() => parseScanReply(reply)).toThrow(ScannerUnavailableError);
  });

  it("reads clamd's size limit as a body too large, not as unavailable", () => {
    expect(() => parseScanReply('INSTREAM size limit exceeded. ERROR')).toThrow(ScanTooLargeError);
  });

  test.each([
    ['ClamAV 1.4.6/27480/Tue Dec  9 08:32:01 2025', { engine: 'ClamAV 1.4.6', signatureVersion: '27480' }],
    ['ClamAV 1.0.9', { engine: 'ClamAV 1.0.9', signatureVersion: null }],
    ['ClamAV 0.103.12/26934/Wed Jun  7 07:29:48 2023', { engine: 'ClamAV 0.103.12', signatureVersion: '26934' }],
  ])('version %j', (reply, version) => {
    expect(parseVersionReply(reply)).toEqual(version);
  });

  test.each(['', 'PONG', 'ClamAV', 'ClamAV 1.4.6/x/y', 'UNKNOWN COMMAND'])('version %j throws', (reply) => {
    expect(() => parseVersionReply(reply)).toThrow(ScannerReplyError);
  });

  test.each<[ClamdScannerOptions, string]>([
    [{ port: 0 }, 'port'],
    [{ port: 65_536 }, 'port'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ timeoutMs: 1.5 }, 'timeoutMs'],
    [{ maxBytes: -1 }, 'maxBytes'],
  ])('options %j: an error naming %s', (options, name) => {
    expect(() => createClamdScanner(options)).toThrow(new RegExp(`\\b${name} must be`));
  });
});

/**
 * clamd refuses a body past its StreamMaxLength by replying and hanging up at once; when the
 * scanner's next write meets that reset before the reply is read, the reply is lost (seen with a
 * real clamd on a loaded machine). This stand-in makes that case certain: it answers VERSION, and
 * resets an INSTREAM connection after its first 256 KiB without a word. `goneAfterReset` makes it
 * refuse every connection after that, as a clamd that went away mid-scan.
 */
describe('a clamd that hangs up while the body is being sent', () => {
  let server: Server;
  let goneAfterReset = false;
  let gone = false;
  beforeAll(async () => {
    server = createServer((socket) => {
      socket.on('error', () => {});
      if (gone) return socket.resetAndDestroy();
      let received = 0;
      socket.on('data', (chunk) => {
        if (received === 0 && chunk.subarray(0, 9).toString() === 'zVERSION\0') {
          socket.end('ClamAV 1.4.6/27480/Tue Dec  9 08:32:01 2025\0');
          return;
        }
        received += chunk.length;
        if (received <= 256 * 1024) return;
        gone = goneAfterReset;
        socket.resetAndDestroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => {
    server.close();
  });
  const scanner = () =>
    createClamdScanner({
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      timeoutMs: TIMEOUT_MS,
      maxBytes: 64 * MiB,
    });

  it('refuses the body as too large when clamd still answers afterwards (never clean)', async () => {
    const refusal = await scanner()
      .scan(randomBytes(4 * MiB))
      .catch((error: unknown) => error);
    expect(refusal, String(refusal)).toBeInstanceOf(ScanTooLargeError);
  });

  it('is unavailable when clamd is gone afterwards', async () => {
    goneAfterReset = true;
    const failure = await scanner()
      .scan(randomBytes(4 * MiB))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ScannerUnavailableError);
    expect(failure).not.toBeInstanceOf(ScanTooLargeError);
    expect(String(failure)).toMatch(/VERSION failed: ECONNRESET/);
  });
});

const clamdBinary = await findClamd();

describe.skipIf(!clamdBinary)('scanning with a real clamd', () => {
  let clamd: TestClamd;
  beforeAll(async () => {
    // A short ReadTimeout so that clamd giving up on a stalled stream is seen in a test.
    clamd = await startClamd(clamdBinary!, { readTimeoutSeconds: 3 });
  });
  afterAll(async () => {
    await clamd?.close();
  });

  const transports = ['tcp', 'unix'] as const;
  type Transport = (typeof transports)[number];
  const scannerOver = (transport: Transport, options: ClamdScannerOptions = {}) =>
    createClamdScanner({
      ...(transport === 'tcp' ? { host: clamd.host, port: clamd.port } : { socket: clamd.socket }),
      timeoutMs: TIMEOUT_MS,
      maxBytes: clamd.streamMaxBytes,
      ...options,
    });
  const clean = { status: 'clean', signature: null, engine: expect.stringMatching(/^ClamAV \d+\.\d+/) };

  describe.each(transports)('over %s', (transport) => {
    it('finds EICAR, naming the signature, the engine and the database version', async () => {
      expect(EICAR.length).toBe(68);
      expect(await scannerOver(transport).scan(EICAR)).toEqual({
        status: 'infected',
        signature: TEST_SIGNATURES.eicar,
        engine: expect.stringMatching(/^ClamAV \d+\.\d+/),
        signatureVersion: TEST_SIGNATURE_VERSION,
      });
    });

    it('finds the marker inside a larger random stream, split across chunks', async () => {
      const body = randomBytes(MiB);
      const at = 4 * 64 * 1024 - 10; // across the scanner's 64 KiB frames
      body.write(TEST_MARKER, at, 'latin1');
      const cut = at + 7; // and across the stream's own chunks
      const result = await scannerOver(transport).scan(Readable.from([body.subarray(0, cut), body.subarray(cut)]));
      expect(result).toMatchObject({ status: 'infected', signature: TEST_SIGNATURES.marker });
    });

    it('passes a clean random body, as a buffer and as a stream', async () => {
      const body = randomBytes(MiB);
      const scanner = scannerOver(transport);
      expect(await scanner.scan(body)).toEqual({ ...clean, signatureVersion: TEST_SIGNATURE_VERSION });
      expect(await scanner.scan(Readable.from([body]))).toMatchObject({ status: 'clean', signature: null });
      expect(await scanner.scan(Buffer.alloc(0))).toMatchObject({ status: 'clean' });
    });

    it('reports the version and answers PING', async () => {
      const scanner = scannerOver(transport);
      expect(await scanner.version()).toEqual({
        engine: expect.stringMatching(/^ClamAV \d+\.\d+\.\d+$/),
        signatureVersion: TEST_SIGNATURE_VERSION,
      });
      expect(await scanner.ping()).toBe(true);
    });
  });

  it('scans a 20 MB stream to its end, in chunks', async () => {
    const streamOf = (last: Buffer) =>
      Readable.from(
        (function* () {
          for (let i = 0; i < 19; i++) yield randomBytes(MiB);
          yield last;
        })(),
      );
    const scanner = scannerOver('tcp');
    expect(await scanner.scan(streamOf(randomBytes(MiB)))).toMatchObject({ status: 'clean' });
    // The marker in the last bytes: found only if every chunk reached clamd.
    const last = randomBytes(MiB);
    last.write(TEST_MARKER, MiB - TEST_MARKER.length, 'latin1');
    expect(await scanner.scan(streamOf(last))).toMatchObject({
      status: 'infected',
      signature: TEST_SIGNATURES.marker,
    });
  });

  it('refuses a body over maxBytes (never clean), and stops reading a stream there', async () => {
    const scanner = scannerOver('tcp', { maxBytes: MiB });
    expect(await scanner.scan(randomBytes(MiB))).toMatchObject({ status: 'clean' });
    await expect(scanner.scan(randomBytes(MiB + 1))).rejects.toThrow(ScanTooLargeError);

    let chunksRead = 0;
    const stream = Readable.from(
      (function* () {
        for (; chunksRead < 12; chunksRead++) yield randomBytes(256 * 1024);
      })(),
    );
    const refusal = await scanner.scan(stream).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ScanTooLargeError);
    expect(refusal).toMatchObject({ limitBytes: MiB });
    expect(chunksRead).toBeLessThan(6);
    expect(stream.destroyed).toBe(true);
  });

  it("refuses a body over clamd's own StreamMaxLength (never clean)", async () => {
    const scanner = scannerOver('tcp', { maxBytes: 64 * MiB });
    const refusal = await scanner.scan(randomBytes(clamd.streamMaxBytes + MiB)).catch((error: unknown) => error);
    expect(refusal, String(refusal)).toBeInstanceOf(ScanTooLargeError);
    expect(refusal).toMatchObject({ limitBytes: null });
  });

  it('never calls a stalled stream clean: clamd gives up after its ReadTimeout, and the stream is released', async () => {
    let pushed = false;
    const stalled = new Readable({
      read() {
        if (!pushed) this.push(randomBytes(1024));
        pushed = true; // then nothing more, ever
      },
    });
    const failure = await scannerOver('unix', { timeoutMs: 20_000 })
      .scan(stalled)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ScannerUnavailableError);
    expect(String(failure)).toMatch(/COMMAND READ TIMED OUT/);
    expect(stalled.destroyed).toBe(true);
  });

  it('gives up on a clamd that takes connections but does not answer, after timeoutMs', async () => {
    const timeoutMs = 500;
    clamd.pause();
    try {
      const began = performance.now();
      const failure = await scannerOver('tcp', { timeoutMs })
        .scan(EICAR)
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ScannerUnavailableError);
      expect(String(failure)).toMatch(/no answer to VERSION within 500 ms/);
      expect(performance.now() - began).toBeGreaterThanOrEqual(timeoutMs - 50);
      expect(performance.now() - began).toBeLessThan(timeoutMs + 3000);
    } finally {
      clamd.resume();
    }

    // Hung mid-stream: the socket fills up and drains no more, so the scanner stops reading the
    // source (back-pressure; the stream buffers at most 64 KiB ahead) until it gives up.
    let readAfterPause = 0;
    const stream = Readable.from(
      (function* () {
        yield randomBytes(MiB);
        clamd.pause();
        for (; readAfterPause < 19; readAfterPause++) yield randomBytes(MiB);
      })(),
      { objectMode: false, highWaterMark: 64 * 1024 },
    );
    try {
      const failure = await scannerOver('unix', { timeoutMs })
        .scan(stream)
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ScannerUnavailableError);
      expect(String(failure)).toMatch(/no answer to INSTREAM within 500 ms/);
      expect(readAfterPause).toBeLessThan(5);
    } finally {
      clamd.resume();
    }
    expect(await scannerOver('tcp').scan(EICAR)).toMatchObject({ status: 'infected' });
  });

  it('fails fast as unavailable while clamd is stopped, and scans again once it is back', async () => {
    await clamd.stop();
    for (const transport of transports) {
      const scanner = scannerOver(transport);
      const began = performance.now();
      const failure = await scanner.scan(randomBytes(1024)).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ScannerUnavailableError);
      expect(performance.now() - began).toBeLessThan(TIMEOUT_MS);
      expect(await scanner.ping()).toBe(false);
      await expect(scanner.version()).rejects.toThrow(ScannerUnavailableError);
    }

    await clamd.start();
    for (const transport of transports) {
      const scanner = scannerOver(transport);
      expect(await scanner.ping()).toBe(true);
      expect(await scanner.scan(randomBytes(1024))).toMatchObject({ status: 'clean' });
      expect(await scanner.scan(EICAR)).toMatchObject({ status: 'infected', signature: TEST_SIGNATURES.eicar });
    }
  });
});
