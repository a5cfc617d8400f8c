/**
 * A PDF's page count and a PNG of its first page, with pdf.js in the gateway's own process (no
 * system binary). pdf.js never runs a document's JavaScript (that needs its separate sandbox, not
 * loaded here); string evaluation, XFA and font loading are off too. Only page 1 is parsed: the
 * count comes from the page tree's root. The render size is bounded, images inside the PDF over
 * a pixel cap are skipped, and the whole job has a deadline.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FileRejectedError, MediaErrorCode, MediaToolError } from './media-errors.ts';

export interface PdfPreviewOptions {
  /** How long reading and rendering may take, in milliseconds. @default 30000 */
  timeoutMs?: number;
  /** Images inside the PDF with more pixels are left out of the preview. @default 50000000 */
  maxImagePixels?: number;
}

export interface PdfPreview {
  pageCount: number;
  /** The first page as PNG, `width` wide; a page taller than 4 widths is cut to its top. */
  png: Buffer;
  width: number;
  height: number;
}

export const MAX_PREVIEW_WIDTH = 4096;
/** A preview's height at most: this many times its width, and MAX_PREVIEW_PIXELS in all. */
const MAX_ASPECT = 4;
const MAX_PREVIEW_PIXELS = MAX_PREVIEW_WIDTH * MAX_PREVIEW_WIDTH;
/** Postgres int4: a page count over it is not a real document. */
const MAX_PAGE_COUNT = 2_147_483_647;

const require = createRequire(import.meta.url);

/** The shape of the canvases pdf.js makes in Node (its own copy of @napi-rs/canvas). */
interface NodeCanvasFactory {
  create(width: number, height: number): { canvas: { encode(format: 'png'): Promise<Buffer> } };
}

/** Renders the first page of `input` at `width` pixels wide and counts the pages. */
export async function pdfPreview(
  input: Uint8Array,
  width: number,
  options: PdfPreviewOptions = {},
): Promise<PdfPreview> {
  if (!Number.isSafeInteger(width) || width < 1 || width > MAX_PREVIEW_WIDTH) {
    throw new RangeError(`width must be an integer from 1 to ${MAX_PREVIEW_WIDTH}, got ${width}`);
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  // Loaded on first use: pdf.js is large and polyfills DOM globals (DOMMatrix, Path2D) when imported.
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const assets = dirname(require.resolve('pdfjs-dist/package.json'));
  const task = pdfjs.getDocument({
    // A copy: pdf.js takes ownership of the array it is given.
    data: new Uint8Array(input),
    isEvalSupported: false,
    enableXfa: false,
    disableFontFace: true,
    useSystemFonts: false,
    isOffscreenCanvasSupported: false,
    isImageDecoderSupported: false,
    maxImageSize: options.maxImagePixels ?? 50_000_000,
    verbosity: pdfjs.VerbosityLevel.ERRORS,
    standardFontDataUrl: `${join(assets, 'standard_fonts')}/`,
    cMapUrl: `${join(assets, 'cmaps')}/`,
    iccUrl: `${join(assets, 'iccs')}/`,
    wasmUrl: `${join(assets, 'wasm')}/`,
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new MediaToolError(MediaErrorCode.MEDIA_TIMEOUT, `the PDF preview took over ${timeoutMs} ms`));
    }, timeoutMs);
  });
  const work = (async (): Promise<PdfPreview> => {
    const document = await task.promise;
    const pageCount = document.numPages;
    if (!Number.isSafeInteger(pageCount) || pageCount < 1 || pageCount > MAX_PAGE_COUNT) {
      throw new FileRejectedError(MediaErrorCode.PDF_UNREADABLE, `the PDF claims ${pageCount} pages`);
    }
    const page = await document.getPage(1);
    const viewport = page.getViewport({ scale: width / page.getViewport({ scale: 1 }).width });
    const height = Math.max(
      1,
      Math.min(Math.round(viewport.height), width * MAX_ASPECT, Math.floor(MAX_PREVIEW_PIXELS / width)),
    );
    // pdf.js draws with the Path2D of the @napi-rs/canvas copy it loaded itself, so the canvas
    // must come from its factory too (another copy's context refuses those paths).
    const { canvas } = (document.canvasFactory as NodeCanvasFactory).create(width, height);
    await page.render({ canvas: canvas as never, viewport }).promise;
    const png = await canvas.encode('png');
    return { pageCount, png, width, height };
  })();
  try {
    return await Promise.race([work, deadline]);
  } catch (error) {
    if (error instanceof MediaToolError || error instanceof FileRejectedError) throw error;
    throw new FileRejectedError(MediaErrorCode.PDF_UNREADABLE, pdfProblem(error), { cause: error });
  } finally {
    clearTimeout(timer);
    // Stops a render still running after the deadline and frees the document.
    work.catch(() => {});
    await task.destroy();
  }
}

function pdfProblem(error: unknown): string {
  if (!(error instanceof Error)) return `the PDF cannot be read: ${String(error)}`;
  if (error.name === 'PasswordException') return 'the PDF is password-protected';
  return `the PDF cannot be read: ${error.message}`;
}
