import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  basePythonCandidates,
  findReadyPython,
  venvPython,
  type BasePythonLookup,
  type PythonLookup,
} from '../../../extension/src/environment/findPython';

const WORKSPACE = '/home/dev/project';
const EXTENSION = '/home/dev/.vscode/extensions/voicepilot.voicepilot-0.1.0';
const WORKSPACE_VENV = `${WORKSPACE}/.venv/bin/python`;
const EXTENSION_VENV = `${EXTENSION}/.venv/bin/python`;

/** A lookup over a fake file system holding `files`, where the Pythons in `withVoicePilot` have it. */
function lookup(files: string[], withVoicePilot: string[], overrides: Partial<PythonLookup> = {}) {
  const probed: string[] = [];
  const value: PythonLookup = {
    configuredPath: undefined,
    workspaceFolder: WORKSPACE,
    workspaceTrusted: true,
    extensionPath: EXTENSION,
    platform: 'linux',
    isFile: (filePath) => Promise.resolve(files.includes(filePath)),
    hasVoicePilot: (python) => {
      probed.push(python);
      return Promise.resolve(withVoicePilot.includes(python));
    },
    ...overrides,
  };
  return { value, probed };
}

describe('findReadyPython', () => {
  it('uses voicepilot.python.path first, without looking any further', async () => {
    const { value, probed } = lookup([WORKSPACE_VENV], [WORKSPACE_VENV], { configuredPath: '/opt/py/bin/python' });

    assert.deepEqual(await findReadyPython(value), { command: '/opt/py/bin/python', source: 'voicepilot.python.path' });
    assert.deepEqual(probed, []);
  });

  it("uses a trusted workspace's .venv that has voicepilot, before the extension's", async () => {
    const { value } = lookup([WORKSPACE_VENV, EXTENSION_VENV], [WORKSPACE_VENV]);

    assert.deepEqual(await findReadyPython(value), { command: WORKSPACE_VENV, source: 'workspace .venv' });
  });

  it("skips a workspace's unrelated .venv: no voicepilot in it", async () => {
    const { value, probed } = lookup([WORKSPACE_VENV], []);

    assert.equal(await findReadyPython(value), undefined);
    assert.deepEqual(probed, [WORKSPACE_VENV]);
  });

  it("never runs an untrusted workspace's .venv, not even to look into it", async () => {
    const { value, probed } = lookup([WORKSPACE_VENV, EXTENSION_VENV], [WORKSPACE_VENV], { workspaceTrusted: false });

    assert.deepEqual(await findReadyPython(value), { command: EXTENSION_VENV, source: 'extension .venv' });
    assert.deepEqual(probed, []);
  });

  it("uses the extension's .venv (a development checkout) when the workspace has none", async () => {
    const expected = { command: EXTENSION_VENV, source: 'extension .venv' };

    assert.deepEqual(await findReadyPython(lookup([EXTENSION_VENV], []).value), expected);
    assert.deepEqual(await findReadyPython(lookup([EXTENSION_VENV], [], { workspaceFolder: undefined }).value), expected);
  });

  it('needs the private environment when nothing else is ready', async () => {
    assert.equal(await findReadyPython(lookup([], []).value), undefined);
  });

  it('finds a Windows .venv under Scripts', async () => {
    const windowsVenv = 'C:\\work\\project\\.venv\\Scripts\\python.exe';
    const { value } = lookup([windowsVenv], [windowsVenv], { platform: 'win32', workspaceFolder: 'C:\\work\\project' });

    assert.equal(venvPython('C:\\work\\project', 'win32'), windowsVenv);
    assert.deepEqual(await findReadyPython(value), { command: windowsVenv, source: 'workspace .venv' });
  });
});

describe('basePythonCandidates', () => {
  function baseLookup(overrides: Partial<BasePythonLookup> = {}) {
    const asked = { pythonExtension: 0 };
    const value: BasePythonLookup = {
      chosenPath: undefined,
      workspaceTrusted: true,
      platform: 'linux',
      pythonExtensionInterpreter: () => {
        asked.pythonExtension++;
        return Promise.resolve('/usr/local/bin/python3.12');
      },
      ...overrides,
    };
    return { value, asked };
  }

  it("orders the user's choice, the Python extension's selection, then PATH", async () => {
    const { value } = baseLookup({ chosenPath: '/opt/python3.13/bin/python3' });

    assert.deepEqual(
      (await basePythonCandidates(value)).map((candidate) => [candidate.command, candidate.source]),
      [
        ['/opt/python3.13/bin/python3', 'chosen by you'],
        ['/usr/local/bin/python3.12', 'Python extension'],
        ['python3', 'PATH'],
        ['python', 'PATH'],
        ['python3.13', 'PATH'],
        ['python3.12', 'PATH'],
        ['python3.11', 'PATH'],
        ['python3.10', 'PATH'],
      ],
    );
  });

  it("never asks the Python extension in an untrusted workspace: its pick may be the workspace's .venv", async () => {
    const { value, asked } = baseLookup({ workspaceTrusted: false });

    assert.deepEqual(
      (await basePythonCandidates(value)).map((candidate) => candidate.command),
      ['python3', 'python', 'python3.13', 'python3.12', 'python3.11', 'python3.10'],
    );
    assert.equal(asked.pythonExtension, 0);
  });

  it('looks for python before python3 on Windows', async () => {
    const { value } = baseLookup({ platform: 'win32', pythonExtensionInterpreter: () => Promise.resolve(undefined) });

    assert.deepEqual(
      (await basePythonCandidates(value)).map((candidate) => candidate.command),
      ['python', 'python3'],
    );
  });
});
