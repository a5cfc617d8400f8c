/**
 * One rule for everything the gateway collects from plugins (routes, Hasura actions and triggers,
 * queues and their job types, pubsub topics, CLI commands): what two plugins (or a plugin and the
 * gateway) both claim stops start-up with an error naming both, instead of one silently replacing
 * the other.
 */
/** What of a plugin route decides which requests it answers. */
interface RoutePattern {
  method: string;
  path: string;
  prefix?: boolean;
}

export class PluginConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginConflictError';
  }
}

export function conflict(what: string, first: string, second: string): PluginConflictError {
  return new PluginConflictError(`${what} is declared by both ${first} and ${second}`);
}

/** Names claimed one at a time, as the plugins are read; a name claimed twice is a conflict. */
export function claims(kind: string): (plugin: string, name: string) => void {
  const owners = new Map<string, string>();
  return (plugin, name) => {
    const owner = owners.get(name);
    if (owner !== undefined) throw conflict(`${kind} "${name}"`, owner, plugin);
    owners.set(name, plugin);
  };
}

/** Collects named entries; a name claimed twice is a conflict. */
export function byName<T>(kind: string, entries: Iterable<{ plugin: string; name: string; value: T }>): Map<string, T> {
  const collected = new Map<string, T>();
  const claim = claims(kind);
  for (const { plugin, name, value } of entries) {
    claim(plugin, name);
    collected.set(name, value);
  }
  return collected;
}

/** Whether some request would match both routes: a method in common, and the same path or one under the other's prefix. */
function overlap(a: RoutePattern, b: RoutePattern): boolean {
  if (a.method !== b.method && a.method !== 'ANY' && b.method !== 'ANY') return false;
  const under = (path: string, route: RoutePattern) =>
    route.prefix === true && path.startsWith(route.path.endsWith('/') ? route.path : `${route.path}/`);
  return a.path === b.path || under(a.path, b) || under(b.path, a);
}

/** Refuses routes of two plugins that would answer the same request. */
export function checkRoutes(routes: readonly { plugin: string; route: RoutePattern }[]): void {
  for (const [index, first] of routes.entries()) {
    for (const second of routes.slice(index + 1)) {
      if (first.plugin !== second.plugin && overlap(first.route, second.route)) {
        throw conflict(
          `The route ${second.route.method} ${second.route.path}${second.route.prefix ? '/*' : ''}`,
          first.plugin,
          second.plugin,
        );
      }
    }
  }
}
