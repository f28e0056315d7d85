// The live transcript: a webview view in the VoicePilot panel. Turns appear as their words
// arrive (voicepilot/transcript deltas), user and assistant apart, each with its time; the
// view's title bar exports the whole conversation as Markdown.
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import type { TranscriptParams } from '../sidecar/contract';
import { Views } from '../ids';
import { TranscriptModel, type Turn } from '../conversation/transcriptModel';

export class TranscriptView implements vscode.WebviewViewProvider, vscode.Disposable {
  readonly model = new TranscriptModel();
  private view: vscode.WebviewView | undefined;
  private readonly changed = new vscode.EventEmitter<Turn>();
  /** Fires for every turn that changed (the dictation inserts the final ones). */
  readonly onDidChangeTurn = this.changed.event;
  private readonly submitted = new vscode.EventEmitter<string>();
  /** Fires with the text typed into the view's message box (Send Text Message without the input box). */
  readonly onDidSubmitText = this.submitted.event;
  private readonly registration: vscode.Disposable;

  constructor() {
    this.registration = vscode.window.registerWebviewViewProvider(Views.transcript, this, {
      webviewOptions: { retainContextWhenHidden: true },
    });
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: true, localResourceRoots: [] };
    view.webview.html = page(crypto.randomBytes(16).toString('base64'));
    view.webview.onDidReceiveMessage((message: { type?: string; text?: unknown }) => {
      if (message.type === 'ready') {
        this.post();
      } else if (message.type === 'send' && typeof message.text === 'string') {
        this.submitted.fire(message.text);
      }
    });
    view.onDidDispose(() => {
      this.view = undefined;
    });
  }

  /** Takes a voicepilot/transcript notification. */
  append(line: TranscriptParams): void {
    const turn = this.model.apply(line, Date.now());
    if (turn !== undefined) {
      this.post();
      this.changed.fire(turn);
    }
  }

  clear(): void {
    this.model.clear();
    this.post();
  }

  /**
   * Brings the view into sight without taking the keyboard from the editor. Unless `always`, only
   * the first time: a user who switched the panel to something else keeps it there.
   */
  async reveal(always: boolean): Promise<void> {
    if (this.view !== undefined) {
      if (always) {
        this.view.show(true);
      }
      return;
    }
    await vscode.commands.executeCommand(`${Views.transcript}.focus`);
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
  }

  /** Opens the transcript as an untitled Markdown document. */
  async exportMarkdown(): Promise<void> {
    const content = this.model.toMarkdown((at) => new Date(at).toLocaleString());
    const document = await vscode.workspace.openTextDocument({ language: 'markdown', content });
    await vscode.window.showTextDocument(document, { preview: false });
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
    this.submitted.dispose();
  }

  private post(): void {
    const turns = this.model.turns.map((turn) => ({
      role: turn.role,
      text: turn.text,
      final: turn.final,
      time: new Date(turn.startedAt).toLocaleTimeString(),
    }));
    void this.view?.webview.postMessage({ type: 'turns', turns });
  }
}

/** The view's page: renders the turns it is sent; no remote content, scripts only with the nonce. */
function page(nonce: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">
  body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 4px 8px; }
  .empty { color: var(--vscode-descriptionForeground); }
  .turn { margin: 0 0 8px; padding: 4px 8px; border-left: 3px solid var(--vscode-panel-border); }
  .turn.user { border-left-color: var(--vscode-charts-blue); }
  .turn.assistant { border-left-color: var(--vscode-charts-green); }
  .who { font-weight: 600; margin-right: 6px; }
  .time { color: var(--vscode-descriptionForeground); font-size: 0.9em; }
  .text { white-space: pre-wrap; margin-top: 2px; }
  .partial .text { font-style: italic; opacity: 0.8; }
  form { display: flex; gap: 4px; position: sticky; bottom: 0; padding: 4px 0; background: var(--vscode-sideBar-background); }
  input { flex: 1; color: var(--vscode-input-foreground); background: var(--vscode-input-background); border: 1px solid var(--vscode-input-border, transparent); padding: 2px 4px; }
  button { color: var(--vscode-button-foreground); background: var(--vscode-button-background); border: none; padding: 2px 8px; }
</style>
</head>
<body>
<main id="turns" role="log" aria-live="polite" aria-label="VoicePilot transcript">
  <p class="empty">Nothing said yet. Click VoicePilot in the status bar (or press Ctrl+Alt+M, Ctrl+Cmd+M on a Mac) and speak.</p>
</main>
<form id="send">
  <input id="message" maxlength="4096" placeholder="Type a message for VoicePilot" aria-label="Message for VoicePilot">
  <button type="submit">Send</button>
</form>
<script nonce="${nonce}">
  const vscode = acquireVsCodeApi();
  const list = document.getElementById('turns');
  const message = document.getElementById('message');
  document.getElementById('send').addEventListener('submit', (event) => {
    event.preventDefault();
    if (message.value.trim() === '') return;
    vscode.postMessage({ type: 'send', text: message.value });
    message.value = '';
  });
  window.addEventListener('message', (event) => {
    if (event.data.type !== 'turns') return;
    const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 4;
    list.replaceChildren();
    if (event.data.turns.length === 0) {
      const empty = document.createElement('p');
      empty.className = 'empty';
      empty.textContent = 'Nothing said yet.';
      list.append(empty);
    }
    for (const turn of event.data.turns) {
      const item = document.createElement('div');
      item.className = 'turn ' + turn.role + (turn.final ? '' : ' partial');
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = turn.role === 'user' ? 'You' : 'VoicePilot';
      const time = document.createElement('span');
      time.className = 'time';
      time.textContent = turn.time;
      const text = document.createElement('div');
      text.className = 'text';
      text.textContent = turn.final ? turn.text : turn.text + ' …';
      item.append(who, time, text);
      list.append(item);
    }
    if (atBottom) window.scrollTo(0, document.body.scrollHeight);
  });
  vscode.postMessage({ type: 'ready' });
</script>
</body>
</html>`;
}
