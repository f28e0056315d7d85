// What the sidecar sends to the editor, routed to the parts of the UI that show it.
import type * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  Methods,
  type AudioLevelParams,
  type ConnectionStateParams,
  type DeviceStateParams,
  type DiagnosticsParams,
  type RunToolParams,
  type RunToolResult,
  type TranscriptParams,
} from './contract';
import type { LiveSession } from '../conversation/liveSession';
import { DEVICE_NAMES } from '../views/presentation';
import type { ConnectionStateStore } from '../conversation/state';
import { runEditorTool, type ToolPolicy } from '../tools/tools';

export interface SidecarListeners {
  readonly state: ConnectionStateStore;
  readonly live: LiveSession;
  /** Every transcript notification (the transcript view, the dictation). */
  onTranscript(line: TranscriptParams): void;
  /** Every device state change (the warning message with its device picker button). */
  onDeviceState(change: DeviceStateParams): void;
  readonly log: vscode.LogOutputChannel;
  readonly tools: ToolPolicy;
}

/** The handlers, by method: the client calls them, and so can the extension-host tests. */
export interface SidecarEvents {
  [Methods.connectionState](status: ConnectionStateParams): void;
  [Methods.transcript](line: TranscriptParams): void;
  [Methods.diagnostics](event: DiagnosticsParams): void;
  [Methods.audioLevel](level: AudioLevelParams): void;
  [Methods.deviceState](change: DeviceStateParams): void;
  [Methods.runTool](call: RunToolParams): Promise<RunToolResult>;
}

export function sidecarEvents(listeners: SidecarListeners): SidecarEvents {
  const { state, live, log } = listeners;
  return {
    [Methods.connectionState]: (status) => {
      log.info(`Connection ${status.previous} → ${status.state}${status.reason ? `: ${status.reason}` : ''}`);
      live.onState(status, Date.now());
      state.update(status);
    },
    [Methods.transcript]: (line) => {
      live.onTranscript(line, Date.now());
      listeners.onTranscript(line);
    },
    [Methods.diagnostics]: (event) => {
      logDiagnostics(log, event);
      live.onDiagnostics(event, Date.now());
    },
    [Methods.audioLevel]: (level) => live.onAudioLevel(level, Date.now()),
    [Methods.deviceState]: (change) => {
      const line = `${DEVICE_NAMES[change.kind].title} ${change.previous} → ${change.state}: ${change.message}`;
      if (change.state === 'active') {
        log.info(line);
      } else {
        log.warn(line);
      }
      if (live.onDeviceState(change, Date.now())) {
        listeners.onDeviceState(change);
      }
    },
    [Methods.runTool]: (call) => runEditorTool(call, log, listeners.tools),
  };
}

export function registerSidecarHandlers(client: LanguageClient, events: SidecarEvents): void {
  client.onNotification(Methods.connectionState, (status: ConnectionStateParams) =>
    events[Methods.connectionState](status),
  );
  client.onNotification(Methods.transcript, (line: TranscriptParams) => events[Methods.transcript](line));
  client.onNotification(Methods.diagnostics, (event: DiagnosticsParams) => events[Methods.diagnostics](event));
  client.onNotification(Methods.audioLevel, (level: AudioLevelParams) => events[Methods.audioLevel](level));
  client.onNotification(Methods.deviceState, (change: DeviceStateParams) => events[Methods.deviceState](change));
  client.onRequest(Methods.runTool, (call: RunToolParams) => events[Methods.runTool](call));
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
    log.trace(`Sidecar stats: ${line}`);
  }
}
