// Reads the `voicepilot.*` settings. The decisions made with them live in pure modules
// (sessionParams.ts, paths.ts, python.ts).
import * as os from 'node:os';
import * as vscode from 'vscode';
import type { StartSessionParams } from './contract';
import { CONFIGURATION_SECTION } from './ids';
import { resolveExecutableSetting, resolveFileSetting, type PathContext } from './paths';
import type { ConversationSettings } from './sessionParams';

/** The setting that, when it changes, means the sidecar should run on another interpreter. */
export const INTERPRETER_SETTING = `${CONFIGURATION_SECTION}.python.path`;

export function readConversationSettings(): ConversationSettings {
  const config = vscode.workspace.getConfiguration(CONFIGURATION_SECTION);
  return {
    profile: config.get<StartSessionParams['profile']>('profile', 'local'),
    azureEndpoint: config.get<string>('azure.endpoint', ''),
    azureDeployment: config.get<string>('azure.deployment', ''),
    azureApiVersion: config.get<string>('azure.apiVersion', ''),
    voice: config.get<string>('voice', ''),
    instructions: config.get<string>('instructions', ''),
    inputFile: resolveFileSetting(config.get<string>('input.file', ''), pathContext()),
  };
}

/** `voicepilot.python.path`, resolved; undefined when unset. */
export function readConfiguredPython(): string | undefined {
  const value = vscode.workspace.getConfiguration(CONFIGURATION_SECTION).get<string>('python.path', '');
  return resolveExecutableSetting(value, pathContext());
}

/** The first workspace folder on disk: where `${workspaceFolder}` and relative paths point. */
export function firstWorkspaceFolder(): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.find((candidate) => candidate.uri.scheme === 'file');
  return folder?.uri.fsPath;
}

function pathContext(): PathContext {
  return { workspaceFolder: firstWorkspaceFolder(), homeDir: os.homedir() };
}
