/**
 * Every plugin: enabled or why not, its version, its configuration (secrets masked by the
 * gateway), its migrations applied or pending, and the Hasura actions and triggers it declares.
 */
import { ConsolePluginsDocument } from '../../client/generated/graphql.ts';
import type { RequestClient } from '../../client/request.ts';
import { useLoad } from './load.ts';

export function PluginsPage({ api }: { api: RequestClient }) {
  const { data, error } = useLoad(() => api.request(ConsolePluginsDocument, {}), [api]);
  if (error) return <p class="error">{error}</p>;
  if (!data) return <p class="loading">Loading…</p>;
  return (
    <div class="cards">
      {data.plugins.map((plugin) => (
        <section key={plugin.name} class="card" data-plugin={plugin.name}>
          <h2>
            {plugin.name} <small>{plugin.version}</small>{' '}
            <span class={plugin.enabled ? 'badge ok' : 'badge off'}>{plugin.enabled ? 'enabled' : 'disabled'}</span>
          </h2>
          <p>{plugin.description}</p>
          {plugin.reason && <p class="reason">{plugin.reason}</p>}
          {plugin.migrations.length > 0 && (
            <p class="migrations">
              Migrations:{' '}
              {plugin.migrations.map((m) => (
                <span
                  key={m.version}
                  class={m.state === 'applied' ? 'badge ok' : 'badge off'}
                  title={m.appliedAt ? `applied ${new Date(m.appliedAt).toLocaleString()}` : m.state}
                >
                  {m.version} {m.name}: {m.state}
                </span>
              ))}
            </p>
          )}
          {(plugin.hasuraActions.length > 0 || plugin.hasuraEventTriggers.length > 0) && (
            <p class="hasura">
              Hasura: {plugin.hasuraActions.length > 0 && <>actions {plugin.hasuraActions.join(', ')}</>}
              {plugin.hasuraActions.length > 0 && plugin.hasuraEventTriggers.length > 0 && '; '}
              {plugin.hasuraEventTriggers.length > 0 && <>event triggers {plugin.hasuraEventTriggers.join(', ')}</>}
            </p>
          )}
          {plugin.config.length > 0 && (
            <details>
              <summary>
                Configuration: {plugin.config.filter((entry) => entry.isSet).length} of {plugin.config.length} variables
                set
              </summary>
              <table>
                <thead>
                  <tr>
                    <th>variable</th>
                    <th>value</th>
                    <th>about</th>
                  </tr>
                </thead>
                <tbody>
                  {plugin.config.map((entry) => (
                    <tr key={entry.key}>
                      <td>
                        <code>{entry.key}</code>
                        {entry.required && <span class="badge">required</span>}
                      </td>
                      <td>{entry.isSet ? <code>{entry.value}</code> : <em>unset</em>}</td>
                      <td>{entry.description}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </details>
          )}
        </section>
      ))}
    </div>
  );
}
