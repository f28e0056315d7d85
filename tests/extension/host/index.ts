// Entry point of the extension-host tests (extensionTestsPath); see harness.ts.
import { runAll } from './harness';
import './commands.test';
import './state.test';
import './editor.test';
import './diagnostics.test';
import './security.test';

export function run(): Promise<void> {
  return runAll();
}
