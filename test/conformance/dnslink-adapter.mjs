#!/usr/bin/env node
// Adapter between the @dnslink/test harness and the dnslinkd CLI. The harness runs
// `<command> DOMAIN '{"udp":P,"tcp":P,"doh":P,"flags":{...}}'`; this runs
// `node bin/dnslinkd.js resolve DOMAIN --upstream udp://127.0.0.1:P --json` and relays its JSON.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DEFAULT_TIMEOUT_MS = 15_000;

function fail(message) {
  process.stderr.write(`dnslink-adapter: ${message}\n`);
  process.exit(1);
}

const [domain, harnessOptionsJson] = process.argv.slice(2);
if (domain === undefined || harnessOptionsJson === undefined) {
  fail('usage: dnslink-adapter.mjs DOMAIN \'{"udp":PORT,...}\' (arguments are given by @dnslink/test)');
}

let udpPort;
try {
  udpPort = JSON.parse(harnessOptionsJson).udp;
} catch (error) {
  fail(`second argument is not JSON: ${error.message}`);
}
if (!Number.isInteger(udpPort)) {
  fail(`no udp port in ${harnessOptionsJson}`);
}

const cliPath = process.env.DNSLINK_ADAPTER_CLI ?? fileURLToPath(new URL('../../bin/dnslinkd.js', import.meta.url));
const timeoutMs = Number(process.env.DNSLINK_ADAPTER_TIMEOUT_MS ?? DEFAULT_TIMEOUT_MS);
const cliArgs = [cliPath, 'resolve', domain, '--upstream', `udp://127.0.0.1:${udpPort}`, '--json'];

// No shell: names such as `*.8.t15...` or `dnslink.dev/abcd?foo=bar` reach the CLI byte for byte.
const cli = spawn(process.execPath, cliArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
const stdout = [];
const stderr = [];
cli.stdout.on('data', (chunk) => stdout.push(chunk));
cli.stderr.on('data', (chunk) => stderr.push(chunk));
const timer = setTimeout(() => {
  cli.kill('SIGKILL');
  fail(`dnslinkd did not finish within ${timeoutMs} ms: ${cliArgs.join(' ')}`);
}, timeoutMs);
cli.on('error', (error) => fail(`cannot start ${process.execPath} ${cliPath}: ${error.message}`));
cli.on('close', (exitCode) => {
  clearTimeout(timer);
  const output = Buffer.concat(stdout).toString('utf8');
  let result;
  try {
    result = JSON.parse(output);
  } catch {
    const errorText = Buffer.concat(stderr).toString('utf8');
    fail(`dnslinkd exited ${exitCode} without JSON on stdout.\nstdout: ${output}\nstderr: ${errorText}`);
  }
  // The CLI may exit non-zero for an {"error":...} result; the harness treats any non-zero exit
  // as a crash, so a JSON answer is relayed with exit 0 and the harness judges its content.
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
});
