// A small test runner for the extension host: VS Code calls run() (the extensionTestsPath
// convention); the tests run one after the other and each result is written to
// host-results.json beside the workspace folder, where tests/e2e/host.mjs reads it.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';

type Test = readonly [name: string, body: () => Promise<void>];

const tests: Test[] = [];

export function test(name: string, body: () => Promise<void>): void {
  tests.push([name, body]);
}

/** Per test; a hung test fails instead of hanging the run. */
const TEST_TIMEOUT_MS = 60_000;

export async function runAll(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (folder === undefined) {
    throw new Error('the extension-host tests need a workspace folder');
  }
  const resultsFile = path.join(folder.uri.fsPath, '..', 'host-results.json');
  const results: { name: string; ok: boolean; error?: string }[] = [];
  for (const [name, body] of tests) {
    try {
      await withTimeout(body(), TEST_TIMEOUT_MS, name);
      results.push({ name, ok: true });
    } catch (error) {
      results.push({ name, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
    await fs.writeFile(resultsFile, JSON.stringify(results, null, 2));
  }
  const failed = results.filter((result) => !result.ok).length;
  if (failed > 0) {
    throw new Error(`${failed} of ${results.length} extension-host tests failed`);
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${name}: no result within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves once `condition` holds, checked on every `event` (and once at the start); rejects
 * with `what` after `ms`. For waiting on the extension's own events, never on the clock.
 */
export function waitFor<T>(event: vscode.Event<T>, condition: () => boolean, what: string, ms = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (condition()) {
      resolve();
      return;
    }
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    const subscription = event(() => {
      if (condition()) {
        clearTimeout(timer);
        subscription.dispose();
        resolve();
      }
    });
  });
}
