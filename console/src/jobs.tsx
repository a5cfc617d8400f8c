/**
 * The job queues, on whichever adapter runs them (BullMQ or the Postgres queue): counts per
 * queue, jobs by state with retry and cancel, schedules to add and remove, and jobs finished
 * per minute over the last hour (from the jobs plugin's history, which either adapter feeds).
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import {
  ConsoleCancelJobDocument,
  ConsoleCreateScheduleDocument,
  ConsoleDeleteScheduleDocument,
  ConsoleJobsDocument,
  ConsoleQueuesDocument,
  ConsoleRetryJobDocument,
  type JobState,
} from '../../client/generated/graphql.ts';
import type { RequestClient } from '../../client/request.ts';
import { lastHour, TimeChart } from './chart.tsx';
import { useLoad } from './load.ts';

const STATES: JobState[] = ['FAILED', 'WAITING', 'ACTIVE', 'DELAYED', 'COMPLETED', 'CANCELLED'];
const REFRESH_MS = 5000;

function Schedules({
  api,
  schedules,
  onChange,
}: {
  api: RequestClient;
  schedules: { id: string; queue: string; type: string; cron: string; timezone: string; nextRunAt: string }[];
  onChange: () => void;
}) {
  const [form, setForm] = useState({ queue: 'default', type: '', cron: '', timezone: 'UTC', payload: '{}' });
  const [error, setError] = useState<string | null>(null);
  const field = (name: keyof typeof form) => ({
    name,
    value: form[name],
    onInput: (event: { currentTarget: HTMLInputElement }) => setForm({ ...form, [name]: event.currentTarget.value }),
  });
  return (
    <section>
      <h2>Schedules</h2>
      <table>
        <thead>
          <tr>
            <th>queue</th>
            <th>type</th>
            <th>cron</th>
            <th>next run</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {schedules.map((schedule) => (
            <tr key={schedule.id} data-schedule={schedule.id}>
              <td>{schedule.queue}</td>
              <td>{schedule.type}</td>
              <td>
                <code>{schedule.cron}</code> {schedule.timezone}
              </td>
              <td>{new Date(schedule.nextRunAt).toLocaleString()}</td>
              <td>
                <button
                  type="button"
                  class="remove"
                  onClick={async () => {
                    await api.request(ConsoleDeleteScheduleDocument, { id: schedule.id });
                    onChange();
                  }}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        class="filters"
        onSubmit={async (event) => {
          event.preventDefault();
          setError(null);
          try {
            await api.request(ConsoleCreateScheduleDocument, { ...form, payload: JSON.parse(form.payload) });
            setForm({ ...form, type: '', cron: '' });
            onChange();
          } catch (failure) {
            setError((failure as Error).message);
          }
        }}
      >
        <label>
          queue
          <input {...field('queue')} required />
        </label>
        <label>
          type
          <input {...field('type')} placeholder="http-request" required />
        </label>
        <label>
          cron
          <input {...field('cron')} placeholder="*/5 * * * *" required />
        </label>
        <label>
          timezone
          <input {...field('timezone')} />
        </label>
        <label>
          payload (JSON)
          <input {...field('payload')} />
        </label>
        <button type="submit">Add schedule</button>
      </form>
      {error && <p class="error">{error}</p>}
    </section>
  );
}

