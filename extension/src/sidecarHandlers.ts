// What the sidecar sends to the editor, routed to the parts of the UI that show it.
import type * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  Methods,
  type ConnectionStateParams,
  type DiagnosticsParams,
  type RunToolParams,
  type RunToolResult,
  type TranscriptParams,
} from './contract';
import type { ConnectionStateStore } from './state';
import { runEditorTool } from './tools';
import type { TranscriptChannel } from './transcript';

export interface SidecarListeners {
  readonly state: ConnectionStateStore;
  readonly transcript: TranscriptChannel;
  readonly log: vscode.LogOutputChannel;
}

export function registerSidecarHandlers(client: LanguageClient, { state, transcript, log }: SidecarListeners): void {
  client.onNotification(Methods.connectionState, (status: ConnectionStateParams) => {
    log.info(`Connection ${status.previous} → ${status.state}${status.reason ? `: ${status.reason}` : ''}`);
    state.update(status);
  });
  client.onNotification(Methods.transcript, (line: TranscriptParams) => transcript.append(line));
  client.onNotification(Methods.diagnostics, (event: DiagnosticsParams) => logDiagnostics(log, event));
  client.onRequest(Methods.runTool, (call: RunToolParams): Promise<RunToolResult> => runEditorTool(call, log));
}

/** voicepilot/diagnostics events go to the log: a warning when they name an error, else debug stats. */
function logDiagnostics(log: vscode.LogOutputChannel, event: DiagnosticsParams): void {
  const stats = Object.entries(event.stats ?? {})
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
  const line = [event.message, stats].filter((part) => part !== undefined && part !== '').join(' | ');
  if (event.errorKind !== undefined) {
    log.warn(`Sidecar (${event.errorKind}): ${line}`);
  } else if (event.message !== undefined) {
    log.info(`Sidecar: ${line}`);
  } else {
    log.debug(`Sidecar stats: ${line}`);
  }
}
