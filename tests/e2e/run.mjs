// The end-to-end run, started by scripts/e2e: code-server on 127.0.0.1 with the installed .vsix,
// driven by chromium through playwright-core.
//
//   1. The UI test (ui.mjs): a conversation started from the status bar turns the bundled
//      recording "go to line twelve" into a transcript line and a cursor on line 12; the
//      diagnostics pass; a bad region in settings.json shows up in the Problems panel.
//   2. The extension-host tests (tests/extension/host), loaded by VS Code itself through
//      extensionTestsPath, with the real `vscode` API.
//   3. The Restricted Mode test (restricted.mjs), in a second code-server with workspace trust on:
//      a workspace whose code, interpreters and settings would run or steer VoicePilot gets none
//      of it, and the conversation still works.
//   4. The first-run test (firstRun.mjs), in a third code-server with a fresh HOME, user data and
//      extensions: the .vsix sets its voice engine up from a local wheelhouse. E2E_ONLY=first-run
//      runs this one alone.
//
// Prints `e2e: N passed, M failed` and exits 1 when anything failed.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { firstRunEnvironment, installVsix, runFirstRunTest, serveWheelhouse } from './firstRun.mjs';
import { runHostTests } from './host.mjs';
import { runRestrictedModeTest, writeRestrictedWorkspace } from './restricted.mjs';
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

/**
 * code-server in its own process group, so that it, its extension hosts and the sidecars stop
 * together. `trust`: workspace trust is on (folders open in Restricted Mode) instead of off.
 */
async function startCodeServer(
  port,
  { userData = 'ud', extensions = 'ext', logName = 'code-server.log', trust = false, environment = process.env } = {},
) {
  const log = openSync(path.join(artifacts, logName), 'w');
  const child = spawn(
    env('E2E_CODE_SERVER'),
    [
      '--bind-addr', `127.0.0.1:${port}`,
      '--auth', 'none',
      '--user-data-dir', path.join(run, userData),
      '--extensions-dir', path.join(run, extensions),
      '--disable-telemetry',
      '--disable-update-check',
      ...(trust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
    ],
    { detached: true, stdio: ['ignore', log, log], env: environment },
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
    if (typeof status === 'string') throw new Error(`code-server ${status}; see ${artifacts}/${logName}`);
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
 * the microphone, and nothing opens that the tests did not ask for. With `trust`, workspace trust
 * is on and asks nothing: an unknown folder opens in Restricted Mode.
 */
function writeUserSettings(userData, { trust = false, firstRun = false } = {}) {
  const settings = {
    // A first run has no interpreter of its own: VoicePilot sets one up.
    ...(firstRun ? {} : { 'voicepilot.python.path': path.join(repo, '.venv/bin/python') }),
    'voicepilot.input.file': path.join(repo, 'server/voicepilot/samples/go_to_line_12.wav'),
    'voicepilot.profile': 'local',
    'security.workspace.trust.enabled': trust,
    'security.workspace.trust.startupPrompt': 'never',
    'workbench.startupEditor': 'none',
    // The tests leave files modified on purpose (save_all must not save one outside the workspace).
    'files.autoSave': 'off',
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
  mkdirSync(path.join(run, userData, 'User'), { recursive: true });
  writeFileSync(path.join(run, userData, 'User/settings.json'), JSON.stringify(settings, null, 2));
}

mkdirSync(artifacts, { recursive: true });
const started = Date.now();
writeUserSettings('ud');
writeUiWorkspace(path.join(run, 'ws'), path.join(run, 'markers-trusted'));
writeUserSettings('ud-restricted', { trust: true });
writeRestrictedWorkspace(path.join(run, 'ws-restricted'), path.join(run, 'markers-restricted'), repo);
const only = process.env.E2E_ONLY;
const browser = await launchChromium();
try {
  if (only === undefined) {
    await runEditorTests();
  }
  await firstRun();
} catch (error) {
  record('e2e driver', error);
} finally {
  await browser.close();
}
async function runEditorTests() {
  const port = await freePort();
  const codeServer = await startCodeServer(port);
  try {
    const base = `http://127.0.0.1:${port}`;
    await runUiTest({ browser, base, repo, run, artifacts, record });
    await runHostTests({ browser, base, repo, run, artifacts, record });
  } finally {
    await codeServer.stop();
  }
  const restrictedPort = await freePort();
  const restricted = await startCodeServer(restrictedPort, {
    userData: 'ud-restricted',
    logName: 'code-server-restricted.log',
    trust: true,
  });
  try {
    await runRestrictedModeTest({ browser, base: `http://127.0.0.1:${restrictedPort}`, run, artifacts, record });
  } finally {
    await restricted.stop();
  }
}

/** The .vsix from nothing: its own HOME, user data and extensions, the wheelhouse as the index. */
async function firstRun() {
  const basePython = env('E2E_BASE_PYTHON');
  const indexPort = await freePort();
  const environment = firstRunEnvironment(path.join(run, 'home-first'), basePython, `http://127.0.0.1:${indexPort}/`);
  mkdirSync(environment.HOME, { recursive: true });
  writeUserSettings('ud-first', { firstRun: true });
  const userData = path.join(run, 'ud-first');
  installVsix(env('E2E_CODE_SERVER'), { userData, extensions: path.join(run, 'ext-first'), vsix: path.join(repo, 'voicepilot.vsix'), environment });
  const wheelhouse = serveWheelhouse(basePython, env('E2E_WHEELHOUSE'), indexPort);
  const port = await freePort();
  const codeServer = await startCodeServer(port, {
    userData: 'ud-first',
    extensions: 'ext-first',
    logName: 'code-server-first-run.log',
    environment,
  });
  try {
    const startIndex = async () => {
      wheelhouse.start();
      await wheelhouse.ready();
    };
    await runFirstRunTest({
      browser,
      base: `http://127.0.0.1:${port}`,
      run,
      artifacts,
      record,
      userData,
      startIndex,
      basePython,
    });
  } finally {
    wheelhouse.stop();
    await codeServer.stop();
  }
}

const passed = results.filter((result) => result.ok).length;
const failed = results.length - passed;
writeFileSync(path.join(artifacts, 'results.json'), JSON.stringify(results, null, 2));
console.log(`[e2e] finished in ${((Date.now() - started) / 1000).toFixed(1)} s; artifacts in ${artifacts}`);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
