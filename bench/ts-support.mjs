// Lets the plain-JS benchmark scripts import the TypeScript test support (test/integration/
// support/) directly: Node 24 strips types itself; this hook maps the `./x.js` specifiers that
// TypeScript's NodeNext style writes to the `./x.ts` files that exist. Used with `node --import`.
import { registerHooks } from 'node:module';

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (err) {
      const code = /** @type {{ code?: string }} */ (err).code;
      if (code === 'ERR_MODULE_NOT_FOUND' && specifier.startsWith('.') && specifier.endsWith('.js')) {
        return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
      }
      throw err;
    }
  },
});
