/**
 * The file plugin's media functions on real media made here: detection and the allow rules,
 * images (metadata stripped from every derivative, orientation, no upscaling, the pixel cap),
 * video through the real ffprobe/ffmpeg, and PDF previews through pdf.js.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import exifr from 'exifr';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { detectType, isAllowed } from '../plugins/files/detect.ts';
import {
  type EncodedImage,
  exifDateTime,
  imageInfo,
  type ProcessImageOptions,
  processImage,
  stripMetadata,
} from '../plugins/files/images.ts';
import { FileRejectedError, MediaErrorCode, MediaToolError } from '../plugins/files/media-errors.ts';
import { pdfPreview } from '../plugins/files/pdf.ts';
import { type MediaTools, posterFrame, posterTime, probeVideo } from '../plugins/files/video.ts';
import {
  animatedGif,
  CAMERA,
  elfExecutable,
  LEAK_MARKERS,
  pdfWithPages,
  peExecutable,
  photo,
  pngHeaderClaiming,
  riffChunks,
  tenSecondVideo,
} from './support/media.ts';

const DEFAULT_ALLOWED = ['image/*', 'video/*', 'application/pdf'];
const SIZES = [
  { width: 100, height: 100 },
  { width: 400, height: 400 },
  { width: 1200, height: 1200 },
];
const MAX_PIXELS = 50_000_000;
const OPTIONS: ProcessImageOptions = { sizes: SIZES, avif: false, maxPixels: MAX_PIXELS };

/** Every way a derivative could still carry the photo's EXIF, GPS or XMP. */
async function expectNoMetadata(image: EncodedImage): Promise<void> {
  const header = await sharp(image.data).metadata();
  expect(header.exif, `${image.format} ${image.width}x${image.height} EXIF`).toBeUndefined();
  expect(header.xmp, 'XMP').toBeUndefined();
  expect(header.iptc, 'IPTC').toBeUndefined();
  expect(header.orientation, 'orientation tag').toBeUndefined();
  for (const marker of LEAK_MARKERS) expect(image.data.includes(marker), marker).toBe(false);
  if (image.format === 'webp') {
    // exifr does not read WebP; its metadata lives in EXIF and "XMP " chunks.
    expect(riffChunks(image.data).filter((chunk) => chunk === 'EXIF' || chunk === 'XMP ')).toEqual([]);
  } else {
    expect(
      await exifr.parse(image.data, {
        tiff: true,
        gps: true,
        xmp: true,
        iptc: true,
        icc: false,
        jfif: false,
        ihdr: false,
      }),
    ).toBeUndefined();
  }
}

/** The RGB of one pixel of an encoded image. */
async function pixel(image: Buffer, x: number, y: number): Promise<[number, number, number]> {
  const { data } = await sharp(image)
    .extract({ left: x, top: y, width: 1, height: 1 })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return [data[0]!, data[1]!, data[2]!];
}

const isRed = ([r, g, b]: [number, number, number]) => r > 200 && g < 60 && b < 60;
const isBlue = ([r, g, b]: [number, number, number]) => r < 60 && g < 60 && b > 200;

