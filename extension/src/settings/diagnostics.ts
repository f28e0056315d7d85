// Configuration problems in the Problems panel, on the offending line of the settings.json that
// holds the setting (user or workspace), with quick fixes. The rules are in problems.ts.
import * as vscode from 'vscode';
import { CONFIGURATION_SECTION } from '../ids';
import { readEffectiveSettings } from './settings';
import { findSettingsProblems, type SettingsProblem } from './problems';

const SOURCE = 'VoicePilot';

export class SettingsDiagnostics implements vscode.CodeActionProvider, vscode.Disposable {
  static readonly providedCodeActionKinds = [vscode.CodeActionKind.QuickFix];
  private readonly collection = vscode.languages.createDiagnosticCollection('voicepilot-settings');
  private problems = new Map<string, SettingsProblem[]>();
  private readonly subscriptions: vscode.Disposable[];
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires after every refresh (for the extension-host tests). */
  readonly onDidRefresh = this.changed.event;
  private refreshing: Promise<void> = Promise.resolve();

  constructor(private readonly userSettings: vscode.Uri | undefined) {
    this.subscriptions = [
      vscode.languages.registerCodeActionsProvider(
        [{ pattern: '**/settings.json' }, { pattern: '**/*.code-workspace' }],
        this,
        { providedCodeActionKinds: SettingsDiagnostics.providedCodeActionKinds },
      ),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(CONFIGURATION_SECTION)) {
          void this.refresh();
        }
      }),
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (this.files().some((file) => file.toString() === event.document.uri.toString())) {
          void this.refresh();
        }
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.refresh()),
    ];
    void this.refresh();
  }

  /** The problems now shown, by file. */
  get current(): ReadonlyMap<string, readonly SettingsProblem[]> {
    return this.problems;
  }

  /** Checks every settings file again; calls are queued, so the last one sees the latest text. */
  refresh(): Promise<void> {
    this.refreshing = this.refreshing.then(() => this.check()).catch(() => undefined);
    return this.refreshing;
  }

  provideCodeActions(
    document: vscode.TextDocument,
    _range: vscode.Range | vscode.Selection,
    context: vscode.CodeActionContext,
  ): vscode.CodeAction[] {
    const problems = this.problems.get(document.uri.toString()) ?? [];
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== SOURCE) {
        continue;
      }
      const problem = problems.find(
        (candidate) =>
          candidate.setting === diagnostic.code && document.offsetAt(diagnostic.range.start) === candidate.start,
      );
      problem?.fixes.forEach((fix, index) => {
        const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        const text = document.getText();
        const edit = new vscode.WorkspaceEdit();
        edit.replace(document.uri, new vscode.Range(document.positionAt(0), document.positionAt(text.length)), fix.apply(text));
        action.edit = edit;
        action.diagnostics = [diagnostic];
        action.isPreferred = index === 0;
        actions.push(action);
      });
    }
    return actions;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
    this.collection.dispose();
    this.changed.dispose();
  }

  /** User settings, each folder's .vscode/settings.json, and the .code-workspace file. */
  private files(): vscode.Uri[] {
    const files = (vscode.workspace.workspaceFolders ?? []).map((folder) =>
      vscode.Uri.joinPath(folder.uri, '.vscode', 'settings.json'),
    );
    const workspaceFile = vscode.workspace.workspaceFile;
    if (workspaceFile !== undefined && workspaceFile.scheme !== 'untitled') {
      files.push(workspaceFile);
    }
    if (this.userSettings !== undefined) {
      files.push(this.userSettings);
    }
    return files;
  }

  private async check(): Promise<void> {
    const effective = readEffectiveSettings();
    // Built aside and swapped in, so code actions asked for meanwhile still see the last problems.
    const found = new Map<string, SettingsProblem[]>();
    const entries: [vscode.Uri, vscode.Diagnostic[]][] = [];
    for (const file of this.files()) {
      const document = vscode.workspace.textDocuments.find((candidate) => candidate.uri.toString() === file.toString());
      const text = document?.getText() ?? (await readText(file));
      if (text === undefined) {
        continue;
      }
      const problems = findSettingsProblems(text, effective);
      if (problems.length === 0) {
        continue;
      }
      found.set(file.toString(), problems);
      const at = (offset: number): vscode.Position => document?.positionAt(offset) ?? positionAt(text, offset);
      entries.push([
        file,
        problems.map((problem) => {
          const diagnostic = new vscode.Diagnostic(
            new vscode.Range(at(problem.start), at(problem.end)),
            problem.message,
            problem.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
          );
          diagnostic.source = SOURCE;
          diagnostic.code = problem.setting;
          return diagnostic;
        }),
      ]);
    }
    this.problems = found;
    this.collection.clear();
    this.collection.set(entries);
    this.changed.fire();
  }
}

async function readText(file: vscode.Uri): Promise<string | undefined> {
  try {
    return new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
  } catch {
    return undefined;
  }
}

function positionAt(text: string, offset: number): vscode.Position {
  const before = text.slice(0, offset).split('\n');
  return new vscode.Position(before.length - 1, (before.at(-1) ?? '').length);
}

/**
 * The user settings file: VS Code keeps an extension's global storage in
 * `<user data>/User/globalStorage/<extension id>`, next to `<user data>/User/settings.json`.
 */
export function userSettingsFile(globalStorage: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(globalStorage, '..', '..', 'settings.json');
}
