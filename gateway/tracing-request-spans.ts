/**
 * The spans of a sampled request's own path (its server span, its GraphQL operation's, its root
 * fields'), made by the gateway instead of the SDK's tracer and handed to the same span processors
 * (the database message filter, batching, export), which read them as any finished span.
 *
 * Why: the SDK's span (sampler, limits, attribute sanitizing, time anchoring, its processors'
 * hooks) is general, and at 10 % sampling its code runs for one request in ten, among the
 * gateway's hot paths; this one does what these kinds of span need and no more. Both traced at
 * 10 % in bench:tracing's pairs, a gateway with these served 102.2 % of the requests of one with
 * the SDK's spans, at 98.6 % of its CPU per request (bench/RESULTS.md).
 *
 * A span is made here only where the SDK would record it anyway: under a request the gateway
 * sampled itself (PRESAMPLED), or under a sampled parent when the sampler follows parents. Any
 * other span goes to the SDK's tracer, and so to its sampler.
 */
import {
  type Attributes,
  type AttributeValue,
  type Context,
  type Exception,
  type HrTime,
  isSpanContextValid,
  type Link,
  type Span,
  type SpanContext,
  type SpanKind,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
  trace,
  TraceFlags,
  type Tracer,
} from '@opentelemetry/api';
import {
  getNumberFromEnv,
  hrTime,
  hrTimeDuration,
  type InstrumentationScope,
  isAttributeValue,
  timeInputToHrTime,
} from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  RandomIdGenerator,
  type ReadableSpan,
  type Span as SdkSpan,
  type SpanProcessor,
  type TimedEvent,
} from '@opentelemetry/sdk-trace-node';
import type { StartRequestSpan } from './tracing.ts';

/** Where finished request spans go, and what the SDK would have decided for them. */
export interface RequestSpanSink {
  resource: Resource;
  /** The provider's span processors, in its order. */
  processors: SpanProcessor[];
  /** Whether the sampler records a child of a sampled parent (the parentbased_* samplers, always_on). */
  followsSampledParents: boolean;
  /** Whether a context is that of a request the gateway sampled itself, with no parent span. */
  presampled(parent: Context): boolean;
}

/** The SDK's span limits (OTEL_SPAN_*_LIMIT, then OTEL_ATTRIBUTE_*_LIMIT), read as it reads them. */
function limits() {
  const number = (span: string, general?: string) =>
    getNumberFromEnv(span) ?? (general === undefined ? undefined : getNumberFromEnv(general));
  return {
    attributes: number('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 'OTEL_ATTRIBUTE_COUNT_LIMIT') ?? 128,
    valueLength: number('OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT', 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT') ?? Infinity,
    events: number('OTEL_SPAN_EVENT_COUNT_LIMIT') ?? 128,
    links: number('OTEL_SPAN_LINK_COUNT_LIMIT') ?? 128,
  };
}
type Limits = ReturnType<typeof limits>;

/**
 * A time as the SDK reads one: a number up to performance.now() is a performance timestamp, kept
 * as it is and turned into an HrTime only when read (at export); a larger one is epoch ms.
 */
type SpanTime = number | HrTime;
function spanTime(time: TimeInput | undefined): SpanTime {
  if (time === undefined) return performance.now();
  if (typeof time === 'number' && time <= performance.now()) return time;
  return timeInputToHrTime(time);
}
const toHrTime = (time: SpanTime): HrTime => (typeof time === 'number' ? hrTime(time) : time);

/** Shared until a span gets one of its own: most spans have no events or links and an unset status. */
const NO_EVENTS: TimedEvent[] = Object.freeze([]) as unknown as TimedEvent[];
const NO_LINKS: Link[] = Object.freeze([]) as unknown as Link[];
const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });

/**
 * A span kept small, since it waits (with up to a batch of others) for export, and what survives
 * the young generation's collections is copied by each of them: shared empty lists and status,
 * times as plain numbers until read. TypeScript's `private` rather than `#` fields, whose
 * definitions go through a slower inline cache where the sampled path is not yet optimized
 * (callgrind, bench/RESULTS.md).
 */
class RequestSpan implements Span, ReadableSpan {
  name: string;
  readonly kind: SpanKind;
  readonly attributes: Attributes = {};
  private attributeCount = 0;
  readonly parentSpanContext: SpanContext | undefined;
  private start: SpanTime;
  private finish: SpanTime = 0;
  ended = false;
  status: SpanStatus = UNSET;
  links: Link[] = NO_LINKS;
  events: TimedEvent[] = NO_EVENTS;
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  private readonly context: SpanContext;
  private readonly sink: RequestSpanSink;
  private readonly limits: Limits;