describe('detecting the type from the content', () => {
  test.each([
    ['a JPEG', 'image/jpeg', () => photo({ width: 64, height: 48, format: 'jpeg' })],
    ['a PNG', 'image/png', () => photo({ width: 64, height: 48, format: 'png' })],
    [
      'a WebP',
      'image/webp',
      () =>
        sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } })
          .webp()
          .toBuffer(),
    ],
    ['an animated GIF', 'image/gif', animatedGif],
    ['a PDF', 'application/pdf', async () => pdfWithPages(['one'])],
    ['an ELF executable', 'application/x-elf', elfExecutable],
    ['a PE executable', 'application/x-msdownload', async () => peExecutable()],
    ['plain text', 'text/plain', async () => Buffer.from('just some words, no magic bytes at all\n')],
    ['UTF-8 text cut mid-character', 'text/plain', async () => Buffer.from('añb€'.repeat(1500)).subarray(0, 4100)],
    ['text with a NUL', null, async () => Buffer.from('looks like text\0but is not')],
    ['bytes that are not UTF-8', null, async () => Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x20])],
    ['nothing', null, async () => Buffer.alloc(0)],
  ])('%s is detected as %s', async (_name, mime, make) => {
    const detected = await detectType(await make());
    expect(detected?.mime ?? null).toBe(mime);
  });

  test.each([
    ['image/jpeg', DEFAULT_ALLOWED, true],
    ['image/png', DEFAULT_ALLOWED, true],
    ['video/mp4', DEFAULT_ALLOWED, true],
    ['application/pdf', DEFAULT_ALLOWED, true],
    ['IMAGE/JPEG', DEFAULT_ALLOWED, true],
    ['image/jpeg; charset=binary', DEFAULT_ALLOWED, true],
    ['image/png', [' image/png '], true],
    ['application/x-elf', DEFAULT_ALLOWED, false],
    ['application/x-msdownload', DEFAULT_ALLOWED, false],
    ['application/pdfx', DEFAULT_ALLOWED, false],
    ['application/zip', DEFAULT_ALLOWED, false],
    ['audio/mpeg', DEFAULT_ALLOWED, false],
    ['text/plain', DEFAULT_ALLOWED, false],
    ['imagex/png', DEFAULT_ALLOWED, false],
    ['image', DEFAULT_ALLOWED, false],
    ['image/', DEFAULT_ALLOWED, false],
    ['/jpeg', DEFAULT_ALLOWED, false],
    ['image/jpeg/x', DEFAULT_ALLOWED, false],
    ['image/jpeg', ['image/png'], false],
    ['image/png', ['application/pdf'], false],
    ['image/png', [], false],
  ])('isAllowed(%s, %j) is %s', (mime, allowed, expected) => {
    expect(isAllowed(mime, allowed)).toBe(expected);
  });

  test.each([
    { bytes: 'an ELF executable', make: elfExecutable },
    { bytes: 'a PE executable', make: async () => peExecutable() },
  ])('a file named photo.jpg whose bytes are $bytes is not allowed', async ({ make }) => {
    // Only the bytes are given to detection: the name and the declared type decide nothing.
    const detected = await detectType(await make());
    expect(detected).not.toBeNull();
    expect(detected!.mime.startsWith('image/')).toBe(false);
    expect(isAllowed(detected!.mime, DEFAULT_ALLOWED)).toBe(false);
  });
});

