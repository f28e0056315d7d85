import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_ALLOWED_REGIONS, findSettingsProblems } from '../../../extension/src/settings/problems';

const EFFECTIVE = { profile: 'azure', allowedRegions: DEFAULT_ALLOWED_REGIONS };
const FILE = `{
  // comments stay
  "voicepilot.profile": "azure",
  "voicepilot.azure.endpoint": "https://res.openai.azure.com",
  "voicepilot.azure.deployment": "gpt-realtime",
  "voicepilot.azure.region": "westeurope"
}
`;

describe('findSettingsProblems', () => {
  it('puts a region outside the allowlist on its value, with quick fixes that keep the comments', () => {
    const [problem, ...others] = findSettingsProblems(FILE, EFFECTIVE);

    assert.deepEqual(others, []);
    assert.ok(problem);
    assert.equal(problem.setting, 'voicepilot.azure.region');
    assert.equal(FILE.slice(problem.start, problem.end), '"westeurope"');
    assert.match(problem.message, /'westeurope' is not one of the allowed regions \(eastus2, swedencentral\)/);
    assert.deepEqual(
      problem.fixes.map((fix) => fix.title),
      ['Use the region eastus2', 'Use the region swedencentral', 'Add westeurope to voicepilot.azure.allowedRegions'],
    );
    const fixed = problem.fixes[0]?.apply(FILE) ?? '';
    assert.match(fixed, /"voicepilot.azure.region": "eastus2"/);
    assert.match(fixed, /\/\/ comments stay/);
    assert.deepEqual(findSettingsProblems(fixed, EFFECTIVE), []);
    const widened = problem.fixes[2]?.apply(FILE) ?? '';
    assert.deepEqual(findSettingsProblems(widened, { ...EFFECTIVE, allowedRegions: ['eastus2', 'swedencentral', 'westeurope'] }), []);
  });

  it('accepts a region written as its display name', () => {
    assert.deepEqual(findSettingsProblems(FILE.replace('westeurope', 'East US 2'), EFFECTIVE), []);
  });

  it('refuses plain http for a remote endpoint (quick fix: https) and hosts that are not Azure OpenAI', () => {
    const http = findSettingsProblems('{"voicepilot.azure.endpoint": "http://res.openai.azure.com"}', EFFECTIVE);
    assert.equal(http[0]?.fixes[0]?.title, 'Use https://res.openai.azure.com');
    const other = findSettingsProblems('{"voicepilot.azure.endpoint": "https://example.com"}', EFFECTIVE);
    assert.match(other[0]?.message ?? '', /example.com is not an Azure OpenAI resource/);
    assert.deepEqual(findSettingsProblems('{"voicepilot.azure.endpoint": "http://127.0.0.1:8787"}', EFFECTIVE), []);
  });

  it('warns when the azure profile lacks an endpoint or a deployment, and about renewals slower than sessions', () => {
    const [profile] = findSettingsProblems('{"voicepilot.profile": "azure"}', EFFECTIVE);
    assert.match(profile?.message ?? '', /needs voicepilot.azure.endpoint and voicepilot.azure.deployment/);
    const [renew] = findSettingsProblems(
      '{"voicepilot.connection.renewIntervalS": 90, "voicepilot.connection.maxSessionS": 60}',
      EFFECTIVE,
    );
    assert.equal(renew?.severity, 'warning');
    assert.equal(renew?.fixes[0]?.title, 'Renew every 30 s');
  });

  it('finds nothing in a file that does not parse or has no VoicePilot settings', () => {
    assert.deepEqual(findSettingsProblems('{ "editor.fontSize": 14 }', EFFECTIVE), []);
    assert.deepEqual(findSettingsProblems('not json', EFFECTIVE), []);
  });
});
