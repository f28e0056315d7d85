// What the rest of the extension does when the sidecar starts, exits or stays down: the
// connection state and the context keys follow, a new sidecar gets the stored key and the mute.
import type * as vscode from 'vscode';
import type { ConnectionStateStore } from '../conversation/state';
import { ContextKeys } from '../ids';
import type { ApiKeyStore } from '../settings/credentials';
import type { ContextKeyPublisher } from '../contextKeys';
import { showMessageWithActions } from '../views/messages';
import type { SidecarOptions } from './client';
import { Methods } from './contract';

export interface LifecycleParts {
  readonly state: ConnectionStateStore;
  readonly contextKeys: ContextKeyPublisher;
  readonly apiKey: ApiKeyStore;
  readonly log: vscode.LogOutputChannel;
}

export type SidecarLifecycle = Pick<SidecarOptions, 'onStarted' | 'onExited' | 'onStopped'>;

export function sidecarLifecycle({ state, contextKeys, apiKey, log }: LifecycleParts): SidecarLifecycle {
  return {
    onStarted: async (request) => {
      state.reset();
      contextKeys.set(ContextKeys.sidecarRunning, true);
      if (await apiKey.sendTo(request)) {
        log.info('The sidecar has the stored API key.');
      }
      if (state.muted) {
        await request(Methods.setMute, { muted: true });
      }
    },
    onExited: () => {
      contextKeys.set(ContextKeys.sidecarRunning, false);
      state.reset('The VoicePilot sidecar stopped unexpectedly.');
    },
    onStopped: (reason, gaveUp) => {
      contextKeys.set(ContextKeys.sidecarRunning, false);
      state.markSidecarStopped(reason);
      if (gaveUp) {
        void showMessageWithActions('VoicePilot: the sidecar keeps stopping, so it is not restarted again.', [
          'showLogs',
          'restartSidecar',
        ]);
      }
    },
  };
}