describe('images', () => {
  test('no derivative of a JPEG with EXIF, GPS and XMP carries any of it; camera and taken-at are kept', async () => {
    const original = await photo({ width: 1600, height: 1200, format: 'jpeg' });
    // The photo really carries what must not survive.
    expect((await exifr.gps(original)).latitude).toBeCloseTo(48.858, 2);
    expect((await sharp(original).metadata()).xmp).toBeDefined();
    for (const marker of LEAK_MARKERS) expect(original.includes(marker), marker).toBe(true);

    const result = await processImage(original, { ...OPTIONS, avif: true });

    expect(result.metadata).toEqual({
      format: 'jpeg',
      width: 1600,
      height: 1200,
      pages: 1,
      hasAlpha: false,
      cameraMake: CAMERA.make,
      cameraModel: CAMERA.model,
      takenAt: '2024-05-06T07:08:09+02:00',
    });
    expect(result.thumbnails.map(({ width, height, box }) => [width, height, box.width])).toEqual([
      [100, 75, 100],
      [400, 300, 400],
      [1200, 900, 1200],
    ]);
    const derivatives = [...result.thumbnails, result.optimized.webp, result.optimized.avif!];
    expect(derivatives).toHaveLength(5);
    for (const derivative of derivatives) await expectNoMetadata(derivative);
  });

  test('the WebP and AVIF copies are valid, full size, and say what they are', async () => {
    const original = await photo({ width: 640, height: 480, format: 'jpeg' });
    const { optimized, thumbnails } = await processImage(original, { ...OPTIONS, avif: true });
    const webp = await sharp(optimized.webp.data).metadata();
    expect([webp.format, webp.width, webp.height]).toEqual(['webp', 640, 480]);
    expect(optimized.webp).toMatchObject({ format: 'webp', mime: 'image/webp', width: 640, height: 480 });
    expect(optimized.webp.size).toBe(optimized.webp.data.length);
    const avif = await sharp(optimized.avif!.data).metadata();
    expect([avif.format, avif.compression, avif.width, avif.height]).toEqual(['heif', 'av1', 640, 480]);
    expect(optimized.avif).toMatchObject({ format: 'avif', mime: 'image/avif', width: 640, height: 480 });
    for (const thumbnail of thumbnails) expect((await sharp(thumbnail.data).metadata()).format).toBe('webp');
    // Without FILES_AVIF no AVIF is made.
    expect((await processImage(original, OPTIONS)).optimized.avif).toBeNull();
  });

  test('EXIF orientation 6: thumbnails and copies come out turned, width and height swapped', async () => {
    // Stored 800 × 600 with its red quarter top-left; displayed turned 90° clockwise.
    const original = await photo({ width: 800, height: 600, format: 'jpeg', orientation: 6 });
    expect((await sharp(original).metadata()).orientation).toBe(6);
    const result = await processImage(original, { ...OPTIONS, avif: true });
    expect([result.metadata.width, result.metadata.height]).toEqual([600, 800]);
    expect(result.thumbnails.map(({ width, height }) => [width, height])).toEqual([
      [75, 100],
      [300, 400],
      [600, 800],
    ]);
    for (const image of [...result.thumbnails, result.optimized.webp, result.optimized.avif!]) {
      const header = await sharp(image.data).metadata();
      expect([header.width, header.height, header.orientation]).toEqual([image.width, image.height, undefined]);
      // The red quarter is now top-right.
      expect(isRed(await pixel(image.data, image.width - 2, 1)), `${image.format} ${image.width}`).toBe(true);
      expect(isBlue(await pixel(image.data, 1, 1)), `${image.format} ${image.width}`).toBe(true);
    }
  });

  test('a PNG with transparency and EXIF: alpha kept, metadata read, none left in the derivatives', async () => {
    const original = await photo({ width: 500, height: 300, format: 'png', alpha: true });
    expect((await sharp(original).metadata()).exif).toBeDefined();
    const result = await processImage(original, OPTIONS);
    expect(result.metadata).toMatchObject({ format: 'png', width: 500, height: 300, hasAlpha: true });
    expect(result.metadata.cameraModel).toBe(CAMERA.model);
    for (const image of [...result.thumbnails, result.optimized.webp]) {
      expect((await sharp(image.data).metadata()).hasAlpha).toBe(true);
      await expectNoMetadata(image);
    }
  });

  test('thumbnails never enlarge an image smaller than their box', async () => {
    const small = await sharp({ create: { width: 60, height: 40, channels: 3, background: 'green' } })
      .jpeg()
      .toBuffer();
    const result = await processImage(small, OPTIONS);
    expect(result.thumbnails.map(({ width, height }) => [width, height])).toEqual([
      [60, 40],
      [60, 40],
      [60, 40],
    ]);
    expect([result.optimized.webp.width, result.optimized.webp.height]).toEqual([60, 40]);
    expect(result.metadata).toMatchObject({ cameraMake: null, cameraModel: null, takenAt: null });
  });

  test('a 20,000 × 20,000 image is refused from its header, before any decoding', async () => {
    const bomb = pngHeaderClaiming(20_000, 20_000);
    expect(bomb.length).toBeLessThan(200_000);
    const started = performance.now();
    for (const attempt of [
      () => imageInfo(bomb, MAX_PIXELS),
      () => processImage(bomb, OPTIONS),
      () => stripMetadata(bomb, MAX_PIXELS),
    ]) {
      await expect(attempt()).rejects.toSatisfy(
        (error) =>
          error instanceof FileRejectedError &&
          error.code === MediaErrorCode.TOO_MANY_PIXELS &&
          error.message.includes('20000 × 20000'),
      );
    }
    expect(performance.now() - started).toBeLessThan(500);
    // Under a cap that admits it, decoding is tried and fails on the missing rows: the refusal
    // above can only have come from the header.
    await expect(
      processImage(bomb, { sizes: [{ width: 100, height: 100 }], avif: false, maxPixels: 400_000_000 }),
    ).rejects.toMatchObject({ code: MediaErrorCode.IMAGE_UNREADABLE });
  });

  test.each([
    ['text', Buffer.from('this is not an image')],
    ['a truncated JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46])],
  ])('%s is refused as an unreadable image', async (_name, bytes) => {
    await expect(processImage(bytes, OPTIONS)).rejects.toSatisfy(
      (error) => error instanceof FileRejectedError && error.code === MediaErrorCode.IMAGE_UNREADABLE,
    );
  });

  test.each([
    ['jpeg', 'image/jpeg'],
    ['png', 'image/png'],
    ['webp', 'image/webp'],
  ] as const)('stripMetadata keeps a %s a %s, upright, without EXIF, GPS or XMP', async (format, mime) => {
    const original = await photo({ width: 300, height: 200, format, orientation: 6 });
    const before = await sharp(original).metadata();
    expect([before.exif, before.xmp, before.orientation]).toEqual([expect.any(Buffer), expect.any(Buffer), 6]);
    const stripped = await stripMetadata(original, MAX_PIXELS);
    expect(stripped).toMatchObject({ format, mime, width: 200, height: 300 });
    expect((await sharp(stripped.data).metadata()).format).toBe(format);
    expect(isRed(await pixel(stripped.data, 198, 1))).toBe(true);
    await expectNoMetadata(stripped);
  });

  test('an animated GIF keeps its animation in the WebP copy; thumbnails are its first frame', async () => {
    const gif = await animatedGif();
    const result = await processImage(gif, OPTIONS);
    expect(result.metadata).toMatchObject({ format: 'gif', width: 60, height: 40, pages: 3 });
    const webp = await sharp(result.optimized.webp.data).metadata();
    expect([webp.pages, webp.width, webp.height]).toEqual([3, 60, 40]);
    expect([result.optimized.webp.width, result.optimized.webp.height]).toEqual([60, 40]);
    expect((await sharp(result.thumbnails[0]!.data).metadata()).pages).toBeUndefined();
    expect(isRed(await pixel(result.thumbnails[0]!.data, 30, 20))).toBe(true);
    const stripped = await stripMetadata(gif, MAX_PIXELS);
    expect((await sharp(stripped.data).metadata()).pages).toBe(3);
  });

  test.each([
    ['2024:05:06 07:08:09', undefined, '2024-05-06T07:08:09'],
    ['2024:05:06 07:08:09', '+02:00', '2024-05-06T07:08:09+02:00'],
    ['2024:05:06 07:08:09', '-05:30', '2024-05-06T07:08:09-05:30'],
    ['2024:05:06 07:08:09', 'local', '2024-05-06T07:08:09'],
    ['2024:02:29 23:59:59', undefined, '2024-02-29T23:59:59'],
    ['2023:02:29 10:00:00', undefined, null],
    ['0000:00:00 00:00:00', undefined, null],
    ['2024:05:06 24:00:00', undefined, null],
    ['2024-05-06 07:08:09', undefined, null],
    ['', undefined, null],
    [20240506, undefined, null],
  ])('EXIF date %j with offset %j is taken as %j', (value, offset, expected) => {
    expect(exifDateTime(value, offset)).toBe(expected);
  });
});

describe('video', () => {
  let dir: string;
  let video: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'plugboard-media-'));
    video = await tenSecondVideo(dir);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a video made by ffmpeg is detected as video and allowed', async () => {
    const detected = await detectType(await readFile(video));
    expect(detected?.mime).toBe('video/mp4');
    expect(isAllowed(detected!.mime, DEFAULT_ALLOWED)).toBe(true);
  });

  async function expectFactsAndPoster(tools: MediaTools): Promise<void> {
    const probe = await probeVideo(video, tools);
    expect(probe).toMatchObject({ width: 320, height: 240, videoCodec: 'h264', audioCodec: 'aac' });
    expect(probe.container).toContain('mp4');
    expect(probe.durationSeconds).toBeCloseTo(10, 0);
    const at = posterTime(probe.durationSeconds);
    expect(at).toBeCloseTo(1, 1);
    const poster = await posterFrame(video, at, tools);
    const header = await sharp(poster).metadata();
    expect([header.format, header.width, header.height]).toEqual(['jpeg', 320, 240]);
    // testsrc draws a running counter: a later frame is another picture.
    const later = await posterFrame(video, 5, tools);
    expect(later.equals(poster)).toBe(false);
  }

  test('with the installer packages (the default): duration, dimensions, codecs and a poster at 10 %', async () => {
    await expectFactsAndPoster({});
  });

  const system = { ffmpegPath: '/usr/bin/ffmpeg', ffprobePath: '/usr/bin/ffprobe' };
  test.skipIf(!existsSync(system.ffmpegPath) || !existsSync(system.ffprobePath))(
    "with the system's ffmpeg and ffprobe: the same facts and poster",
    async () => {
      await expectFactsAndPoster(system);
    },
  );

  test('with ffmpeg and ffprobe missing, each file fails with FILES_FFMPEG_MISSING', async () => {
    const missing = { ffmpegPath: join(dir, 'no-ffmpeg'), ffprobePath: join(dir, 'no-ffprobe') };
    await expect(probeVideo(video, missing)).rejects.toSatisfy(
      (error) =>
        error instanceof MediaToolError &&
        error.code === MediaErrorCode.FFMPEG_MISSING &&
        error.message.includes(missing.ffprobePath) &&
        error.message.includes('FILES_FFPROBE_PATH'),
    );
    await expect(posterFrame(video, 1, missing)).rejects.toSatisfy(
      (error) =>
        error instanceof MediaToolError &&
        error.code === MediaErrorCode.FFMPEG_MISSING &&
        error.message.includes(missing.ffmpegPath),
    );
  });

  test('a file that is not a video is refused, without its path in the message', async () => {
    const fake = join(dir, 'not-a-video.mp4');
    await writeFile(fake, Buffer.from('ftyp but not really a video at all'.repeat(20)));
    for (const attempt of [() => probeVideo(fake), () => posterFrame(fake, 0)]) {
      await expect(attempt()).rejects.toSatisfy(
        (error) =>
          error instanceof FileRejectedError &&
          error.code === MediaErrorCode.VIDEO_UNREADABLE &&
          !error.message.includes(dir),
      );
    }
  });

  test('a run over its time is stopped with FILES_MEDIA_TIMEOUT', async () => {
    await expect(probeVideo(video, { timeoutMs: 1 })).rejects.toSatisfy(
      (error) => error instanceof MediaToolError && error.code === MediaErrorCode.MEDIA_TIMEOUT,
    );
  });
});

