/** Every plugin: enabled or why not, its version and its configuration (secrets masked by the gateway). */
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
