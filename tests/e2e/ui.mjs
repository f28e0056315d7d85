// The UI test: what a user sees and clicks in code-server, with the installed .vsix, the local
// engine and the bundled recording of "go to line twelve" standing in for the microphone.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const TIMEOUT_MS = 60_000;
/** Line 12 of the sample file starts at column 1, so the cursor lands on "Ln 12, Col 1". */
export const SAMPLE_LINES = 40;

/**
 * Modules a Python started in `folder` (or with it on sys.path) would import instead of its own:
 * each leaves a marker file in `markers` when it runs.
 */
export function writeHostileModules(folder, markers) {
  mkdirSync(markers, { recursive: true });
  mkdirSync(path.join(folder, 'voicepilot'), { recursive: true });
  const marker = (name) => `open(${JSON.stringify(path.join(markers, name))}, "w").close()\n`;
  writeFileSync(path.join(folder, 'voicepilot', '__init__.py'), marker('voicepilot-package'));
  writeFileSync(path.join(folder, 'uuid.py'), marker('uuid-module'));
}

/** The markers the workspace's code left, if any ran. */
export function markersLeft(markers) {
  return readdirSync(markers);
}

/**
 * The workspace the UI test opens: one Python file of 40 lines, and modules that must never run
 * (a trusted workspace's code is still not VoicePilot's to run).
 */
export function writeUiWorkspace(folder, markers) {
  writeSample(folder);
  writeFileSync(path.join(folder, '.vscode', 'settings.json'), '{\n}\n');
  writeHostileModules(folder, markers);
}

/** sample.py, 40 lines, and an empty .vscode folder. */
export function writeSample(folder) {
  mkdirSync(path.join(folder, '.vscode'), { recursive: true });
  const lines = Array.from({ length: SAMPLE_LINES }, (_, index) => `value_${index + 1} = ${index + 1}`);
  writeFileSync(path.join(folder, 'sample.py'), `${lines.join('\n')}\n`);
}

/** Opens sample.py from Quick Open, as a user would, then clicks VoicePilot's status-bar item. */
export async function openSampleAndTalk(page) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill('sample.py');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'sample.py' }).first().waitFor();
  await page.keyboard.press('Enter');
  await statusItem(page, 'Ln 1, Col 1').waitFor();
  await voicePilotItem(page, 'idle').click();
}

/** Runs `step` as one named check; a failure is recorded with a screenshot and does not stop the rest. */
export async function check(context, name, step) {
  const { page, artifacts, record } = context;
  try {
    await step();
    record(name);
  } catch (error) {
    const file = path.join(artifacts, `failed-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
    await page.screenshot({ path: file }).catch(() => undefined);
    record(name, error);
  }
}

export const statusItem = (page, text) => page.locator('.statusbar-item', { hasText: text });
/** VoicePilot's item: its accessible name is its tooltip's first line, "VoicePilot: <state>". */
export const voicePilotItem = (page, state) => page.locator(`.statusbar-item [aria-label^="VoicePilot: ${state}"]`);

/** Waits until a webview (the transcript) shows `text` in an element matching `selector`. */
export async function waitForWebviewText(page, selector, text) {
  const deadline = Date.now() + TIMEOUT_MS;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      const found = await frame
        .locator(selector, { hasText: text })
        .count()
        .catch(() => 0);
      if (found > 0) return frame;
    }
    // Webview frames come and go while the view loads: look again on the next frame event.
    await Promise.race([page.waitForEvent('framenavigated', { timeout: 500 }).catch(() => undefined)]);
  }
  throw new Error(`no webview showed ${selector} with "${text}" within ${TIMEOUT_MS / 1000} s`);
}

/** Runs a command from the palette by its title, as a user would. */
export async function runFromPalette(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: TIMEOUT_MS });
  await input.fill(`>${title}`);
  await page
    .locator('.quick-input-list .monaco-list-row', { hasText: title })
    .first()
    .waitFor({ state: 'visible', timeout: TIMEOUT_MS });
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: TIMEOUT_MS });
}

export async function runUiTest({ browser, base, run, artifacts, record }) {
  const workspace = path.join(run, 'ws');
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(TIMEOUT_MS);
  const consoleLog = [];
  page.on('console', (message) => consoleLog.push(`${message.type()}: ${message.text()}`));
  const context = { page, artifacts, record };
  try {
    await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: TIMEOUT_MS });

    await check(context, 'the status bar shows VoicePilot idle at startup, before the sidecar runs', async () => {
      await voicePilotItem(page, 'idle').waitFor({ timeout: TIMEOUT_MS });
      await page.locator('.part.statusbar').screenshot({ path: path.join(artifacts, 'status-bar-idle.png') });
    });

    await check(context, 'a click on the status bar starts a conversation; "go to line twelve" moves the cursor', async () => {
      await openSampleAndTalk(page);
      await statusItem(page, 'Ln 12, Col 1').waitFor({ timeout: TIMEOUT_MS });
    });

    await check(context, 'the transcript shows "go to line twelve"', async () => {
      await waitForWebviewText(page, '.turn.user .text', 'go to line twelve');
      await waitForWebviewText(page, '.turn.assistant .text', /line 12/i);
      await page.locator('.part.panel').screenshot({ path: path.join(artifacts, 'transcript.png') });
      await page.locator('.part.statusbar').screenshot({ path: path.join(artifacts, 'status-bar.png') });
      await page.screenshot({ path: path.join(artifacts, 'conversation.png') });
    });

    await check(context, 'Run Connection Diagnostics from the palette: every check passes', async () => {
      await runFromPalette(page, 'VoicePilot: Run Connection Diagnostics');
      const summary = page.locator('.part.panel .monaco-list-row', { hasText: 'Connection checks' });
      await summary.filter({ hasText: /checks passed/ }).waitFor();
      const text = await summary.textContent();
      const counts = /(\d+) of (\d+) checks passed/.exec(text ?? '');
      if (!counts || counts[1] !== counts[2] || Number(counts[2]) < 7) {
        throw new Error(`the diagnostics view says: ${text}`);
      }
      await page.locator('.part.panel').screenshot({ path: path.join(artifacts, 'diagnostics.png') });
    });

    await check(context, 'a trusted workspace: its voicepilot/ and uuid.py never ran, in the sidecar or the engine', async () => {
      const left = markersLeft(path.join(run, 'markers-trusted'));
      if (left.length > 0) throw new Error(`the workspace's code ran: ${left.join(', ')}`);
    });

    await check(context, 'a region outside the allowlist in settings.json shows in the Problems panel', async () => {
      writeFileSync(
        path.join(workspace, '.vscode', 'settings.json'),
        '{\n  "voicepilot.azure.region": "westeurope"\n}\n',
      );
      await page.locator('[id="status.problems"]').click();
      await page.locator('.markers-panel .monaco-list-row', { hasText: 'westeurope' }).waitFor();
      await page.screenshot({ path: path.join(artifacts, 'problems.png') });
    });
  } finally {
    writeFileSync(path.join(artifacts, 'ui-console.log'), consoleLog.join('\n'));
    await page.close();
  }
}