describe('PDF', () => {
  test('a two-page PDF: page count 2 and a PNG of page 1 at the requested width', async () => {
    const preview = await pdfPreview(pdfWithPages(['Page one', 'Page two']), 300);
    expect(preview.pageCount).toBe(2);
    const header = await sharp(preview.png).metadata();
    expect([header.format, header.width, header.height]).toEqual(['png', 300, Math.round((300 * 792) / 612)]);
    expect([preview.width, preview.height]).toEqual([header.width, header.height]);
    // The blue rectangle was drawn (red channel 0.2 × 255), on white.
    const { channels } = await sharp(preview.png).stats();
    expect(channels[0]!.min).toBeLessThan(80);
    expect(channels[0]!.max).toBe(255);
  });

  test('a page taller than four widths is cut to four widths', async () => {
    const preview = await pdfPreview(pdfWithPages(['tall'], { width: 100, height: 2000 }), 200);
    expect([preview.width, preview.height]).toEqual([200, 800]);
    const header = await sharp(preview.png).metadata();
    expect([header.width, header.height]).toEqual([200, 800]);
  });

  const valid = pdfWithPages(['Page one', 'Page two']);
  test.each([
    ['garbage after the header', Buffer.from(`%PDF-1.7\n${'x'.repeat(500)}`)],
    ['the first 200 bytes', valid.subarray(0, 200)],
    ['no bytes', Buffer.alloc(0)],
    ['a JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46])],
  ])('a corrupt PDF (%s) is refused with FILES_PDF_UNREADABLE', async (_name, bytes) => {
    await expect(pdfPreview(bytes, 300)).rejects.toSatisfy(
      (error) => error instanceof FileRejectedError && error.code === MediaErrorCode.PDF_UNREADABLE,
    );
  });

  test.each([0, -1, 1.5, 5000])('a preview width of %s is a caller error', async (width) => {
    await expect(pdfPreview(valid, width)).rejects.toThrow(RangeError);
  });
});
