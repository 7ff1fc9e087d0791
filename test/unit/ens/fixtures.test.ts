// The test-only ENS resolvers (fixtures/ens/*.sol): the committed compiled JSON is what solc makes of
// the committed sources today (same ABI, same bytecode), so sources and artifacts cannot drift apart.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { artifactPath, compileAll } from '../../../fixtures/ens/compile.mjs';

describe('fixtures/ens resolvers', () => {
  const fresh = compileAll();

  it('compiles the resolvers and the test Universal Resolver', () => {
    expect(Object.keys(fresh).sort()).toEqual(['OffchainResolver', 'TestUniversalResolver', 'WildcardResolver']);
  });

  for (const name of ['WildcardResolver', 'OffchainResolver', 'TestUniversalResolver']) {
    it(`${name}.json matches its source (run node fixtures/ens/compile.mjs after editing)`, () => {
      const committed = JSON.parse(readFileSync(artifactPath(name), 'utf8')) as { abi: unknown; bytecode: string; compiler: string };
      const f = fresh[name]!;
      expect(committed.compiler).toBe(f.compiler);
      expect(committed.abi).toEqual(f.abi);
      expect(committed.bytecode).toBe(f.bytecode);
    });
  }

  it('declares the interfaces the tests rely on', () => {
    const names = (n: string) => (fresh[n]!.abi as { type: string; name?: string }[]).filter((e) => e.name).map((e) => `${e.type}:${e.name}`);
    expect(names('WildcardResolver')).toEqual(expect.arrayContaining(['function:resolve', 'function:supportsInterface', 'function:setContenthashValue']));
    expect(names('OffchainResolver')).toEqual(expect.arrayContaining(['function:resolve', 'function:resolveWithProof', 'function:supportsInterface', 'error:OffchainLookup']));
    expect(names('TestUniversalResolver')).toEqual(expect.arrayContaining(['function:resolve', 'function:resolveCallback', 'error:ResolverNotFound', 'error:ResolverError', 'error:HttpError', 'error:OffchainLookup']));
  });
});
