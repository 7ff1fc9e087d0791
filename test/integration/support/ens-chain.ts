// ENS on a local chain for the ENS tests: the deployment and name writing live in
// scripts/ens/ens-chain.ts, shared with the ENS benchmark and `npm run ens:dev`.
export * from '../../../scripts/ens/ens-chain.js';
