/**
 * Video facts and a poster frame, from ffprobe and ffmpeg run as child processes: argument
 * arrays (no shell), a timeout, bounded output. The binaries are the ones configured, else the
 * `@ffmpeg-installer`/`@ffprobe-installer` packages', else the system's on PATH; when none runs,
 * the file fails with FILES_FFMPEG_MISSING and the gateway carries on. Untrusted files are opened
 * with only the `file` protocol and the usual video demuxers allowed, so a "video" that is really
 * a playlist cannot make ffmpeg read other files or URLs.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { FileRejectedError, MediaErrorCode, MediaToolError } from './media-errors.ts';

export interface MediaTools {
  /** FILES_FFMPEG_PATH: this binary and no other. Unset: the installer package's, else `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /** FILES_FFPROBE_PATH: this binary and no other. Unset: the installer package's, else `ffprobe` on PATH. */
  ffprobePath?: string;
  /** How long one run of ffmpeg or ffprobe may take, in milliseconds. @default 60000 */
  timeoutMs?: number;
}

export interface VideoProbe {
  /** ffprobe's name of the container, e.g. `mov,mp4,m4a,3gp,3g2,mj2`. */
  container: string;
  durationSeconds: number | null;
  /** As displayed: a stream recorded rotated by 90° has its width and height swapped. */
  width: number | null;
  height: number | null;
  videoCodec: string | null;
  audioCodec: string | null;
}

type Tool = 'ffmpeg' | 'ffprobe';

const INSTALLER_PACKAGE: Readonly<Record<Tool, string>> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
  ffprobe: '@ffprobe-installer/ffprobe',
};

/** Demuxers for what `file-type` calls video/* (mp4/mov/3gp, mkv/webm, avi, mpeg-ps/ts, flv, asf/wmv, ogg…). */
const VIDEO_DEMUXERS = 'mov,matroska,avi,mpeg,mpegts,flv,asf,ogg,ivf,mxf,m4v';
const INPUT_GUARDS = ['-protocol_whitelist', 'file', '-format_whitelist', VIDEO_DEMUXERS];

const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_PROBE_OUTPUT = 1 << 20;
const MAX_POSTER_OUTPUT = 64 << 20;
/** The tail of stderr kept for the error message (ffmpeg says what went wrong last). */
const STDERR_TAIL = 2048;

const require = createRequire(import.meta.url);

/** Duration, dimensions and codecs of the video at `path`. */
export async function probeVideo(path: string, tools: MediaTools = {}): Promise<VideoProbe> {
  const input = resolve(path);
  const stdout = await runTool(
    'ffprobe',
    tools,
    ['-v', 'error', ...INPUT_GUARDS, '-print_format', 'json', '-show_format', '-show_streams', `file:${input}`],
    { input, maxOutput: MAX_PROBE_OUTPUT },
  );
  let report: FfprobeReport;
  try {
    report = JSON.parse(stdout.toString('utf8')) as FfprobeReport;
  } catch (error) {
    throw new FileRejectedError(MediaErrorCode.VIDEO_UNREADABLE, 'ffprobe printed no readable report', {
      cause: error,
    });
  }
  const streams = Array.isArray(report.streams) ? report.streams : [];
  // A cover image stored in the file is a "video" stream too; the picture is the other one.
  const video = streams.find((stream) => stream.codec_type === 'video' && stream.disposition?.attached_pic !== 1);
  const audio = streams.find((stream) => stream.codec_type === 'audio');
  const sideways = video ? Math.abs(rotationOf(video)) % 180 === 90 : false;
  const width = positive(video?.width);
  const height = positive(video?.height);
  return {
    container: typeof report.format?.format_name === 'string' ? report.format.format_name : 'unknown',
    durationSeconds: positive(Number(report.format?.duration)) ?? positive(Number(video?.duration)),
    width: sideways ? height : width,
    height: sideways ? width : height,
    videoCodec: typeof video?.codec_name === 'string' ? video.codec_name : null,
    audioCodec: typeof audio?.codec_name === 'string' ? audio.codec_name : null,
  };
}

/** Where the poster is taken: at 10 % of the duration (the first frames are often black). */
export function posterTime(durationSeconds: number | null): number {
  return durationSeconds && durationSeconds > 0 ? durationSeconds * 0.1 : 0;
}

