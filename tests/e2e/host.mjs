// The extension-host tests: VS Code loads the extension under development and the tests module
// (tests/extension/host, bundled to out/host/index.js) through the workbench URL's payload, as
// @vscode/test-web does, and calls its run(). The module writes one result per test to
// host-results.json next to its workspace; the workbench reports the exit code through
// window.codeAutomationExit.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const TIMEOUT_MS = 180_000;

/** The folder the host tests run in, and where they write their results (its parent). */
function writeHostWorkspace(folder) {
  mkdirSync(path.join(folder, '.vscode'), { recursive: true });
  const lines = Array.from({ length: 30 }, (_, index) => `line ${index + 1}`);
  writeFileSync(path.join(folder, 'notes.txt'), `${lines.join('\n')}\n`);
  writeFileSync(path.join(folder, '.vscode', 'settings.json'), '{\n}\n');
}

/** The workbench's settings, from the page code-server serves. */
async function workbenchSettings(url) {
  const html = await (await fetch(url)).text();
  const match = /id="vscode-workbench-web-configuration" data-settings="([^"]*)"/.exec(html);
  if (!match) throw new Error('code-server served no workbench configuration');
  const decoded = match[1].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  return JSON.parse(decoded.replace(/&amp;/g, '&'));
}

export async function runHostTests({ browser, base, repo, run, artifacts, record }) {
  const workspace = path.join(run, 'ws-host');
  const resultsFile = path.join(run, 'host-results.json');
  rmSync(resultsFile, { force: true });
  writeHostWorkspace(workspace);
  const folderUrl = `${base}/?folder=${encodeURIComponent(workspace)}`;
  const { remoteAuthority } = await workbenchSettings(folderUrl);
  const remote = (file) => `vscode-remote://${remoteAuthority}${file}`;
  // The extension's folder as installed from the .vsix: the same files the UI test ran.
  const installed = readdirSync(path.join(run, 'ext')).find((name) => name.startsWith('voicepilot.voicepilot-'));
  if (!installed) throw new Error(`the .vsix is not installed in ${run}/ext`);
  const payload = [
    ['extensionDevelopmentPath', remote(path.join(run, 'ext', installed))],
    ['extensionTestsPath', remote(path.join(repo, 'out/host/index.js'))],
  ];
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const log = [];
  page.on('console', (message) => log.push(`${message.type()}: ${message.text()}`));
  let exit;
  const exited = new Promise((resolve) => (exit = resolve));
  await page.exposeFunction('codeAutomationExit', (code) => exit(code));
  await page.exposeFunction('codeAutomationLog', (type, args) => log.push(`${type}: ${args.join(' ')}`));
  // VS Code honours the payload's test options only for a development build or with the smoke
  // test driver on; code-server's command line cannot turn that on, so the page gets it here.
  await page.route(
    (url) => url.pathname === '/',
    async (route) => {
      const response = await route.fetch();
      const body = (await response.text()).replace(
        '&quot;developmentOptions&quot;:{',
        '&quot;developmentOptions&quot;:{&quot;enableSmokeTestDriver&quot;:true,',
      );
      await route.fulfill({ response, body });
    },
  );
  try {
    await page.goto(`${folderUrl}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    let timer;
    const code = await Promise.race([
      exited,
      new Promise((resolve) => {
        timer = setTimeout(() => resolve('timeout'), TIMEOUT_MS);
        timer.unref();
      }),
    ]);
    clearTimeout(timer);
    await page.screenshot({ path: path.join(artifacts, 'host-tests.png') }).catch(() => undefined);
    let results = [];
    try {
      results = JSON.parse(readFileSync(resultsFile, 'utf8'));
    } catch {
      // reported below: no results
    }
    for (const result of results) {
      record(`host: ${result.name}`, result.ok ? undefined : result.error);
    }
    if (code === 'timeout') {
      record('host: the tests finish', `no exit code within ${TIMEOUT_MS / 1000} s`);
    } else if (results.length === 0) {
      record('host: the tests ran', `exit code ${code} and no results in ${resultsFile}`);
    } else if (code !== 0 && results.every((result) => result.ok)) {
      record('host: exit code', `the workbench reported exit code ${code}`);
    }
  } finally {
    writeFileSync(path.join(artifacts, 'host-console.log'), log.join('\n'));
    await page.close();
  }
}
