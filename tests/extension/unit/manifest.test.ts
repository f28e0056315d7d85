// package.json and the code name the same commands, settings and states: these tests keep them in step.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { existsSync } from 'node:fs';
import path from 'node:path';
import manifest from '../../../package.json';
import { CONNECTION_STATES } from '../../../extension/src/sidecar/contract';
import { Commands, EXTENSION_ID, USER_ONLY_SETTINGS, Views } from '../../../extension/src/ids';

const root = path.join(__dirname, '..', '..');
import { isConversationActive } from '../../../extension/src/conversation/activity';

/** Evaluates the two forms of `when` clause the manifest uses against a value of voicepilot.state. */
function enabled(clause: string, state: string): boolean {
  return clause.split('||').some((alternative) => {
    const term = alternative.trim();
    if (term === '!voicepilot.state') {
      return false;
    }
    const regex = /^voicepilot\.state =~ \/(.+)\/$/.exec(term);
    if (regex?.[1] !== undefined) {
      return new RegExp(regex[1]).test(state);
    }
    const equality = /^voicepilot\.state == (\w+)$/.exec(term);
    assert.ok(equality, `unexpected when clause term: ${term}`);
    return equality[1] === state;
  });
}

function enablementOf(command: string): string | undefined {
  return manifest.contributes.commands.find((entry) => entry.command === command)?.enablement;
}

describe('package.json', () => {
  it('contributes exactly the commands the extension registers', () => {
    const contributed = manifest.contributes.commands.map((entry) => entry.command).sort();

    assert.deepEqual(contributed, Object.values(Commands).sort());
  });

  it("has the id the code uses to open the extension's settings", () => {
    assert.equal(`${manifest.publisher}.${manifest.name}`, EXTENSION_ID);
  });

  it('enables Start and End Conversation in opposite states, as the code decides', () => {
    const start = enablementOf(Commands.startConversation);
    const end = enablementOf(Commands.endConversation);
    assert.ok(start !== undefined && end !== undefined);
    for (const state of CONNECTION_STATES) {
      assert.equal(enabled(end, state), isConversationActive(state), `end conversation when ${state}`);
      assert.equal(enabled(start, state), !isConversationActive(state), `start conversation when ${state}`);
    }
  });

  it('declares the settings the extension reads, each documented', () => {
    const properties = manifest.contributes.configuration.properties as Record<string, { markdownDescription?: string }>;
    assert.deepEqual(Object.keys(properties).sort(), [
      'voicepilot.audio.echoCancellation',
      'voicepilot.audio.inputDevice',
      'voicepilot.audio.noiseReduction',
      'voicepilot.audio.outputDevice',
      'voicepilot.azure.allowedRegions',
      'voicepilot.azure.apiFlavor',
      'voicepilot.azure.apiVersion',
      'voicepilot.azure.auth',
      'voicepilot.azure.deployment',
      'voicepilot.azure.endpoint',
      'voicepilot.azure.region',
      'voicepilot.connection.iceServers',
      'voicepilot.connection.iceTransportPolicy',
      'voicepilot.connection.maxSessionS',
      'voicepilot.connection.renewIntervalS',
      'voicepilot.connection.transport',
      'voicepilot.conversation.mode',
      'voicepilot.input.file',
      'voicepilot.input.maxFileSeconds',
      'voicepilot.instructions',
      'voicepilot.notifications',
      'voicepilot.profile',
      'voicepilot.python.path',
      'voicepilot.talk.silenceTimeoutSeconds',
      'voicepilot.tools.allowedCommands',
      'voicepilot.tools.allowedSecretFiles',
      'voicepilot.tools.confirmDestructive',
      'voicepilot.trace.server',
      'voicepilot.transcription.language',
      'voicepilot.transcription.model',
      'voicepilot.turnDetection.bargeIn',
      'voicepilot.turnDetection.eagerness',
      'voicepilot.turnDetection.idleTimeoutMs',
      'voicepilot.turnDetection.mode',
      'voicepilot.turnDetection.prefixPaddingMs',
      'voicepilot.turnDetection.silenceDurationMs',
      'voicepilot.turnDetection.threshold',
      'voicepilot.turnDetection.type',
      'voicepilot.voice',
    ]);
    for (const [key, property] of Object.entries(properties)) {
      assert.ok((property.markdownDescription ?? '').length > 20, `${key} is documented`);
    }
  });

  it('keeps what the model may do and where audio and keys go in user settings, restricted everywhere', () => {
    const properties = manifest.contributes.configuration.properties as Record<string, { scope?: string }>;
    const { untrustedWorkspaces } = manifest.capabilities;
    assert.equal(untrustedWorkspaces.supported, 'limited');
    for (const setting of USER_ONLY_SETTINGS) {
      const key = `voicepilot.${setting}`;
      assert.equal(properties[key]?.scope, 'application', `${key} is user-only`);
      assert.ok(untrustedWorkspaces.restrictedConfigurations.includes(key), `${key} is restricted`);
    }
    // The settings that choose a program or a file the sidecar reads are restricted too.
    for (const key of ['voicepilot.python.path', 'voicepilot.input.file']) {
      assert.ok(untrustedWorkspaces.restrictedConfigurations.includes(key), key);
    }
    assert.deepEqual(
      untrustedWorkspaces.restrictedConfigurations.filter((key) => !(key in properties)),
      [],
    );
  });

  it('activates after startup for its status-bar item only, never blocking the window', () => {
    // Commands and views activate it too: VS Code 1.74+ infers onCommand/onView from contributes.
    assert.deepEqual(manifest.activationEvents, ['onStartupFinished']);
    assert.ok(Number(/\^1\.(\d+)/.exec(manifest.engines.vscode)?.[1]) >= 74, manifest.engines.vscode);
  });

  it('puts every command in the VoicePilot category, with an icon', () => {
    for (const entry of manifest.contributes.commands) {
      assert.equal(entry.category, 'VoicePilot', entry.command);
      assert.match(entry.icon, /^\$\([a-z-]+\)$/, entry.command);
    }
  });

  it('runs on the user\'s machine first, where the microphone is', () => {
    assert.deepEqual(manifest.extensionKind, ['ui', 'workspace']);
  });

  it('has a walkthrough whose steps point at real commands and shipped pages', () => {
    const commands = new Set<string>(Object.values(Commands));
    const [walkthrough] = manifest.contributes.walkthroughs;
    assert.ok(walkthrough);
    assert.equal(walkthrough.steps.length, 4);
    for (const step of walkthrough.steps) {
      for (const [, command] of step.description.matchAll(/\(command:([\w.]+)\)/g)) {
        assert.ok(command !== undefined && commands.has(command), `${step.id}: ${command}`);
      }
      assert.ok(existsSync(path.join(root, step.media.markdown)), step.media.markdown);
    }
  });

  it('shows the transcript and the diagnostics in a VoicePilot panel', () => {
    assert.deepEqual(
      manifest.contributes.views.voicepilot.map((view) => view.id),
      [Views.transcript, Views.diagnostics],
    );
    assert.equal(manifest.contributes.viewsContainers.panel[0]?.id, Views.container);
  });
});
