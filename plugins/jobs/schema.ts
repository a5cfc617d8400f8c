/**
 * The jobs GraphQL API. Admins may do everything; callers whose role is in JOBS_ENQUEUE_ROLES may
 * enqueue the job types declared safe for users and see, follow and cancel the jobs they enqueued.
 * A job is named by its queue and id (ids repeat across queues); `queue` defaults to `default`.
 */
import {
  badUserInput,
  type Builder,
  codedError,
  ErrorCode,
  forbidden,
  forwardConnection,
  JOB_STATES,
  type JobEvent,
  type JobState,
  type PluginRuntime,
  type Session,
} from '../../gateway/sdk.ts';
import type { JobsConfig } from './config.ts';
import { DEFAULT_QUEUE } from './job-types/index.ts';
import {
  checkCron,
  type ApiCaller,
  type FailureRow,
  type JobRow,
  type JobsService,
  type JobUpdate,
  type ScheduleRow,
} from './service.ts';

/** The queue argument that, with an id, names a job. */
const JOB_QUEUE_ARG = { defaultValue: DEFAULT_QUEUE, description: "The job's queue: ids repeat across queues." };

const EVENT_KINDS: JobEvent['kind'][] = ['added', 'active', 'progress', 'completed', 'failed', 'retrying', 'cancelled'];

const upper = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((value) => [value.toUpperCase(), { value }])) as Record<Uppercase<T>, { value: T }>;

