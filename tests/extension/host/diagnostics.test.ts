import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { voicePilot } from './api';
import { test, waitFor } from './harness';

const REQUIRED_CHECKS = [
  'settings valid',
  'credential available',
  'key minted',
  'SDP exchanged',
  'data channel open',
  'audio devices present',
  'round trip',
];

test('Run Connection Diagnostics: every check of the checklist passes against the local engine', async () => {
  const { controller } = await voicePilot();
  await vscode.commands.executeCommand('voicepilot.runDiagnostics');
  const checks = controller.diagnostics.checks ?? [];

  assert.deepEqual(
    REQUIRED_CHECKS.filter((name) => !checks.some((check) => check.name === name)),
    [],
  );
  assert.deepEqual(
    checks.filter((check) => !check.ok).map((check) => `${check.name}: ${check.detail}`),
    [],
  );
});

test('a region outside the allowlist is a problem on its line of settings.json, with a quick fix', async () => {
  const { controller } = await voicePilot();
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder);
  const settingsFile = vscode.Uri.joinPath(folder.uri, '.vscode', 'settings.json');
  const problems = (): vscode.Diagnostic[] =>
    vscode.languages.getDiagnostics(settingsFile).filter((diagnostic) => diagnostic.source === 'VoicePilot');
  const config = vscode.workspace.getConfiguration('voicepilot');
  try {
    await config.update('azure.region', 'westeurope', vscode.ConfigurationTarget.Workspace);
    await waitFor(controller.settingsDiagnostics.onDidRefresh, () => problems().length > 0, 'the region problem');
    const [problem] = problems();
    assert.ok(problem);
    const document = await vscode.workspace.openTextDocument(settingsFile);
    assert.equal(document.getText(problem.range), '"westeurope"');
    assert.match(document.lineAt(problem.range.start.line).text, /"voicepilot.azure.region"/);
    assert.equal(problem.severity, vscode.DiagnosticSeverity.Error);

    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      settingsFile,
      problem.range,
    );
    const fix = actions.find((action) => action.title === 'Use the region eastus2');
    assert.ok(fix?.edit, `quick fixes: ${actions.map((action) => action.title).join(', ')}`);
    await vscode.workspace.applyEdit(fix.edit);
    await document.save();
    await waitFor(controller.settingsDiagnostics.onDidRefresh, () => problems().length === 0, 'the problem to clear');
    await waitFor(
      vscode.workspace.onDidChangeConfiguration,
      () => vscode.workspace.getConfiguration('voicepilot').get('azure.region') === 'eastus2',
      'the fixed region to apply',
    );
  } finally {
    await config.update('azure.region', undefined, vscode.ConfigurationTarget.Workspace);
  }
});
