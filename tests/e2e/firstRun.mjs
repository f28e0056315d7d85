// The first-run test: the .vsix on a machine that has only a python3 without voicepilot, in a
// fresh HOME, user data and extensions directory, with a local wheelhouse standing in for the
// package index (E2E_WHEELHOUSE, served over HTTP). First the index is down: the setup fails with
// Retry and leaves no environment; then it is up: Retry sets the voice engine up, a conversation
// moves the cursor, and a second window reuses the environment without any setup. The workspace
// has a `.venv` of its own, unrelated to VoicePilot: it must not run the sidecar.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { check, runFromPalette, statusItem, voicePilotItem, waitForWebviewText, writeSample } from './ui.mjs';

const TIMEOUT_MS = 60_000;
/** pip installs some 45 wheels on two busy cores. */
const SETUP_TIMEOUT_MS = 300_000;
const SETUP_TITLE = "Setting up VoicePilot's voice engine";

/**
 * The environment code-server gets: a HOME of its own, a PATH whose python3 is `basePython`'s
 * (no voicepilot, no uv), and pip pointed at `indexUrl` only (the machine's pip configuration is ignored).
 */
export function firstRunEnvironment(home, basePython, indexUrl) {
  const environment = { ...process.env };
  for (const name of Object.keys(environment)) {
    if (name.startsWith('PIP_') || name.startsWith('UV_') || name === 'VIRTUAL_ENV' || name === 'PYTHONPATH') {
      delete environment[name];
    }
  }
  const keep = (environment.PATH ?? '').split(path.delimiter).filter((folder) => !/\.venv|pyenv|cargo/.test(folder));
  return {
    ...environment,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    PATH: [path.dirname(basePython), ...keep].join(path.delimiter),
    PIP_CONFIG_FILE: '/dev/null',
    PIP_NO_INDEX: '1',
    PIP_FIND_LINKS: indexUrl,
    PIP_RETRIES: '0',
    PIP_TIMEOUT: '5',
  };
}

