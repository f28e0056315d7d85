// The running extension's API (what activate() returns), for the tests.
import * as vscode from 'vscode';
import type { VoicePilotApi } from '../../../extension/src/extension';
import { EXTENSION_ID } from '../../../extension/src/ids';

export async function voicePilot(): Promise<VoicePilotApi> {
  const extension = vscode.extensions.getExtension<VoicePilotApi>(EXTENSION_ID);
  if (extension === undefined) {
    throw new Error(`${EXTENSION_ID} is not installed`);
  }
  return extension.activate();
}
