import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ConnectionState } from '../../../extension/src/sidecar/contract';
import { ContextKeys } from '../../../extension/src/ids';
import { MIC_BACK, MIC_GONE } from '../fixtures';
import { voicePilot } from './api';
import { test } from './harness';

test('status bar and context keys follow a sequence of connectionState notifications', async () => {
  const { events, statusBar, controller } = await voicePilot();
  const { contextKeys } = controller;
  const send = (state: ConnectionState, previous: ConnectionState, extra = {}): void =>
    events['voicepilot/connectionState']({ state, previous, sessionId: 'vp_hosttest', ...extra });
  const seen: [string, string | undefined, string | boolean | undefined][] = [];
  const look = (): void => {
    seen.push([statusBar.look?.text ?? '', statusBar.look?.background, contextKeys.get(ContextKeys.state)]);
  };

  send('authenticating', 'idle');
  look();
  send('connecting', 'authenticating');
  look();
  send('connected', 'connecting');
  look();
  events['voicepilot/transcript']({ role: 'user', itemId: 'u1', text: 'go to line twelve', final: true });
  look();
  events['voicepilot/transcript']({ role: 'assistant', itemId: 'a1', text: 'Done', final: false });
  look();
  events['voicepilot/transcript']({ role: 'assistant', itemId: 'a1', text: 'Done.', final: true });
  send('reconnecting', 'connected', { reason: 'The peer went quiet.' });
  look();
  send('failed', 'reconnecting', { reason: 'Gave up.', errorKind: 'network' });
  look();
  assert.match(statusBar.look?.tooltip ?? '', /Gave up\.\nCause: network problem\./);
  send('closed', 'failed');
  look();

  assert.deepEqual(seen, [
    ['$(sync~spin) connecting', undefined, 'authenticating'],
    ['$(sync~spin) connecting', undefined, 'connecting'],
    ['$(mic-filled) listening', undefined, 'connected'],
    ['$(loading~spin) thinking', undefined, 'connected'],
    ['$(unmute) speaking', undefined, 'connected'],
    ['$(sync~spin) reconnecting', 'statusBarItem.warningBackground', 'reconnecting'],
    ['$(error) error', 'statusBarItem.errorBackground', 'failed'],
    ['$(mic) idle', undefined, 'closed'],
  ]);
});

test('mute and unmute reach the sidecar and the voicepilot.muted context key', async () => {
  const { controller } = await voicePilot();
  await vscode.commands.executeCommand('voicepilot.mute');
  assert.equal(controller.contextKeys.get(ContextKeys.muted), true);
  assert.equal(controller.state.muted, true);
  await vscode.commands.executeCommand('voicepilot.unmute');
  assert.equal(controller.contextKeys.get(ContextKeys.muted), false);
  assert.equal(controller.contextKeys.get(ContextKeys.sidecarRunning), true);
});

test('a lost microphone colours the status bar as a warning until it works again', async () => {
  const { events, statusBar, controller } = await voicePilot();
  const sessionId = 'vp_devicetest';
  events['voicepilot/connectionState']({ state: 'connected', previous: 'connecting', sessionId });
  try {
    events['voicepilot/deviceState']({ ...MIC_GONE, sessionId });
    assert.equal(statusBar.look?.background, 'statusBarItem.warningBackground');
    assert.match(statusBar.look?.tooltip ?? '', /Using 'default' \(the chosen microphone failed or is gone\)\./);
    assert.equal(controller.live.recentErrors[0]?.errorKind, 'device');

    events['voicepilot/deviceState']({ ...MIC_BACK, sessionId });
    assert.equal(statusBar.look?.background, undefined);
    assert.equal(statusBar.look?.shortState, 'listening');
  } finally {
    events['voicepilot/connectionState']({ state: 'closed', previous: 'connected', sessionId });
  }
});
