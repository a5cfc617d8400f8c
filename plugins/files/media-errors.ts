/**
 * Why processing a file failed, as codes a job can store and branch on. A `FileRejectedError` is
 * the file's own fault (retrying it will not help); a `MediaToolError` is the machine's (a missing
 * or stuck ffmpeg): fix the machine, then reprocess.
 */

export const MediaErrorCode = {
  TOO_MANY_PIXELS: 'FILES_TOO_MANY_PIXELS',
  IMAGE_UNREADABLE: 'FILES_IMAGE_UNREADABLE',
  VIDEO_UNREADABLE: 'FILES_VIDEO_UNREADABLE',
  PDF_UNREADABLE: 'FILES_PDF_UNREADABLE',
  FFMPEG_MISSING: 'FILES_FFMPEG_MISSING',
  MEDIA_TIMEOUT: 'FILES_MEDIA_TIMEOUT',
} as const;

export type MediaErrorCode = (typeof MediaErrorCode)[keyof typeof MediaErrorCode];

/** The codes with a status and a description, for the plugin definition's `errors`. */
export const MEDIA_ERRORS = {
  [MediaErrorCode.TOO_MANY_PIXELS]: {
    status: 413,
    description: 'an image whose header claims more pixels than the pixel cap allows (refused before decoding)',
  },
  [MediaErrorCode.IMAGE_UNREADABLE]: {
    status: 422,
    description: 'an image the decoder cannot read (corrupt, truncated, or a format it does not support)',
  },
  [MediaErrorCode.VIDEO_UNREADABLE]: {
    status: 422,
    description: 'a video ffprobe/ffmpeg cannot read, or one with no video stream to take a poster from',
  },
  [MediaErrorCode.PDF_UNREADABLE]: {
    status: 422,
    description: 'a PDF that cannot be parsed, is password-protected, or whose first page cannot be rendered',
  },
  [MediaErrorCode.FFMPEG_MISSING]: {
    status: 503,
    description: 'no usable ffmpeg/ffprobe binary (FILES_FFMPEG_PATH/FILES_FFPROBE_PATH, the installer packages, PATH)',
  },
  [MediaErrorCode.MEDIA_TIMEOUT]: {
    status: 503,
    description: 'ffmpeg, ffprobe or the PDF renderer did not finish within the time allowed for one file',
  },
} as const satisfies Record<MediaErrorCode, { status: number; description: string }>;

/** The file's content is refused or cannot be read; the message says what is wrong with it. */
export class FileRejectedError extends Error {
  readonly code: MediaErrorCode;
  constructor(code: MediaErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FileRejectedError';
    this.code = code;
  }
}

/** A tool the processing needs is missing or did not finish; the file itself may be fine. */
export class MediaToolError extends Error {
  readonly code: MediaErrorCode;
  constructor(code: MediaErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MediaToolError';
    this.code = code;
  }
}
