// package.json and the code name the same commands, settings and states: these tests keep them in step.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import manifest from '../../../package.json';
import { CONNECTION_STATES } from '../../../extension/src/contract';
import { Commands, EXTENSION_ID } from '../../../extension/src/ids';
import { isConversationActive } from '../../../extension/src/presentation';

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

  it('declares the settings the extension reads', () => {
    assert.deepEqual(Object.keys(manifest.contributes.configuration.properties).sort(), [
      'voicepilot.azure.apiVersion',
      'voicepilot.azure.deployment',
      'voicepilot.azure.endpoint',
      'voicepilot.input.file',
      'voicepilot.instructions',
      'voicepilot.profile',
      'voicepilot.python.path',
      'voicepilot.trace.server',
      'voicepilot.voice',
    ]);
  });
});
