/**
 * Rendering with LiquidJS, which is built for templates written by people other than the
 * developers: no code runs, only own properties of the data are read (no prototype walk), and a
 * missing variable is an error naming it (`strictVariables`) instead of an empty string. Partials
 * cannot read files. Text and subject render as they are; the HTML variant escapes every output.
 */
import { Liquid, type FS } from 'liquidjs';
import type { Channel } from './config.ts';

/** Partials would read the server's disk; a notification template stands alone. */
const noFiles: FS = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async (file) => Promise.reject(new Error(`templates cannot include other files (${file})`)),
  readFileSync: (file) => {
    throw new Error(`templates cannot include other files (${file})`);
  },
  resolve: (_root, file) => file,
};

const options = { strictVariables: true, strictFilters: true, ownPropertyOnly: true, fs: noFiles, relativeReference: false, cache: 500 } as const;
const text = new Liquid(options);
const html = new Liquid({ ...options, outputEscape: 'escape' });

export interface TemplateRow {
  name: string;
  channel: Channel | 'ANY';
  locale: string;
  version: number;
  subject: string | null;
  body: string;
  html: string | null;
}

export interface Rendered {
  subject: string | null;
  body: string;
  html: string | null;
}

/** A template or its data is wrong: the message says what, for the caller. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

function explain(error: unknown, template: TemplateRow, part: string): TemplateError {
  const message = error instanceof Error ? error.message : String(error);
  const missing = /^undefined variable: ([^,]+)/.exec(message);
  if (missing) return new TemplateError(`Template "${template.name}" (${template.channel}) needs data for "${missing[1]}" in its ${part}`);
  return new TemplateError(`Template "${template.name}" (${template.channel}) ${part} cannot render: ${message.split('\n')[0]}`);
}

/** Checks a template's syntax (on create/update), so a broken one is never stored. */
export function checkSyntax(template: Pick<TemplateRow, 'subject' | 'body' | 'html'> & { name: string }): void {
  for (const [part, source] of [['subject', template.subject], ['body', template.body], ['html', template.html]] as const) {
    if (source === null) continue;
    try {
      text.parse(source);
    } catch (error) {
      throw new TemplateError(`Template "${template.name}" ${part} is not valid Liquid: ${(error as Error).message.split('\n')[0]}`);
    }
  }
}

export async function render(template: TemplateRow, data: Record<string, unknown>): Promise<Rendered> {
  const part = async (engine: Liquid, source: string | null, name: string) => {
    if (source === null) return null;
    try {
      return await engine.parseAndRender(source, data);
    } catch (error) {
      throw explain(error, template, name);
    }
  };
  const [subject, body, htmlBody] = await Promise.all([part(text, template.subject, 'subject'), part(text, template.body, 'body'), part(html, template.html, 'html')]);
  return { subject, body: body!, html: htmlBody };
}