/** Installs the .vsix into `extensions` with code-server's CLI, in the first-run environment. */
export function installVsix(codeServer, { userData, extensions, vsix, environment }) {
  const result = spawnSync(codeServer, ['--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', vsix], {
    env: environment,
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`installing the .vsix failed: ${result.stdout}${result.stderr}`);
}

/** `python -m http.server` on `port`, serving the wheelhouse as pip's find-links page, once started. */
export function serveWheelhouse(python, wheelhouse, port) {
  let child;
  return {
    start: () => {
      child = spawn(python, ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', wheelhouse], {
        stdio: 'ignore',
      });
    },
    ready: async () => {
      const deadline = Date.now() + TIMEOUT_MS;
      while (!(await fetch(`http://127.0.0.1:${port}/`).then((response) => response.ok, () => false))) {
        if (Date.now() > deadline) throw new Error('the wheelhouse server did not answer');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    stop: () => child?.kill(),
  };
}

/** The private environments in the extension's global storage, complete or not. */
function environments(userData) {
  const folder = path.join(userData, 'User/globalStorage/voicepilot.voicepilot/python');
  return existsSync(folder) ? readdirSync(folder).filter((name) => name.startsWith('env-')) : [];
}

/** The newest window's VoicePilot log. */
function newestLog(userData) {
  const logs = path.join(userData, 'logs');
  const sessions = readdirSync(logs).sort();
  const session = path.join(logs, sessions[sessions.length - 1]);
  const hosts = readdirSync(session).filter((name) => name.startsWith('exthost')).sort();
  return readFileSync(path.join(session, hosts[hosts.length - 1], 'voicepilot.voicepilot', 'VoicePilot.log'), 'utf8');
}

/** How often the newest window's log says it started the sidecar (0 before the log exists). */
function sidecarStarts(userData) {
  let log = '';
  try {
    log = newestLog(userData);
  } catch {
    return 0;
  }
  return log.split('\n').filter((line) => line.includes('Starting the sidecar')).length;
}

/** A project's own `.venv`, a real Python without voicepilot: importable, but not VoicePilot's. */
function writeUnrelatedVenv(workspace, basePython) {
  const python = path.join(workspace, '.venv', 'bin', 'python');
  mkdirSync(path.dirname(python), { recursive: true });
  writeFileSync(python, `#!/bin/sh\nexec ${JSON.stringify(basePython)} "$@"\n`);
  chmodSync(python, 0o755);
}

/** Milliseconds from "Starting the sidecar" to "The sidecar is running" in the newest window's VoicePilot log. */
function lastSidecarStartMs(userData) {
  const log = newestLog(userData);
  const stamp = (pattern) => {
    const lines = log.split('\n').filter((line) => line.includes(pattern));
    if (lines.length === 0) throw new Error(`the log has no "${pattern}"`);
    return Date.parse(lines[lines.length - 1].slice(0, 23).replace(' ', 'T'));
  };
  return stamp('The sidecar is running') - stamp('Starting the sidecar');
}

const notification = (page, text) => page.locator('.notifications-toasts .notification-toast', { hasText: text });

export async function runFirstRunTest({ browser, base, run, artifacts, record, userData, startIndex, basePython }) {
  const workspace = path.join(run, 'ws-first');
  writeSample(workspace);
  writeUnrelatedVenv(workspace, basePython);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(TIMEOUT_MS);
  const context = { page, artifacts, record };
  try {
    await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: TIMEOUT_MS });

    await check(context, 'first run, index down: nothing is installed or started at startup', async () => {
      await voicePilotItem(page, 'idle').waitFor();
      if (environments(userData).length > 0) throw new Error(`an environment exists before first use: ${environments(userData)}`);
      if (sidecarStarts(userData) > 0) throw new Error('the window started the sidecar before any command');
    });

    await check(context, 'first run, index down: the setup fails with Retry and leaves no half-made environment', async () => {
      await runFromPalette(page, 'VoicePilot: Start Conversation');
      const failure = notification(page, 'could not set up its voice engine');
      await failure.waitFor({ timeout: SETUP_TIMEOUT_MS });
      await failure.locator('.monaco-button', { hasText: 'Retry' }).waitFor();
      await page.screenshot({ path: path.join(artifacts, 'first-run-index-down.png') });
      if (environments(userData).length > 0) throw new Error(`left behind: ${environments(userData).join(', ')}`);
    });

    await check(context, 'first run: Retry with the index back shows the setup, then the voice engine runs', async () => {
      await startIndex();
      await notification(page, 'could not set up its voice engine').locator('.monaco-button', { hasText: 'Retry' }).click();
      await notification(page, SETUP_TITLE).waitFor({ timeout: TIMEOUT_MS });
      await page.screenshot({ path: path.join(artifacts, 'first-run-setup.png') });
      await notification(page, SETUP_TITLE).waitFor({ state: 'hidden', timeout: SETUP_TIMEOUT_MS });
      const made = environments(userData);
      if (made.length !== 1 || made[0].includes('.partial-')) throw new Error(`environments: ${made.join(', ')}`);
    });

    await check(context, 'first run: "go to line twelve" moves the cursor and shows in the transcript', async () => {
      await page.keyboard.press('Control+P');
      const input = page.locator('.quick-input-widget input');
      await input.fill('sample.py');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'sample.py' }).first().waitFor();
      await page.keyboard.press('Enter');
      await statusItem(page, 'Ln 1, Col 1').waitFor();
      await runFromPalette(page, 'VoicePilot: Start Conversation');
      await statusItem(page, 'Ln 12, Col 1').waitFor({ timeout: TIMEOUT_MS });
      await waitForWebviewText(page, '.turn.user .text', 'go to line twelve');
      await page.screenshot({ path: path.join(artifacts, 'first-run-conversation.png') });
    });

    await check(context, "first run: the workspace's unrelated .venv did not run the sidecar", async () => {
      const starts = newestLog(userData)
        .split('\n')
        .filter((line) => line.includes('Starting the sidecar'));
      if (starts.length === 0 || !starts.every((line) => line.includes("(interpreter from VoicePilot's environment)"))) {
        throw new Error(`the sidecar started with: ${starts.join(' | ')}`);
      }
    });
  } finally {
    await page.close();
  }

  const second = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  second.setDefaultTimeout(TIMEOUT_MS);
  try {
    await check({ page: second, artifacts, record }, 'a second window reuses the environment: no setup, the diagnostics pass', async () => {
      await second.goto(`${base}/?folder=${encodeURIComponent(workspace)}`);
      await second.locator('.monaco-workbench').waitFor({ timeout: TIMEOUT_MS });
      await voicePilotItem(second, 'idle').waitFor();
      // Activation shows the item and nothing more: the sidecar waits for the first command.
      if (sidecarStarts(userData) > 0) throw new Error('the window started the sidecar before any command');
      const started = Date.now();
      await runFromPalette(second, 'VoicePilot: Run Connection Diagnostics');
      await second.locator('.part.panel .monaco-list-row', { hasText: /checks passed/ }).waitFor();
      const elapsed = Date.now() - started;
      if ((await notification(second, SETUP_TITLE).count()) > 0) throw new Error('the second window set up again');
      if (environments(userData).length !== 1) throw new Error(`environments: ${environments(userData).join(', ')}`);
      if (newestLog(userData).includes("Building VoicePilot's environment")) throw new Error('the second window built an environment');
      // Reported, not asserted: the sidecar's imports dominate its start (1.5 s idle, 3.6 s with the
      // machine busy), which lazy imports are to bring under the 2 s goal.
      const startMs = lastSidecarStartMs(userData);
      console.log(`[e2e] second window: sidecar ready in ${startMs} ms (goal 2000), diagnostics ${elapsed} ms after the window was up`);
    });
  } finally {
    await second.close();
  }
}
