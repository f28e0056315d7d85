// Run Diagnostics: the extension's checks, then the sidecar's (which test a real connection),
// in the diagnostics view and the log.
import * as fs from 'node:fs/promises';
import * as vscode from 'vscode';
import { Views } from '../ids';
import { Methods, type DiagnosticCheck } from '../sidecar/contract';
import { buildStartSessionParams } from '../sidecar/sessionParams';
import { readConversationSettings } from '../settings/settings';
import type { Controller } from './controller';
import { localChecks } from './localChecks';

export async function runDiagnostics(controller: Controller): Promise<void> {
  const { sidecar, log, diagnostics, settingsDiagnostics, apiKey } = controller;
  diagnostics.setRunning(true);
  await vscode.commands.executeCommand(`${Views.diagnostics}.focus`);
  const checks: DiagnosticCheck[] = [];
  try {
    await settingsDiagnostics.refresh();
    const settings = readConversationSettings();
    const devices = await sidecar
      .request(Methods.listDevices, {})
      .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    checks.push(
      ...localChecks({
        settingsProblems: [...settingsDiagnostics.current.values()].flat().map((problem) => problem.message),
        profile: settings.profile,
        auth: settings.azureAuth ?? 'apiKey',
        hasApiKey: (await apiKey.get()) !== undefined,
        inputFile:
          settings.inputFile === undefined
            ? undefined
            : { path: settings.inputFile, exists: await fs.stat(settings.inputFile).then((stat) => stat.isFile(), () => false) },
        devices,
      }),
    );
    const remote = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'VoicePilot: running connection diagnostics' },
      () => {
        // Probe what a conversation would use now, not whatever the last one used.
        const { profile, connection } = buildStartSessionParams(settings);
        return sidecar.request(Methods.runDiagnostics, connection === undefined ? { profile } : { profile, connection });
      },
    );
    checks.push(...remote.checks);
  } catch (error) {
    checks.push({
      name: 'sidecar',
      ok: false,
      detail: `The sidecar could not run its checks: ${error instanceof Error ? error.message : String(error)}`,
      nextStep: "Run 'VoicePilot: Show Logs', then 'VoicePilot: Restart Sidecar'.",
    });
  }
  for (const check of checks) {
    const line = `Diagnostics: ${check.name}: ${check.ok ? 'passed' : 'FAILED'}: ${check.detail}${check.nextStep && !check.ok ? ` (next step: ${check.nextStep})` : ''}`;
    if (check.ok) {
      log.info(line);
    } else {
      log.warn(line);
    }
  }
  diagnostics.setChecks(checks);
  await diagnostics.reveal().catch(() => undefined);
}
