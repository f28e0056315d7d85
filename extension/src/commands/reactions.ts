// The reactions to what changes outside the commands and, like them, ends in a request to the
// sidecar or a restart of it: a new API key, a new interpreter, a changed session setting, a
// granted trust, a failed conversation, a long silence, a message typed into the transcript view.
import * as vscode from 'vscode';
import { ContextKeys } from '../ids';
import { INTERPRETER_SETTING, readConversationSettings, readNotificationLevel, SESSION_SETTINGS } from '../settings/settings';
import { showMessageWithActions } from '../views/messages';
import { describeFailure } from '../views/presentation';
import { restartConversation } from './conversation';
import type { Controller } from './controller';
import { stopAfterSilence } from './pushToTalk';
import { sendText } from './sendText';
import { deliverApiKey, deliverTurnPassword, restartForChange } from './sidecar';

/** How often the silence auto-stop looks at the clock. */
const SILENCE_CHECK_MS = 500;

export function registerReactions(controller: Controller): vscode.Disposable {
  const { apiKey, state, live } = controller;
  const silenceTimer = setInterval(() => void stopAfterSilence(controller), SILENCE_CHECK_MS);
  const publishProfile = (): void =>
    controller.contextKeys.set(ContextKeys.profile, readConversationSettings().profile);
  publishProfile();
  void apiKey.get().then((key) => controller.contextKeys.set(ContextKeys.hasApiKey, key !== undefined));
  return vscode.Disposable.from(
    { dispose: () => clearInterval(silenceTimer) },
    controller.transcript.onDidSubmitText((text) => void sendText(controller, text)),
    // SecretStorage reports this window's changes too: the one place a new key is sent from.
    apiKey.onDidChange(() => void deliverApiKey(controller)),
    apiKey.onDidChangeTurnPassword(() => void deliverTurnPassword(controller)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(INTERPRETER_SETTING)) {
        void restartForChange(controller, 'The Python interpreter setting changed.');
      } else if (SESSION_SETTINGS.some((setting) => event.affectsConfiguration(setting))) {
        void restartConversation(controller);
      }
      publishProfile();
    }),
    // A trusted workspace may use its own `.venv`.
    vscode.workspace.onDidGrantWorkspaceTrust(
      () => void restartForChange(controller, 'The workspace is trusted now, so its .venv may be used.'),
    ),
    state.onDidChange((status) => {
      if (status.state === 'failed' && status.previous !== 'failed') {
        const failure = describeFailure(status);
        if (readNotificationLevel() !== 'off') {
          void showMessageWithActions(failure.message, failure.actions);
        }
      }
      if (status.state === 'reconnecting' && status.previous !== 'reconnecting' && readNotificationLevel() === 'always') {
        vscode.window.setStatusBarMessage(`VoicePilot: reconnecting (${status.reason ?? 'connection lost'})`, 5_000);
      }
    }),
    { dispose: live.onChange(() => undefined) },
  );
}
