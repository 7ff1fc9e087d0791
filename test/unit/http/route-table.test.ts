// The route table behind 405 answers: route URLs with parameters match concrete paths, GET brings
// HEAD, methods are listed in a fixed order, paths no route serves give nothing.
import { describe, expect, it } from 'vitest';
import { RouteTable, routePattern } from '../../../src/listeners/http/route-table.js';

describe('routePattern', () => {
  it('matches a parameter against one path segment, literally elsewhere', () => {
    const p = routePattern('/v1/dnslink/:name');
    expect(p.test('/v1/dnslink/docs.ipfs.tech')).toBe(true);
    expect(p.test('/v1/dnslink/%C3%A9.example')).toBe(true);
    expect(p.test('/v1/dnslink/')).toBe(false);
    expect(p.test('/v1/dnslink/a/b')).toBe(false);
    expect(p.test('/v1/dnslinkx/a')).toBe(false);
    expect(routePattern('/openapi.json').test('/openapiXjson')).toBe(false);
    expect(routePattern('/files/*').test('/files/a/b')).toBe(true);
  });
});

describe('RouteTable', () => {
  it('lists the methods of every route matching a path, HEAD with GET, in Allow order', () => {
    const t = new RouteTable();
    t.add('/dns-query', 'OPTIONS');
    t.add('/dns-query', 'POST');
    t.add('/dns-query', ['GET']);
    t.add('/v1/dnslink/:name', 'GET');
    expect(t.allowed('/dns-query')).toEqual(['GET', 'HEAD', 'POST', 'OPTIONS']);
    expect(t.allowed('/v1/dnslink/x.example')).toEqual(['GET', 'HEAD']);
    expect(t.allowed('/nope')).toBeUndefined();
  });
});
