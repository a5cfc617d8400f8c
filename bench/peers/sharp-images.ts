/**
 * The raw side of the image benchmark: one process doing the plugin's image work with raw sharp
 * (bench/peers/sharp-pipeline.ts) for COUNT photos, taken in turn from PHOTOS (paths, one a
 * line), CONCURRENCY at a time as the plugin's queue runs them. Each photo is read from the disk
 * first, as the plugin reads its copy. Answers the parent over IPC with the time from the first
 * read to the last photo done, the time each photo took (summed) and this process's CPU time.
 */
import { readFile } from 'node:fs/promises';
import { parseBoxes, rawImageWork } from './sharp-pipeline.ts';

const photos = process.env['PHOTOS']!.split('\n');
const count = Number(process.env['COUNT']);
const concurrency = Number(process.env['CONCURRENCY']);
const boxes = parseBoxes(process.env['SIZES']!);

let next = 0;
let bytesOut = 0;
let busyMs = 0;
const cpuStarted = process.cpuUsage();
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < count) {
      const photo = photos[next++ % photos.length]!;
      const imageStarted = performance.now();
      const work = await rawImageWork(await readFile(photo), boxes);
      busyMs += performance.now() - imageStarted;
      if (!work.metadata.width || work.thumbnails.length !== boxes.length) throw new Error(`${photo}: no work done`);
      bytesOut += work.webp.length + work.thumbnails.reduce((sum, t) => sum + t.length, 0);
    }
  }),
);
const ms = performance.now() - started;
const cpu = process.cpuUsage(cpuStarted);
process.send!({ ms, cpuMicros: cpu.user + cpu.system, busyMs, bytesOut }, () => process.disconnect());
