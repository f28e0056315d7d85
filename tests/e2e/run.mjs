// The end-to-end run, started by scripts/e2e: code-server on 127.0.0.1 with the installed .vsix,
// driven by chromium through playwright-core.
//
//   1. The UI test (ui.mjs): a conversation started from the status bar turns the bundled
//      recording "go to line twelve" into a transcript line and a cursor on line 12; the
//      diagnostics pass; a bad region in settings.json shows up in the Problems panel.
//   2. The extension-host tests (tests/extension/host), loaded by VS Code itself through
//      extensionTestsPath, with the real `vscode` API.
//
// Prints `e2e: N passed, M failed` and exits 1 when anything failed.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { runHostTests } from './host.mjs';
import { runUiTest, writeUiWorkspace } from './ui.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run scripts/e2e`);
  return value;
};
const repo = env('E2E_REPO');
const run = env('E2E_RUN');
const artifacts = env('E2E_ARTIFACTS');

/** Any test step that waits longer than this has failed. */
export const STEP_TIMEOUT_MS = 60_000;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** code-server in its own process group, so that it, its extension hosts and the sidecars stop together. */
async function startCodeServer(port) {
  const log = openSync(path.join(artifacts, 'code-server.log'), 'w');
  const child = spawn(
    env('E2E_CODE_SERVER'),
    [
      '--bind-addr', `127.0.0.1:${port}`,
      '--auth', 'none',
      '--user-data-dir', path.join(run, 'ud'),
      '--extensions-dir', path.join(run, 'ext'),
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  // Ready once it answers HTTP; gives up if it exits first.
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const status = await Promise.race([
      fetch(`http://127.0.0.1:${port}/healthz`).then((response) => response.status, () => undefined),
      exited.then((code) => `exited with ${code}`),
    ]);
    if (status === 200) break;
    if (typeof status === 'string') throw new Error(`code-server ${status}; see ${artifacts}/code-server.log`);
    if (Date.now() > deadline) throw new Error('code-server did not answer within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    stop: async () => {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }, 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function launchChromium() {
  return chromium.launch({
    executablePath: env('E2E_CHROMIUM'),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // A page served by route.fulfill (the extension-host tests) may still open its WebSocket to 127.0.0.1.
      '--disable-features=LocalNetworkAccessChecks',
    ],
  });
}

const results = [];
const record = (name, error) => {
  results.push({ name, ok: error === undefined, error });
  const mark = error === undefined ? 'ok' : 'FAILED';
  console.log(`[e2e] ${mark} ${name}${error === undefined ? '' : `: ${error instanceof Error ? error.stack : error}`}`);
};

/**
 * User settings: the sidecar runs on the repository's .venv, the bundled recording stands in for
 * the microphone, and nothing opens that the tests did not ask for.
 */
function writeUserSettings() {
  const settings = {
    'voicepilot.python.path': path.join(repo, '.venv/bin/python'),
    'voicepilot.input.file': path.join(repo, 'server/voicepilot/samples/go_to_line_12.wav'),
    'voicepilot.profile': 'local',
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'update.mode': 'none',
    // The workspaces live inside this repository's checkout: no "open the parent repository?" toast.
    'git.openRepositoryInParentFolders': 'never',
    'git.enabled': false,
  };
  mkdirSync(path.join(run, 'ud/User'), { recursive: true });
  writeFileSync(path.join(run, 'ud/User/settings.json'), JSON.stringify(settings, null, 2));
}

mkdirSync(artifacts, { recursive: true });
const started = Date.now();
writeUserSettings();
writeUiWorkspace(path.join(run, 'ws'));
const port = await freePort();
const codeServer = await startCodeServer(port);
const browser = await launchChromium();
try {
  const base = `http://127.0.0.1:${port}`;
  await runUiTest({ browser, base, repo, run, artifacts, record });
  await runHostTests({ browser, base, repo, run, artifacts, record });
} catch (error) {
  record('e2e driver', error);
} finally {
  await browser.close();
  await codeServer.stop();
}
const passed = results.filter((result) => result.ok).length;
const failed = results.length - passed;
writeFileSync(path.join(artifacts, 'results.json'), JSON.stringify(results, null, 2));
console.log(`[e2e] finished in ${((Date.now() - started) / 1000).toFixed(1)} s; artifacts in ${artifacts}`);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