export function addJobsSchema(builder: Builder, runtime: PluginRuntime<JobsConfig>, service: () => JobsService): void {
  const isAdmin = (session: Session) => session.role === 'admin';
  const canEnqueue = (session: Session) =>
    isAdmin(session) || (session.userId !== null && runtime.config.enqueueRoles.includes(session.role));
  const canSee = (session: Session, job: JobRow) =>
    isAdmin(session) || (canEnqueue(session) && job.requested_by !== null && job.requested_by === session.userId);

  const callerOf = (session: Session): ApiCaller => ({ admin: isAdmin(session), userId: session.userId });

  const visibleJob = async (session: Session, queue: string, id: string) => {
    const job = await service().job(queue, id);
    if (!job) throw codedError(ErrorCode.NOT_FOUND, `No job ${id} on queue "${queue}"`);
    if (!canSee(session, job)) throw forbidden('Only admins and the user who enqueued a job may see it');
    return job;
  };

  const JobStateEnum = builder.enumType('JobState', { values: upper(JOB_STATES) });
  const JobEventKindEnum = builder.enumType('JobEventKind', { values: upper(EVENT_KINDS) });

  const JobFailureType = builder.objectRef<FailureRow>('JobFailure').implement({
    description: 'One failed attempt of a job.',
    fields: (t) => ({
      attempt: t.exposeInt('attempt'),
      error: t.exposeString('error'),
      willRetry: t.exposeBoolean('will_retry'),
      failedAt: t.expose('failed_at', { type: 'DateTime' }),
    }),
  });

  const JobType = builder.objectRef<JobRow>('Job').implement({
    description: 'A background job, from the history kept in Postgres.',
    fields: (t) => ({
      id: t.exposeID('id'),
      queue: t.exposeString('queue'),
      type: t.exposeString('type'),
      state: t.field({ type: JobStateEnum, resolve: (job) => job.state }),
      payload: t.expose('payload', { type: 'JSON', nullable: true }),
      progress: t.expose('progress', { type: 'JSON', nullable: true }),
      result: t.expose('result', { type: 'JSON', nullable: true }),
      lastError: t.exposeString('last_error', { nullable: true }),
      attemptsMade: t.exposeInt('attempts_made'),
      maxAttempts: t.exposeInt('max_attempts', { nullable: true }),
      requestedBy: t.exposeString('requested_by', { nullable: true }),
      createdAt: t.expose('created_at', { type: 'DateTime' }),
      startedAt: t.expose('started_at', { type: 'DateTime', nullable: true }),
      finishedAt: t.expose('finished_at', { type: 'DateTime', nullable: true }),
      failures: t.field({
        type: [JobFailureType],
        description: 'Every failed attempt, oldest first.',
        resolve: (job, _args, context) =>
          context.loaders
            .get('jobs.failures', (jobs: readonly JobRow[]) => service().failures(jobs), {
              cacheKeyFn: (key: JobRow) => `${key.queue}\n${key.id}`,
            })
            .load(job),
      }),
    }),
  });

  const JobScheduleType = builder.objectRef<ScheduleRow>('JobSchedule').implement({
    description: 'A cron schedule that enqueues a job.',
    fields: (t) => ({
      id: t.exposeID('id'),
      queue: t.exposeString('queue'),
      type: t.exposeString('type'),
      cron: t.exposeString('cron'),
      timezone: t.exposeString('timezone'),
      payload: t.expose('payload', { type: 'JSON', nullable: true }),
      createdBy: t.exposeString('created_by', { nullable: true }),
      createdAt: t.expose('created_at', { type: 'DateTime' }),
      nextRunAt: t.field({ type: 'DateTime', resolve: (schedule) => checkCron(schedule.cron, schedule.timezone) }),
    }),
  });

  const JobMinuteType = builder.objectRef<{ minute: Date; completed: number; failed: number }>('JobMinute').implement({
    description: 'Jobs that finished in one minute.',
    fields: (t) => ({
      minute: t.field({ type: 'DateTime', resolve: (row) => row.minute }),
      completed: t.exposeInt('completed'),
      failed: t.exposeInt('failed'),
    }),
  });

  const QueueStatsType = builder
    .objectRef<{ queue: string; backend: string } & Record<JobState, number>>('QueueStats')
    .implement({
      description: 'Jobs of one queue by state, as the queue holds them now.',
      fields: (t) => ({
        queue: t.exposeString('queue'),
        backend: t.exposeString('backend', { description: '`bullmq` (Redis) or `postgres` (pg-boss).' }),
        waiting: t.exposeInt('waiting'),
        delayed: t.exposeInt('delayed'),
        active: t.exposeInt('active'),
        completed: t.exposeInt('completed'),
        failed: t.exposeInt('failed'),
        cancelled: t.exposeInt('cancelled'),
      }),
    });

  const JobUpdateType = builder.objectRef<JobUpdate>('JobUpdate').implement({
    description: 'A change in a job: started, progressed, finished, retried or cancelled.',
    fields: (t) => ({
      id: t.exposeID('id'),
      queue: t.exposeString('queue'),
      type: t.exposeString('type', { nullable: true }),
      event: t.field({ type: JobEventKindEnum, resolve: (update) => update.kind }),
      state: t.field({ type: JobStateEnum, resolve: (update) => update.state }),
      attempt: t.exposeInt('attempt', { nullable: true }),
      progress: t.expose('progress', { type: 'JSON', nullable: true }),
      result: t.expose('result', { type: 'JSON', nullable: true }),
      error: t.exposeString('error', { nullable: true }),
      at: t.expose('at', { type: 'DateTime' }),
    }),
  });

  const EnqueueJobOptions = builder.inputType('EnqueueJobOptions', {
    fields: (t) => ({
      jobId: t.string({
        description: 'Idempotency key: enqueueing the same key again adds no second job while the first exists.',
      }),
      delayMs: t.int({ description: 'Run no earlier than this many milliseconds from now.' }),
      priority: t.int({ description: '1 (most urgent) … 1000; jobs without a priority go first.' }),
      attempts: t.int({ description: 'Attempts in all; default JOBS_RETRY_ATTEMPTS.' }),
      backoffMs: t.int({ description: 'First retry delay, doubling each retry; default JOBS_RETRY_DELAY.' }),
    }),
  });

  builder.queryFields((t) => ({
    job: t.field({
      type: JobType,
      nullable: true,
      description: 'A job by queue and id: admins see any, others the jobs they enqueued.',
      authScopes: { $any: { admin: true, loggedIn: true } },
      args: { id: t.arg.id({ required: true }), queue: t.arg.string(JOB_QUEUE_ARG) },
      resolve: (_root, { id, queue }, context) => visibleJob(context.session, queue ?? DEFAULT_QUEUE, String(id)),
    }),
    jobs: t.connection({
      type: JobType,
      description: 'Jobs newest first. Admins see all; callers who may enqueue see their own.',
      authScopes: { $any: { admin: true, loggedIn: true } },
      args: {
        queue: t.arg.string(),
        state: t.arg({ type: JobStateEnum }),
        type: t.arg.string(),
      },
      resolve: (_root, args, context) => {
        if (!canEnqueue(context.session))
          throw forbidden('Listing jobs needs the admin role or one of JOBS_ENQUEUE_ROLES');
        const requestedBy = isAdmin(context.session) ? null : context.session.userId;
        return forwardConnection('jobs', args, (after, limit) =>
          service().page({ queue: args.queue, state: args.state, type: args.type, requestedBy }, after, limit),
        );
      },
    }),
    schedules: t.field({
      type: [JobScheduleType],
      authScopes: { admin: true },
      resolve: () => service().schedules(),
    }),
    jobThroughput: t.field({
      type: [JobMinuteType],
      description:
        'Jobs finished per minute over the last hour, of one queue or all (admins); a minute without any is absent.',
      authScopes: { admin: true },
      args: { queue: t.arg.string() },
      resolve: (_root, { queue }) => service().throughput(queue ?? null),
    }),
    queueStats: t.field({
      type: [QueueStatsType],
      authScopes: { admin: true },
      resolve: () => service().stats(),
    }),
  }));

  builder.mutationFields((t) => ({
    enqueueJob: t.field({
      type: JobType,
      description: 'Adds a job; returns when it is queued, not when it has run.',
      authScopes: (_root, _args, context) => canEnqueue(context.session),
      args: {
        queue: t.arg.string({ defaultValue: 'default' }),
        type: t.arg.string({ required: true }),
        payload: t.arg({ type: 'JSON' }),
        options: t.arg({ type: EnqueueJobOptions }),
      },
      resolve: (_root, args, context) =>
        service().enqueue(
          {
            queue: args.queue ?? 'default',
            type: args.type,
            payload: args.payload ?? {},
            ...Object.fromEntries(
              Object.entries(args.options ?? {}).filter(([, value]) => value !== null && value !== undefined),
            ),
          },
          callerOf(context.session),
        ),
    }),
    retryJob: t.field({
      type: JobType,
      description: 'Runs a failed or cancelled job again.',
      authScopes: { admin: true },
      args: { id: t.arg.id({ required: true }), queue: t.arg.string(JOB_QUEUE_ARG) },
      resolve: (_root, { id, queue }) => service().retry(queue ?? DEFAULT_QUEUE, String(id)),
    }),
    cancelJob: t.field({
      type: JobType,
      description: 'Cancels a waiting, delayed or running job (a running one is signalled to stop).',
      authScopes: { $any: { admin: true, loggedIn: true } },
      args: { id: t.arg.id({ required: true }), queue: t.arg.string(JOB_QUEUE_ARG) },
      resolve: async (_root, { id, queue }, context) => {
        await visibleJob(context.session, queue ?? DEFAULT_QUEUE, String(id));
        return service().cancel(queue ?? DEFAULT_QUEUE, String(id));
      },
    }),
    createSchedule: t.field({
      type: JobScheduleType,
      authScopes: { admin: true },
      args: {
        cron: t.arg.string({
          required: true,
          description:
            'Cron expression: 5 fields, or 6 with seconds (BullMQ honours seconds; pg-boss checks about once a minute).',
        }),
        timezone: t.arg.string({ defaultValue: 'UTC' }),
        type: t.arg.string({ required: true }),
        payload: t.arg({ type: 'JSON' }),
        queue: t.arg.string({ defaultValue: 'default' }),
      },
      resolve: (_root, args, context) =>
        service().createSchedule(
          {
            cron: args.cron,
            timezone: args.timezone ?? 'UTC',
            type: args.type,
            payload: args.payload ?? {},
            queue: args.queue ?? 'default',
          },
          callerOf(context.session),
        ),
    }),
    deleteSchedule: t.boolean({
      authScopes: { admin: true },
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }) => service().deleteSchedule(String(id)),
    }),
  }));

  builder.subscriptionFields((t) => ({
    jobUpdates: t.field({
      type: JobUpdateType,
      description:
        'Changes of one job, by id and queue (default `default`): its current state first, ending when it finishes; or, with a queue alone, of the whole queue (admins).',
      authScopes: { $any: { admin: true, loggedIn: true } },
      args: { id: t.arg.id(), queue: t.arg.string() },
      subscribe: async (_root, { id, queue }, context) => {
        if (id == null && queue == null) throw badUserInput('Give an id (and its queue), or a queue alone');
        if (id == null) {
          if (!isAdmin(context.session)) throw forbidden('Following a whole queue needs the admin role');
          return service().updates({ queue: queue! });
        }
        return service().updates({ job: await visibleJob(context.session, queue ?? DEFAULT_QUEUE, String(id)) });
      },
      resolve: (update) => update,
    }),
  }));
}
