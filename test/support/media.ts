/**
 * Real media made by the tests (nothing checked in): photos with EXIF, GPS and XMP written by
 * sharp, a PNG header claiming 20,000 × 20,000 pixels, executables, a video made by ffmpeg and a
 * two-page PDF written byte by byte with a correct cross-reference table.
 */
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateSync } from 'node:zlib';
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';
import sharp from 'sharp';

/** What the test photos say about their camera; none of it but make, model and time may survive. */
export const CAMERA = {
  make: 'PlugboardCam',
  model: 'Model X100',
  dateTimeOriginal: '2024:05:06 07:08:09',
  offsetTimeOriginal: '+02:00',
} as const;

/** Text placed in the XMP packet; a derivative containing it leaked XMP. */
export const XMP_MARKER = 'plugboard-xmp-secret';

/** Strings whose presence anywhere in a derivative's bytes means metadata leaked (long enough not to occur by chance). */
export const LEAK_MARKERS = [CAMERA.make, CAMERA.model, CAMERA.dateTimeOriginal, XMP_MARKER];

const XMP = `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 exif:GPSLatitude="48,51.483N" exif:GPSLongitude="2,17.667E" dc:source="${XMP_MARKER}"/>
</rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;

export interface PhotoOptions {
  width: number;
  height: number;
  format: 'jpeg' | 'png' | 'webp';
  /** EXIF orientation 1–8. @default 1 */
  orientation?: number;
  alpha?: boolean;
}

/**
 * A photo with camera EXIF, GPS and an XMP packet. Its stored top-left quarter is red on blue, so
 * a test can tell which way it was turned.
 */
export async function photo(options: PhotoOptions): Promise<Buffer> {
  const { width, height } = options;
  const channels = options.alpha ? 4 : 3;
  const marker = await sharp({
    create: { width: Math.ceil(width / 4), height: Math.ceil(height / 4), channels, background: '#ff0000' },
  })
    .png()
    .toBuffer();
  const image = sharp({
    create: { width, height, channels, background: options.alpha ? { r: 0, g: 0, b: 255, alpha: 0.5 } : '#0000ff' },
  }).composite([{ input: marker, top: 0, left: 0 }]);
  const encoded =
    options.format === 'jpeg' ? image.jpeg({ quality: 90 }) : options.format === 'webp' ? image.webp() : image.png();
  return encoded
    .withMetadata({ orientation: options.orientation ?? 1 })
    .withExifMerge({
      IFD0: { Make: CAMERA.make, Model: CAMERA.model },
      IFD2: { DateTimeOriginal: CAMERA.dateTimeOriginal, OffsetTimeOriginal: CAMERA.offsetTimeOriginal },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '48/1 51/1 29/1',
        GPSLongitudeRef: 'E',
        GPSLongitude: '2/1 17/1 40/1',
      },
    })
    .withXmp(XMP)
    .toBuffer();
}

/** A three-frame animated GIF. */
export async function animatedGif(): Promise<Buffer> {
  const frame = (colour: string) =>
    sharp({ create: { width: 60, height: 40, channels: 3, background: colour } })
      .png()
      .toBuffer();
  return sharp(await Promise.all(['red', 'green', 'blue'].map(frame)), { join: { animated: true } })
    .gif()
    .toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A PNG whose header (IHDR, with a correct CRC) claims `width` × `height` RGB pixels, followed by
 * an IDAT holding only two rows: any decoder that tries to read it fails on the missing data,
 * so a refusal naming the pixel count can only have come from the header.
 */
export function pngHeaderClaiming(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bits per sample
  header[9] = 2; // RGB
  const rows = Buffer.alloc((width * 3 + 1) * 2);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The head of a real ELF executable: the Node binary running the tests. */
export async function elfExecutable(): Promise<Buffer> {
  const file = await open(process.execPath);
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(8192), 0, 8192, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/** A Windows PE header: DOS stub "MZ", e_lfanew at 0x3c pointing to "PE\0\0", machine x86-64. */
export function peExecutable(): Buffer {
  const bytes = Buffer.alloc(1024);
  bytes.write('MZ', 0, 'latin1');
  bytes.writeUInt32LE(0x80, 0x3c);
  bytes.write('This program cannot be run in DOS mode.', 0x4e, 'latin1');
  bytes.write('PE\0\0', 0x80, 'latin1');
  bytes.writeUInt16LE(0x8664, 0x84);
  return bytes;
}

/** The ffmpeg the tests make media with (the installer package's). */
export const testFfmpeg = ffmpegInstaller.path;

/** A 10-second 320×240 H.264 video at 10 fps with a 440 Hz AAC tone, written to `dir`. */
export async function tenSecondVideo(dir: string): Promise<string> {
  const path = join(dir, 'ten-seconds.mp4');
  await promisify(execFile)(testFfmpeg, [
    '-nostdin',
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=duration=10:size=320x240:rate=10',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:duration=10',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    '-c:a',
    'aac',
    '-shortest',
    path,
  ]);
  return path;
}

/**
 * A PDF with one page per entry of `texts` (US Letter unless told): a blue rectangle near the
 * bottom and the text in Helvetica at the top. Objects, offsets and the xref table are computed,
 * so the file is valid as written (no reconstruction by the reader).
 */
export function pdfWithPages(texts: readonly string[], pageSize = { width: 612, height: 792 }): Buffer {
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${texts.map((_, index) => `${4 + index * 2} 0 R`).join(' ')}] /Count ${texts.length} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  texts.forEach((text, index) => {
    const content = `0.2 0.4 0.8 rg 50 50 200 100 re f BT /F1 24 Tf 50 ${pageSize.height - 92} Td (${text}) Tj ET`;
    objects.push(
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${pageSize.width} ${pageSize.height}] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + index * 2} 0 R >>`,
      `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
    );
  });
  let pdf = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets = objects.map((body, index) => {
    const offset = Buffer.byteLength(pdf, 'latin1');
    pdf += `${index + 1} 0 obj\n${body}\nendobj\n`;
    return offset;
  });
  const xref = Buffer.byteLength(pdf, 'latin1');
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  pdf += offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`).join('');
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

/** The chunk types of a RIFF (WebP) file, in order: where WebP keeps EXIF ("EXIF") and XMP ("XMP "). */
export function riffChunks(webp: Buffer): string[] {
  if (webp.toString('latin1', 0, 4) !== 'RIFF' || webp.toString('latin1', 8, 12) !== 'WEBP') {
    throw new Error('not a RIFF WebP file');
  }
  const chunks: string[] = [];
  let offset = 12;
  while (offset + 8 <= webp.length) {
    chunks.push(webp.toString('latin1', offset, offset + 4));
    const size = webp.readUInt32LE(offset + 4);
    offset += 8 + size + (size % 2);
  }
  return chunks;
}
