/**
 * Notifications: each channel's providers (or why it is off), counts of the last day, recent
 * deliveries with their failure reasons, and the templates with an editor whose preview renders
 * against sample data on the gateway (the same Liquid, limits and escaping as a send).
 */
import { useEffect, useState } from 'preact/hooks';
import {
  ConsoleCreateTemplateDocument,
  ConsoleNotificationsDocument,
  type ConsoleNotificationsQuery,
  ConsoleRenderTemplateDocument,
  type ConsoleRenderTemplateQuery,
  ConsoleUpdateTemplateDocument,
  type NotificationStatus,
  type NotificationTemplateChannel,
} from '../../client/generated/graphql.ts';
import type { RequestClient } from '../../client/request.ts';
import { useLoad } from './load.ts';

type Template = ConsoleNotificationsQuery['notificationTemplates'][number];
const STATUSES: NotificationStatus[] = ['FAILED', 'SKIPPED', 'SENT', 'DELIVERED', 'QUEUED', 'DEFERRED'];
const NEW: Template = {
  id: '',
  name: '',
  channel: 'ANY',
  locale: 'en',
  version: 0,
  subject: '',
  body: '',
  html: null,
};

function Editor({ api, template, onSaved }: { api: RequestClient; template: Template; onSaved: () => void }) {
  const [draft, setDraft] = useState(template);
  const [sample, setSample] = useState('{ "name": "Ann" }');
  const [preview, setPreview] = useState<ConsoleRenderTemplateQuery['renderNotificationTemplate'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  useEffect(() => {
    setDraft(template);
    setPreview(null);
    setNotice(null);
  }, [template]);
  const input = () => ({
    name: draft.name,
    channel: draft.channel as NotificationTemplateChannel,
    locale: draft.locale,
    subject: draft.subject || null,
    body: draft.body,
    html: draft.html || null,
  });
  const run = async (work: () => Promise<void>) => {
    setError(null);
    try {
      await work();
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  const text = (name: 'name' | 'locale' | 'subject' | 'body' | 'html') => ({
    name,
    value: draft[name] ?? '',
    onInput: (event: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) =>
      setDraft({ ...draft, [name]: event.currentTarget.value }),
  });
  return (
    <section class="card editor">
      <h2>
        {template.id
          ? `${template.name} (${template.channel}, ${template.locale}) v${template.version}`
          : 'New template'}
      </h2>
      <div class="filters">
        <label>
          name
          <input {...text('name')} disabled={template.id !== ''} required />
        </label>
        <label>
          channel
          <select
            name="channel"
            value={draft.channel}
            disabled={template.id !== ''}
            onChange={(event) => setDraft({ ...draft, channel: event.currentTarget.value as Template['channel'] })}
          >
            {['ANY', 'EMAIL', 'PUSH', 'SMS', 'IN_APP'].map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <label>
          locale
          <input {...text('locale')} disabled={template.id !== ''} />
        </label>
      </div>
      <label class="block">
        subject (Liquid)
        <input {...text('subject')} />
      </label>
      <label class="block">
        body (Liquid)
        <textarea rows={5} {...text('body')} />
      </label>
      <label class="block">
        HTML (Liquid, escaped; email only)
        <textarea rows={4} {...text('html')} />
      </label>
      <label class="block">
        sample data (JSON)
        <textarea rows={3} name="sample" value={sample} onInput={(event) => setSample(event.currentTarget.value)} />
      </label>
      <div class="filters">
        <button
          type="button"
          class="preview"
          onClick={() =>
            run(async () => {
              const { renderNotificationTemplate } = await api.request(ConsoleRenderTemplateDocument, {
                input: input(),
                data: JSON.parse(sample),
              });
              setPreview(renderNotificationTemplate);
            })
          }
        >
          Preview
        </button>
        <button
          type="button"
          class="save"
          onClick={() =>
            run(async () => {
              const saved = template.id
                ? (await api.request(ConsoleUpdateTemplateDocument, { input: input() })).updateNotificationTemplate
                : (await api.request(ConsoleCreateTemplateDocument, { input: input() })).createNotificationTemplate;
              setNotice(`Saved as version ${saved.version}`);
              onSaved();
            })
          }
        >
          Save
        </button>
      </div>
      {error && <p class="error">{error}</p>}
      {notice && <p class="notice">{notice}</p>}
      {preview && (
        <div class="rendered">
          {preview.subject && (
            <p>
              <strong class="rendered-subject">{preview.subject}</strong>
            </p>
          )}
          <pre class="rendered-body">{preview.body}</pre>
          {/* The HTML runs nothing: a sandboxed frame without scripts. */}
          {preview.html && <iframe title="HTML preview" sandbox="" srcdoc={preview.html} />}
        </div>
      )}
    </section>
  );
}

export function NotificationsPage({ api }: { api: RequestClient }) {
  const [status, setStatus] = useState<NotificationStatus | ''>('FAILED');
  const data = useLoad(() => api.request(ConsoleNotificationsDocument, { status: status || null }), [api, status]);
  const [editing, setEditing] = useState<Template | null>(null);
  if (data.error) return <p class="error">{data.error}</p>;
  if (!data.data) return <p class="loading">Loading…</p>;
  const { notificationChannels, notificationStats, notificationTemplates, notificationDeliveries } = data.data;
  return (
    <div>
      <h2>Channels</h2>
      <table>
        <thead>
          <tr>
            <th>channel</th>
            <th>providers (in failover order)</th>
            <th>last 24 hours</th>
          </tr>
        </thead>
        <tbody>
          {notificationChannels.map((channel) => (
            <tr key={channel.channel} data-channel={channel.channel}>
              <td>
                {channel.channel}{' '}
                <span class={channel.enabled ? 'badge ok' : 'badge off'}>{channel.enabled ? 'on' : 'off'}</span>
              </td>
              <td>{channel.enabled ? channel.providers.join(' → ') : <span class="reason">{channel.reason}</span>}</td>
              <td>
                {notificationStats
                  .filter((s) => s.channel === channel.channel)
                  .map((s) => `${s.count} ${s.status.toLowerCase()}`)
                  .join(', ') || '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Templates</h2>
      <table>
        <thead>
          <tr>
            <th>name</th>
            <th>channel</th>
            <th>locale</th>
            <th>version</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {notificationTemplates.map((template) => (
            <tr key={template.id} data-template={template.name}>
              <td>{template.name}</td>
              <td>{template.channel}</td>
              <td>{template.locale}</td>
              <td>{template.version}</td>
              <td>
                <button type="button" class="edit" onClick={() => setEditing(template)}>
                  Edit
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" class="new-template" onClick={() => setEditing(NEW)}>
        New template
      </button>
      {editing && <Editor api={api} template={editing} onSaved={data.reload} />}

      <h2>Deliveries</h2>
      <div class="filters">
        <label>
          status
          <select
            name="delivery-status"
            value={status}
            onChange={(event) => setStatus(event.currentTarget.value as NotificationStatus | '')}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.toLowerCase()}
              </option>
            ))}
          </select>
        </label>
      </div>
      <table>
        <thead>
          <tr>
            <th>created</th>
            <th>user</th>
            <th>channel</th>
            <th>template</th>
            <th>status</th>
            <th>provider</th>
            <th>attempts</th>
            <th>reason</th>
          </tr>
        </thead>
        <tbody>
          {notificationDeliveries.edges.map(({ node }) => (
            <tr key={node.id} data-delivery={node.id}>
              <td>{new Date(node.createdAt).toLocaleString()}</td>
              <td>{node.userId}</td>
              <td>{node.channel}</td>
              <td>{node.template}</td>
              <td>
                <span class={`badge ${node.status.toLowerCase()}`}>{node.status.toLowerCase()}</span>
              </td>
              <td>{node.provider}</td>
              <td>{node.attempts}</td>
              <td class="error">{node.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
