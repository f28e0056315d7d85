// The VoicePilot diagnostics view in the panel: the connection checklist (each check passed or
// failed, with its next step), the live stats of the running conversation, the state of its
// microphone and speaker (active, fallback or paused) and its recent errors.
import * as vscode from 'vscode';
import type { DiagnosticCheck } from '../sidecar/contract';
import { Commands, Views } from '../ids';
import { describeStat, STAT_ORDER, type LiveSession } from '../conversation/liveSession';
import { describeDevices, describeDiagnostics } from './presentation';

type GroupId = 'checks' | 'stats' | 'devices' | 'errors';

type Node =
  | { kind: 'group'; id: GroupId }
  | { kind: 'check'; check: DiagnosticCheck; index: number }
  | { kind: 'nextStep'; check: DiagnosticCheck; index: number }
  | { kind: 'line'; id: string; label: string; description?: string; tooltip?: string; icon?: string };

export class DiagnosticsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private checksValue: readonly DiagnosticCheck[] | undefined;
  private running = false;
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly view: vscode.TreeView<Node>;
  private readonly unsubscribe: () => void;
  private readonly groups: Record<GroupId, Node> = {
    checks: { kind: 'group', id: 'checks' },
    stats: { kind: 'group', id: 'stats' },
    devices: { kind: 'group', id: 'devices' },
    errors: { kind: 'group', id: 'errors' },
  };

  constructor(private readonly live: LiveSession) {
    this.view = vscode.window.createTreeView(Views.diagnostics, { treeDataProvider: this, showCollapseAll: false });
    this.unsubscribe = live.onChange(() => {
      // Only the live parts change: the checklist keeps its expansion state.
      this.changed.fire(this.groups.stats);
      this.changed.fire(this.groups.devices);
      this.changed.fire(this.groups.errors);
    });
  }

  /** The checks of the last run; undefined before the first. */
  get checks(): readonly DiagnosticCheck[] | undefined {
    return this.checksValue;
  }

  setRunning(running: boolean): void {
    this.running = running;
    this.view.message = running ? 'Running the connection checks…' : undefined;
    this.changed.fire(undefined);
  }

  setChecks(checks: readonly DiagnosticCheck[]): void {
    this.checksValue = checks;
    this.running = false;
    this.view.message = undefined;
    this.view.badge = checks.every((check) => check.ok)
      ? undefined
      : { value: checks.filter((check) => !check.ok).length, tooltip: 'VoicePilot checks that failed' };
    this.changed.fire(undefined);
  }

  async reveal(): Promise<void> {
    await this.view.reveal(this.groups.checks, { expand: true, focus: false, select: false });
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'group':
        return this.groupItem(node.id);
      case 'check': {
        const { check } = node;
        const item = new vscode.TreeItem(
          check.name,
          check.ok || check.nextStep === undefined
            ? vscode.TreeItemCollapsibleState.None
            : vscode.TreeItemCollapsibleState.Expanded,
        );
        item.id = `check:${node.index}:${check.name}`;
        item.description = check.detail;
        item.iconPath = check.ok
          ? new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'))
          : new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
        item.tooltip = [`${check.ok ? 'Passed' : 'Failed'}: ${check.name}`, check.detail, check.ok ? undefined : check.nextStep]
          .filter(Boolean)
          .join('\n');
        item.accessibilityInformation = { label: `${check.name}: ${check.ok ? 'passed' : 'failed'}. ${check.detail}` };
        return item;
      }
      case 'nextStep': {
        const item = new vscode.TreeItem(`Next step: ${node.check.nextStep ?? ''}`);
        item.id = `next:${node.index}:${node.check.name}`;
        item.iconPath = new vscode.ThemeIcon('arrow-right');
        item.tooltip = node.check.nextStep;
        return item;
      }
      case 'line': {
        const item = new vscode.TreeItem(node.label);
        item.id = node.id;
        item.description = node.description;
        item.tooltip = node.tooltip;
        item.iconPath = node.icon === undefined ? undefined : new vscode.ThemeIcon(node.icon);
        return item;
      }
    }
  }

  getChildren(node?: Node): Node[] {
    if (node === undefined) {
      return [this.groups.checks, this.groups.stats, this.groups.devices, this.groups.errors];
    }
    if (node.kind === 'check') {
      return node.check.ok || node.check.nextStep === undefined ? [] : [{ kind: 'nextStep', check: node.check, index: node.index }];
    }
    if (node.kind !== 'group') {
      return [];
    }
    switch (node.id) {
      case 'checks':
        return (this.checksValue ?? []).map((check, index) => ({ kind: 'check', check, index }));
      case 'stats': {
        const stats = this.live.stats;
        const lines: Node[] = [];
        for (const name of STAT_ORDER) {
          const value = stats[name];
          const described = value === undefined ? undefined : describeStat(name, value);
          if (described !== undefined) {
            lines.push({ kind: 'line', id: `stat:${name}`, label: described.label, description: described.value });
          }
        }
        return lines.length > 0
          ? lines
          : [{ kind: 'line', id: 'stat:none', label: 'No conversation is running.', icon: 'info' }];
      }
      case 'devices': {
        const lines: Node[] = describeDevices(this.live.deviceStates, this.live.audioLevel).map((line) => ({
          kind: 'line',
          id: `device:${line.kind}`,
          label: line.label,
          description: line.description,
          ...(line.tooltip === undefined ? {} : { tooltip: line.tooltip }),
          icon: line.problem ? 'warning' : 'pass',
        }));
        return lines.length > 0
          ? lines
          : [{ kind: 'line', id: 'device:none', label: 'No microphone or speaker in use.', icon: 'info' }];
      }
      case 'errors': {
        const errors = this.live.recentErrors;
        return errors.length > 0
          ? errors.map((error, index) => ({
              kind: 'line',
              id: `error:${index}:${error.at}`,
              label: error.message,
              description: `${error.errorKind ?? 'error'}, ${new Date(error.at).toLocaleTimeString()}`,
              icon: 'warning',
            }))
          : [{ kind: 'line', id: 'error:none', label: 'None.', icon: 'check' }];
      }
    }
  }

  getParent(node: Node): Node | undefined {
    if (node.kind === 'check') {
      return this.groups.checks;
    }
    if (node.kind === 'nextStep') {
      return { kind: 'check', check: node.check, index: node.index };
    }
    if (node.kind === 'line') {
      if (node.id.startsWith('stat:')) {
        return this.groups.stats;
      }
      return node.id.startsWith('device:') ? this.groups.devices : this.groups.errors;
    }
    return undefined;
  }

  dispose(): void {
    this.unsubscribe();
    this.view.dispose();
    this.changed.dispose();
  }

  private groupItem(id: GroupId): vscode.TreeItem {
    const labels = {
      checks: 'Connection checks',
      stats: 'Live stats',
      devices: 'Audio devices',
      errors: 'Recent errors',
    } as const;
    const item = new vscode.TreeItem(labels[id], vscode.TreeItemCollapsibleState.Expanded);
    item.id = `group:${id}`;
    if (id === 'checks') {
      if (this.running) {
        item.description = 'running…';
        item.iconPath = new vscode.ThemeIcon('sync~spin');
      } else if (this.checksValue === undefined) {
        item.description = 'not run yet';
        item.iconPath = new vscode.ThemeIcon('pulse');
        item.command = { command: Commands.runDiagnostics, title: 'Run Connection Diagnostics' };
      } else {
        const summary = describeDiagnostics(this.checksValue);
        item.description = summary.title.replace('VoicePilot diagnostics: ', '');
        const allPassed = this.checksValue.every((check) => check.ok);
        item.iconPath = allPassed
          ? new vscode.ThemeIcon('pass-filled', new vscode.ThemeColor('testing.iconPassed'))
          : new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed'));
      }
      item.contextValue = 'checks';
    }
    if (id === 'stats') {
      item.iconPath = new vscode.ThemeIcon('graph-line');
    }
    if (id === 'devices') {
      item.iconPath = new vscode.ThemeIcon('mic');
    }
    if (id === 'errors') {
      item.iconPath = new vscode.ThemeIcon('warning');
    }
    return item;
  }
}
