// What every command works with: the parts activate() made, handed in once, and the one thing
// the commands remember between calls (a setting change the running conversation follows already).
import type * as vscode from 'vscode';
import type { ConnectionStateStore } from '../conversation/state';
import type { LiveSession } from '../conversation/liveSession';
import type { ApiKeyStore } from '../settings/credentials';
import type { SettingsDiagnostics } from '../settings/diagnostics';
import type { Sidecar } from '../sidecar/client';
import type { ContextKeyPublisher } from '../contextKeys';
import type { DiagnosticsView } from '../views/diagnosticsView';
import type { TranscriptView } from '../views/transcriptView';

export interface Controller {
  readonly sidecar: Sidecar;
  readonly state: ConnectionStateStore;
  readonly apiKey: ApiKeyStore;
  readonly log: vscode.LogOutputChannel;
  readonly live: LiveSession;
  readonly transcript: TranscriptView;
  readonly diagnostics: DiagnosticsView;
  readonly settingsDiagnostics: SettingsDiagnostics;
  readonly contextKeys: ContextKeyPublisher;
  readonly followedChange: FollowedChange;
}

/**
 * A settings change that the running conversation follows already (a device switched through
 * the sidecar), so the restart that the change would otherwise cause is skipped once.
 */
export class FollowedChange {
  private expected = false;

  /** The next session-setting change is one the conversation follows already. */
  expect(): void {
    this.expected = true;
  }

  /** Whether the change that came was the expected one; forgets the expectation. */
  consume(): boolean {
    const expected = this.expected;
    this.expected = false;
    return expected;
  }
}