export function JobsPage({ api }: { api: RequestClient }) {
  const queues = useLoad(() => api.request(ConsoleQueuesDocument, {}), [api]);
  const [queue, setQueue] = useState<string | null>(null);
  const [state, setState] = useState<JobState>('FAILED');
  const [notice, setNotice] = useState<string | null>(null);
  const jobs = useLoad(() => api.request(ConsoleJobsDocument, { queue, state }), [api, queue, state]);
  useEffect(() => {
    const timer = setInterval(() => {
      queues.reload();
      jobs.reload();
    }, REFRESH_MS);
    return () => clearInterval(timer);
  }, [queues.reload, jobs.reload]);
  const [times, series] = useMemo(
    () =>
      lastHour(queues.data?.jobThroughput ?? [], [
        { key: 'completed', label: 'completed', color: '#16a34a' },
        { key: 'failed', label: 'failed', color: '#dc2626' },
      ]),
    [queues.data],
  );
  if (queues.error) return <p class="error">{queues.error}</p>;
  if (!queues.data) return <p class="loading">Loading…</p>;
  const act = async (run: () => Promise<{ id: string; state: string }>) => {
    try {
      const job = await run();
      setNotice(`Job ${job.id}: ${job.state.toLowerCase()}`);
    } catch (failure) {
      setNotice((failure as Error).message);
    }
    jobs.reload();
    queues.reload();
  };
  return (
    <div>
      <table class="stats">
        <thead>
          <tr>
            <th>queue</th>
            <th>adapter</th>
            {['waiting', 'active', 'delayed', 'completed', 'failed', 'cancelled'].map((name) => (
              <th key={name}>{name}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {queues.data.queueStats.map((q) => (
            <tr key={q.queue} data-queue={q.queue} aria-selected={q.queue === queue}>
              <td>
                <button type="button" class="link" onClick={() => setQueue(q.queue === queue ? null : q.queue)}>
                  {q.queue}
                </button>
              </td>
              <td>{q.backend}</td>
              <td>{q.waiting}</td>
              <td>{q.active}</td>
              <td>{q.delayed}</td>
              <td>{q.completed}</td>
              <td>{q.failed}</td>
              <td>{q.cancelled}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {queues.data.queueStats.some((q) => q.backend === 'bullmq') && (
        <p class="muted">
          BullMQ's own dashboard: <a href="/admin/queues">Bull Board</a> (asks for the admin secret).
        </p>
      )}
      <TimeChart title="Jobs finished per minute, last hour" times={times} series={series} />
      <h2>{queue ?? 'Every queue'}: jobs</h2>
      <div class="filters">
        <label>
          state
          <select name="state" value={state} onChange={(event) => setState(event.currentTarget.value as JobState)}>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
      </div>
      {notice && <p class="notice">{notice}</p>}
      {jobs.error && <p class="error">{jobs.error}</p>}
      <table>
        <thead>
          <tr>
            <th>id</th>
            <th>queue</th>
            <th>type</th>
            <th>state</th>
            <th>attempts</th>
            <th>last error</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {jobs.data?.jobs.edges.map(({ node: job }) => (
            <tr key={`${job.queue}/${job.id}`} data-job={job.id} data-state={job.state}>
              <td>{job.id}</td>
              <td>{job.queue}</td>
              <td>{job.type}</td>
              <td>
                <span class={`badge ${job.state.toLowerCase()}`}>{job.state.toLowerCase()}</span>
              </td>
              <td>
                {job.attemptsMade}
                {job.maxAttempts ? ` of ${job.maxAttempts}` : ''}
              </td>
              <td class="error">{job.lastError}</td>
              <td>
                {job.state === 'FAILED' && (
                  <button
                    type="button"
                    class="retry"
                    onClick={() =>
                      act(
                        async () =>
                          (await api.request(ConsoleRetryJobDocument, { id: job.id, queue: job.queue })).retryJob,
                      )
                    }
                  >
                    Retry
                  </button>
                )}
                {(job.state === 'WAITING' || job.state === 'DELAYED' || job.state === 'ACTIVE') && (
                  <button
                    type="button"
                    class="cancel"
                    onClick={() =>
                      act(
                        async () =>
                          (await api.request(ConsoleCancelJobDocument, { id: job.id, queue: job.queue })).cancelJob,
                      )
                    }
                  >
                    Cancel
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Schedules api={api} schedules={queues.data.schedules} onChange={queues.reload} />
    </div>
  );
}
