// The VoicePilot commands: one handler per command id, each from the module of its concern
// (conversation, dictation, push to talk, devices, sign-in, transcript, diagnostics, sidecar).
import * as vscode from 'vscode';
import { Commands, type CommandId } from '../ids';
import { endConversation, startConversation } from './conversation';
import type { Controller } from './controller';
import { selectDevice } from './devices';
import { runDiagnostics } from './diagnostics';
import { dictate } from './dictation';
import { setMute, toggleTalking } from './pushToTalk';
import { sendText } from './sendText';
import { restartSidecar } from './sidecar';
import {
  clearApiKey,
  clearTurnPassword,
  setApiKey,
  setTurnPassword,
  signInWithEntra,
  useAzure,
  useProfile,
} from './signIn';
import { showTranscript } from './transcript';

export { FollowedChange, type Controller } from './controller';
export { registerReactions } from './reactions';

export function registerCommands(controller: Controller): vscode.Disposable {
  const handlers: Readonly<Record<CommandId, () => Promise<void> | void>> = {
    [Commands.startConversation]: () => startConversation(controller, 'conversation'),
    [Commands.endConversation]: () => endConversation(controller),
    [Commands.pushToTalk]: () => toggleTalking(controller),
    [Commands.dictate]: () => dictate(controller),
    [Commands.mute]: () => setMute(controller, true),
    [Commands.unmute]: () => setMute(controller, false),
    [Commands.selectMicrophone]: () => selectDevice(controller, 'input'),
    [Commands.selectSpeaker]: () => selectDevice(controller, 'output'),
    [Commands.setApiKey]: () => setApiKey(controller),
    [Commands.clearApiKey]: () => clearApiKey(controller),
    [Commands.setTurnPassword]: () => setTurnPassword(controller),
    [Commands.clearTurnPassword]: () => clearTurnPassword(controller),
    [Commands.signInWithEntra]: () => signInWithEntra(),
    [Commands.useLocalEngine]: () => useProfile('local'),
    [Commands.useAzure]: () => useAzure(controller),
    [Commands.showTranscript]: () => showTranscript(controller),
    [Commands.exportTranscript]: () => controller.transcript.exportMarkdown(),
    [Commands.clearTranscript]: () => controller.transcript.clear(),
    [Commands.runDiagnostics]: () => runDiagnostics(controller),
    [Commands.restartSidecar]: () => restartSidecar(controller),
    [Commands.showLogs]: () => controller.log.show(),
    [Commands.sendText]: () => sendText(controller),
  };
  return vscode.Disposable.from(
    ...Object.entries(handlers).map(([command, handler]) => vscode.commands.registerCommand(command, handler)),
  );
}