/** One frame of the video at `atSeconds`, upright, as a JPEG. */
export async function posterFrame(path: string, atSeconds: number, tools: MediaTools = {}): Promise<Buffer> {
  if (!Number.isFinite(atSeconds) || atSeconds < 0) {
    throw new RangeError(`atSeconds must be a non-negative number, got ${atSeconds}`);
  }
  const input = resolve(path);
  const jpeg = await runTool(
    'ffmpeg',
    tools,
    [
      '-nostdin',
      '-v',
      'error',
      ...INPUT_GUARDS,
      // Before -i: seek in the container to the nearest key frame, then decode up to the time.
      '-ss',
      atSeconds.toFixed(3),
      '-i',
      `file:${input}`,
      '-frames:v',
      '1',
      '-an',
      '-sn',
      '-dn',
      '-f',
      'image2pipe',
      '-c:v',
      'mjpeg',
      '-q:v',
      '3',
      'pipe:1',
    ],
    { input, maxOutput: MAX_POSTER_OUTPUT },
  );
  if (jpeg.length < 3 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) {
    throw new FileRejectedError(MediaErrorCode.VIDEO_UNREADABLE, `the video has no frame at ${atSeconds.toFixed(3)} s`);
  }
  return jpeg;
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  duration?: string;
  disposition?: { attached_pic?: number };
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number }[];
}

interface FfprobeReport {
  format?: { format_name?: string; duration?: string };
  streams?: FfprobeStream[];
}

/** A phone's "recorded sideways" flag: side data in newer ffprobe, a `rotate` tag in older ones. */
function rotationOf(stream: FfprobeStream): number {
  const side = stream.side_data_list?.find((data) => typeof data.rotation === 'number')?.rotation;
  if (side !== undefined) return side;
  const tag = Number(stream.tags?.rotate);
  return Number.isFinite(tag) ? tag : 0;
}

function positive(value: number | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : null;
}

/** The binaries to try, in order: the configured one alone, else the installer package's then PATH's. */
async function candidates(tool: Tool, tools: MediaTools): Promise<string[]> {
  const configured = tool === 'ffmpeg' ? tools.ffmpegPath : tools.ffprobePath;
  if (configured) return [configured];
  const found: string[] = [];
  try {
    // The installer throws (a string) on a platform it has no binary for.
    const installed = (require(INSTALLER_PACKAGE[tool]) as { path: string }).path;
    await access(installed, constants.X_OK);
    found.push(installed);
  } catch {
    // Not installed, or not for this platform: the system's binary is next.
  }
  found.push(tool);
  return found;
}

async function runTool(
  tool: Tool,
  tools: MediaTools,
  args: string[],
  limits: { input: string; maxOutput: number },
): Promise<Buffer> {
  const tried: string[] = [];
  for (const binary of await candidates(tool, tools)) {
    try {
      return await run(binary, args, { ...limits, timeoutMs: tools.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    } catch (error) {
      if (!(error instanceof MediaToolError && error.code === MediaErrorCode.FFMPEG_MISSING)) throw error;
      tried.push(`${binary} (${error.message})`);
    }
  }
  const variable = tool === 'ffmpeg' ? 'FILES_FFMPEG_PATH' : 'FILES_FFPROBE_PATH';
  throw new MediaToolError(
    MediaErrorCode.FFMPEG_MISSING,
    `no usable ${tool}: tried ${tried.join(', ')}; install ${tool} or set ${variable}`,
  );
}

/** ffmpeg needs no configuration from the environment, so it gets none of the gateway's secrets. */
function toolEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'LD_LIBRARY_PATH']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return env;
}

/** Runs one binary; resolves with its stdout when it exits 0. */
function run(
  binary: string,
  args: string[],
  limits: { input: string; maxOutput: number; timeoutMs: number },
): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, env: toolEnvironment() });
    const output: Buffer[] = [];
    let outputBytes = 0;
    let stderr = '';
    let failure: Error | null = null;
    const stop = (error: Error) => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () =>
        stop(
          new MediaToolError(
            MediaErrorCode.MEDIA_TIMEOUT,
            `${binary} did not finish within ${limits.timeoutMs} ms and was stopped`,
          ),
        ),
      limits.timeoutMs,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (outputBytes > limits.maxOutput) {
        stop(new FileRejectedError(MediaErrorCode.VIDEO_UNREADABLE, `${binary} wrote over ${limits.maxOutput} bytes`));
        return;
      }
      output.push(chunk);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // ENOENT, EACCES, ENOEXEC: this binary cannot be run at all.
      reject(new MediaToolError(MediaErrorCode.FFMPEG_MISSING, error.code ?? error.message, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else if (code === 0) resolvePromise(Buffer.concat(output));
      else {
        // The path is the server's own business; the message names the file as "input".
        const said = stderr.split(limits.input).join('input').trim() || `exit ${code ?? signal}`;
        reject(new FileRejectedError(MediaErrorCode.VIDEO_UNREADABLE, `the video cannot be read: ${said}`));
      }
    });
  });
}