  constructor(
    scope: InstrumentationScope,
    name: string,
    context: SpanContext,
    parentSpanContext: SpanContext | undefined,
    options: SpanOptions,
    sink: RequestSpanSink,
    spanLimits: Limits,
  ) {
    this.name = name;
    this.kind = options.kind ?? 0;
    this.parentSpanContext = parentSpanContext;
    this.start = spanTime(options.startTime);
    this.resource = sink.resource;
    this.instrumentationScope = scope;
    this.context = context;
    this.sink = sink;
    this.limits = spanLimits;
    if (options.attributes) this.setAttributes(options.attributes);
    if (options.links) this.addLinks(options.links);
  }

  get startTime(): HrTime {
    return toHrTime(this.start);
  }
  get endTime(): HrTime {
    return this.ended ? toHrTime(this.finish) : [0, 0];
  }
  get duration(): HrTime {
    return this.ended ? hrTimeDuration(this.startTime, this.endTime) : [0, 0];
  }
  spanContext(): SpanContext {
    return this.context;
  }
  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (this.ended || value === undefined || !isAttributeValue(value)) return this;
    if (!Object.hasOwn(this.attributes, key)) {
      if (this.attributeCount >= this.limits.attributes) {
        this.droppedAttributesCount++;
        return this;
      }
      this.attributeCount++;
    }
    this.attributes[key] =
      typeof value === 'string' && value.length > this.limits.valueLength
        ? value.slice(0, this.limits.valueLength)
        : value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }
  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    if (this.events.length >= this.limits.events) {
      this.droppedEventsCount++;
      return this;
    }
    const timeGiven =
      typeof attributesOrTime === 'number' || Array.isArray(attributesOrTime) || attributesOrTime instanceof Date;
    const at = (timeGiven ? attributesOrTime : time) as TimeInput | undefined;
    if (this.events === NO_EVENTS) this.events = [];
    this.events.push({
      name,
      attributes: timeGiven ? {} : ((attributesOrTime as Attributes | undefined) ?? {}),
      time: toHrTime(spanTime(at)),
      droppedAttributesCount: 0,
    });
    return this;
  }
  addLink(link: Link): this {
    if (this.ended) return this;
    if (this.links.length >= this.limits.links) this.droppedLinksCount++;
    else {
      if (this.links === NO_LINKS) this.links = [];
      this.links.push(link);
    }
    return this;
  }
  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }
  setStatus(status: SpanStatus): this {
    // Like the SDK's: a message only with an error, and OK final.
    if (this.ended || this.status.code === SpanStatusCode.OK || status.code === SpanStatusCode.UNSET) return this;
    this.status =
      status.code === SpanStatusCode.ERROR && typeof status.message === 'string'
        ? { code: status.code, message: status.message }
        : { code: status.code };
    return this;
  }
  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }
  /** The exception's class only: its message may quote what a client sent (gateway/tracing.ts). */
  recordException(exception: Exception, time?: TimeInput): void {
    const type = typeof exception === 'string' ? 'Error' : (exception.name ?? 'Error');
    this.addEvent('exception', { 'exception.type': type }, time);
  }
  isRecording(): boolean {
    return !this.ended;
  }
  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.finish = spanTime(endTime);
    const { processors } = this.sink;
    for (const processor of processors) processor.onEnding?.(this as unknown as SdkSpan);
    this.ended = true;
    for (const processor of processors) processor.onEnd(this);
  }
}

/**
 * The gateway's `StartRequestSpan` (gateway/tracing.ts): a RequestSpan where the SDK would record
 * the span, else the SDK's tracer for `scope`.
 */
export function requestSpanStarter(sink: RequestSpanSink): StartRequestSpan {
  const ids = new RandomIdGenerator();
  const spanLimits = limits();
  const tracers = new Map<string, { tracer: Tracer; scope: InstrumentationScope }>();
  return (scopeName, name, options, parent) => {
    let known = tracers.get(scopeName);
    if (!known) {
      known = { tracer: trace.getTracer(scopeName), scope: { name: scopeName } };
      tracers.set(scopeName, known);
    }
    const parentSpan = trace.getSpanContext(parent);
    const sampledParent =
      parentSpan !== undefined && isSpanContextValid(parentSpan) && (parentSpan.traceFlags & TraceFlags.SAMPLED) !== 0;
    // Under a request the gateway sampled, every span is recorded (its sampler says so too).
    const recorded = sink.presampled(parent) || (sampledParent && sink.followsSampledParents);
    if (!recorded) return known.tracer.startSpan(name, options, parent);
    const context: SpanContext = {
      traceId: sampledParent ? parentSpan.traceId : ids.generateTraceId(),
      spanId: ids.generateSpanId(),
      traceFlags: TraceFlags.SAMPLED,
      ...(sampledParent && parentSpan.traceState ? { traceState: parentSpan.traceState } : {}),
    };
    const span = new RequestSpan(
      known.scope,
      name,
      context,
      sampledParent ? parentSpan : undefined,
      options,
      sink,
      spanLimits,
    );
    for (const processor of sink.processors) processor.onStart(span as unknown as SdkSpan, parent);
    return span;
  };
}
