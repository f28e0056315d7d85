import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID } from '../../../extension/src/ids';
import { test } from './harness';

interface Manifest {
  contributes: { commands: { command: string }[] };
}

test('every command of the manifest is registered', async () => {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not installed`);
  await extension.activate();
  const registered = new Set(await vscode.commands.getCommands(true));
  const declared = (extension.packageJSON as Manifest).contributes.commands.map((entry) => entry.command);
  assert.ok(declared.length > 0);
  assert.deepEqual(
    declared.filter((command) => !registered.has(command)),
    [],
  );
});
