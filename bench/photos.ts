/**
 * The benchmarks' photos: 12 MP (4000 × 3000) JPEGs at quality 90 with camera EXIF, a smooth
 * colour field with grain (~3.6 MB each, like a phone's photo), made once with sharp and kept in
 * the system's temp folder, so later runs on the same machine reuse them.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

export const WIDTH = 4000;
export const HEIGHT = 3000;

/**
 * Photo `seed`: a 16 × 12 field of random colours enlarged smoothly to 12 MP, with Gaussian grain
 * (σ 10 per channel) from one noise field shifted per photo, as JPEG q90 with camera EXIF.
 */
async function makePhoto(seed: number, grain: Buffer): Promise<Buffer> {
  let state = (seed * 2_654_435_761) >>> 0;
  const random = () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
  const field = Buffer.alloc(16 * 12 * 3);
  for (let i = 0; i < field.length; i++) field[i] = Math.floor(random() * 256);
  const base = await sharp(field, { raw: { width: 16, height: 12, channels: 3 } })
    .resize(WIDTH, HEIGHT, { kernel: 'cubic' })
    .raw()
    .toBuffer();
  const shift = Math.floor(random() * 256) * 3;
  // Clamped: grain pushing a channel past 0 or 255 stops there.
  const pixels = new Uint8ClampedArray(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y++) {
    const row = y * WIDTH * 3;
    const grainRow = y * (WIDTH + 256) * 3 + shift;
    for (let x = 0; x < WIDTH * 3; x++) {
      pixels[row + x] = base[row + x]! + ((grain[grainRow + x]! - 128) >> 2);
    }
  }
  return sharp(pixels, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
    .jpeg({ quality: 90 })
    .withExifMerge({
      IFD0: { Make: 'BenchCam', Model: `B-${seed}` },
      IFD2: { DateTimeOriginal: '2024:05:06 07:08:09', OffsetTimeOriginal: '+02:00' },
    })
    .toBuffer();
}

/** The photos, made once and kept (a run of the benchmark on the same machine reuses them). */
export async function ensurePhotos(count: number): Promise<string[]> {
  const dir = join(tmpdir(), `plugboard-bench-photos-${WIDTH}x${HEIGHT}-v1`);
  await mkdir(dir, { recursive: true });
  const paths = Array.from({ length: count }, (_, i) => join(dir, `photo-${String(i).padStart(3, '0')}.jpg`));
  const missing = paths.filter((path) => !existsSync(path));
  if (missing.length > 0) {
    console.log(`making ${missing.length} photos of ${WIDTH} × ${HEIGHT} in ${dir} (once)…`);
    const grain = await sharp({
      create: {
        width: WIDTH + 256,
        height: HEIGHT,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    })
      .raw()
      .toBuffer();
    for (const path of missing) {
      // Written aside and renamed, so an interrupted run leaves no half photo behind.
      await writeFile(`${path}.part`, await makePhoto(paths.indexOf(path) + 1, grain));
      await rename(`${path}.part`, path);
    }
  }
  return paths;
}
