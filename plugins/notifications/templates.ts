/**
 * Rendering with LiquidJS, which is built for templates written by people other than the
 * developers: no code runs, only own properties of the data are read (no prototype walk), and a
 * missing variable is an error naming it (`strictVariables`) instead of an empty string. Partials
 * cannot read files. Text and subject render as they are; the HTML variant escapes every output.
 *
 * Data comes from callers, so a loop bound or a string may be hostile: every render is bounded
 * (NOTIFICATIONS_TEMPLATE_*: time, characters allocated including the output, template length)
 * and a render over a bound fails with TemplateLimitError instead of holding the event loop.
 * Rendering is synchronous (no interleaving, so the time limit measures this render alone), and
 * `render` yields to I/O first, so consecutive renders never block the loop for longer than one.
 */
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { Context, Liquid, type FS } from 'liquidjs';
import type { Channel, NotificationsConfig } from './config.ts';

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

export type TemplateLimits = NotificationsConfig['templateLimits'];

/** A template or its data is wrong: the message says what, for the caller. */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** A template with this data takes too long, allocates too much, or is too long to parse. */
export class TemplateLimitError extends TemplateError {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateLimitError';
  }
}

/** LiquidJS's limit errors, and V8's when a string or array outgrows what it can hold. */
const OVER_LIMIT = /(template render|memory alloc|parse length) limit exceeded|Invalid (string|array) length/;

export class Templates {
  private readonly limits: TemplateLimits;
  private readonly text: Liquid;
  private readonly html: Liquid;

  constructor(limits: TemplateLimits) {
    this.limits = limits;
    const options = {
      strictVariables: true,
      strictFilters: true,
      ownPropertyOnly: true,
      fs: noFiles,
      relativeReference: false,
      parseLimit: limits.parseLength,
    } as const;
    this.text = new Liquid(options);
    this.html = new Liquid({ ...options, outputEscape: 'escape' });
  }

  /** Checks a template's syntax (on create/update), so a broken one is never stored. */
  checkSyntax(template: Pick<TemplateRow, 'subject' | 'body' | 'html'> & { name: string }): void {
    for (const [part, source] of [
      ['subject', template.subject],
      ['body', template.body],
      ['html', template.html],
    ] as const) {
      if (source === null) continue;
      try {
        this.text.parse(source);
      } catch (error) {
        const message = (error as Error).message.split('\n')[0];
        if (OVER_LIMIT.test(message!))
          throw new TemplateLimitError(
            `Template "${template.name}" ${part} is longer than NOTIFICATIONS_TEMPLATE_PARSE_LIMIT (${this.limits.parseLength} characters)`,
          );
        throw new TemplateError(`Template "${template.name}" ${part} is not valid Liquid: ${message}`);
      }
    }
  }

  /**
   * Renders subject, body and html with `data`. The three share one budget: the render time
   * limit, and the memory limit, which the output counts against too.
   */
  async render(template: TemplateRow, data: Record<string, unknown>): Promise<Rendered> {
    await yieldToIo();
    const budget = new Context({}, this.text.options, {
      renderLimit: this.limits.renderMs,
      memoryLimit: this.limits.memory,
    });
    const part = (engine: Liquid, source: string | null, name: string): string | null => {
      if (source === null) return null;
      try {
        const context = new Context(
          data,
          engine.options,
          { sync: true },
          { renderLimit: budget.renderLimit, memoryLimit: budget.memoryLimit, liquid: engine },
        );
        const output = engine.renderSync(engine.parse(source), context) as string;
        budget.memoryLimit.use(output.length);
        return output;
      } catch (error) {
        throw this.explain(error, template, name);
      }
    };
    const subject = part(this.text, template.subject, 'subject');
    const body = part(this.text, template.body, 'body');
    return { subject, body: body!, html: part(this.html, template.html, 'html') };
  }

  private explain(error: unknown, template: TemplateRow, part: string): TemplateError {
    const message = error instanceof Error ? error.message : String(error);
    const missing = /^undefined variable: ([^,]+)/.exec(message);
    if (missing)
      return new TemplateError(
        `Template "${template.name}" (${template.channel}) needs data for "${missing[1]}" in its ${part}`,
      );
    const limit = OVER_LIMIT.exec(message);
    if (limit) {
      const { renderMs, memory, parseLength } = this.limits;
      const which =
        limit[1] === 'template render'
          ? `takes longer than NOTIFICATIONS_TEMPLATE_RENDER_LIMIT_MS (${renderMs} ms)`
          : limit[1] === 'parse length'
            ? `is longer than NOTIFICATIONS_TEMPLATE_PARSE_LIMIT (${parseLength} characters)`
            : `allocates more than NOTIFICATIONS_TEMPLATE_MEMORY_LIMIT (${memory} characters, output included)`;
      return new TemplateLimitError(
        `Template "${template.name}" (${template.channel}) ${part} ${which} with this data`,
      );
    }
    return new TemplateError(
      `Template "${template.name}" (${template.channel}) ${part} cannot render: ${message.split('\n')[0]}`,
    );
  }
}
