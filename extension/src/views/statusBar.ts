// The status-bar item: the conversation's short state at a glance (idle, connecting, listening,
// thinking, speaking, reconnecting, error); a click toggles talking. The tooltip has the state,
// the session's age, the time to the next key renewal and the input device; a paused or replaced
// microphone or speaker colours the item as a warning and says why in the tooltip.
import * as vscode from 'vscode';
import type { LiveSession } from '../conversation/liveSession';
import { describeStatusBar, type StatusBarLook } from './presentation';
import type { ConnectionStateStore } from '../conversation/state';

export interface StatusBarSources {
  readonly state: ConnectionStateStore;
  readonly live: LiveSession;
  /** The microphone, or the file that stands in for it. */
  inputDevice(): string;
  renewIntervalS(): number;
  /** False in Restricted Mode: the item says the tools are off. */
  workspaceTrusted(): boolean;
}

/** How often the tooltip's clocks (session age, next renewal) are refreshed during a conversation. */
const TICK_MS = 1_000;

export class ConnectionStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('voicepilot.status', vscode.StatusBarAlignment.Right, 100);
  private readonly subscriptions: vscode.Disposable[] = [];
  private ticker: NodeJS.Timeout | undefined;
  private lookValue: StatusBarLook | undefined;

  constructor(private readonly sources: StatusBarSources) {
    this.item.name = 'VoicePilot';
    const unsubscribe = sources.live.onChange(() => this.render());
    this.subscriptions.push(
      sources.state.onDidChange(() => this.render()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.render()),
      { dispose: unsubscribe },
    );
    this.render();
    this.item.show();
  }

  /** What the item shows now (for the extension-host tests). */
  get look(): StatusBarLook | undefined {
    return this.lookValue;
  }

  dispose(): void {
    clearInterval(this.ticker);
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
    this.item.dispose();
  }

  private render(): void {
    const { state, live } = this.sources;
    const look = describeStatusBar({
      status: state.current,
      talking: state.isTalking,
      sidecarStopped: state.sidecarStopped,
      activity: live.activity({ muted: state.muted, pushToTalk: state.pushToTalk, dictating: state.dictating }),
      details: live.details(Date.now(), this.sources.renewIntervalS(), this.sources.inputDevice()),
      devices: live.deviceStates,
      toolsOff: !this.sources.workspaceTrusted(),
    });
    this.lookValue = look;
    this.item.text = look.text;
    this.item.tooltip = look.tooltip;
    this.item.backgroundColor = look.background === undefined ? undefined : new vscode.ThemeColor(look.background);
    this.item.command = look.command;
    this.item.accessibilityInformation = { label: look.tooltip.split('\n')[0] ?? 'VoicePilot' };
    this.tick(state.conversationActive);
  }

  private tick(active: boolean): void {
    if (active && this.ticker === undefined) {
      this.ticker = setInterval(() => this.render(), TICK_MS);
    } else if (!active && this.ticker !== undefined) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }
}
