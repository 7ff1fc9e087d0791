// The paths the app serves and the methods of each, collected as fastify registers the routes
// (onRoute), so the not-found handler can tell a path served with other methods (405 with Allow)
// from a path nothing serves (404).
import type { FastifyInstance } from 'fastify';

/** The order methods are listed in an Allow header. */
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

const byMethodOrder = (a: string, b: string): number => {
  const ia = METHOD_ORDER.indexOf(a);
  const ib = METHOD_ORDER.indexOf(b);
  return (ia < 0 ? METHOD_ORDER.length : ia) - (ib < 0 ? METHOD_ORDER.length : ib) || a.localeCompare(b);
};

/** A route URL as fastify takes it (`/v1/dnslink/:name`, `/files/*`) as a regular expression on paths. */
export function routePattern(url: string): RegExp {
  const source = url
    .split(/(:[^/]+|\*)/)
    .map((part) => {
      if (part === '*') return '.*';
      if (part.startsWith(':')) return '[^/]+';
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`);
}

export class RouteTable {
  private readonly routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  add(url: string, method: string | readonly string[]): void {
    let route = this.routes.get(url);
    if (!route) {
      route = { pattern: routePattern(url), methods: new Set() };
      this.routes.set(url, route);
    }
    for (const m of typeof method === 'string' ? [method] : method) {
      route.methods.add(m.toUpperCase());
      // fastify answers HEAD wherever it answers GET (exposeHeadRoutes).
      if (m.toUpperCase() === 'GET') route.methods.add('HEAD');
    }
  }

  /** The methods served on `path` (without its query string), in Allow order; undefined when none. */
  allowed(path: string): string[] | undefined {
    const methods = new Set<string>();
    for (const route of this.routes.values()) {
      if (route.pattern.test(path)) for (const m of route.methods) methods.add(m);
    }
    return methods.size > 0 ? [...methods].sort(byMethodOrder) : undefined;
  }
}

/** Collects every route registered on `app` (and its child scopes) from now on. */
export function collectRoutes(app: FastifyInstance): RouteTable {
  const table = new RouteTable();
  app.addHook('onRoute', (route) => table.add(route.url, route.method));
  return table;
}
