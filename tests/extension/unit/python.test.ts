import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findPython, venvPython, type PythonLookup } from '../../../extension/src/sidecar/python';

const WORKSPACE = '/home/dev/project';
const EXTENSION = '/home/dev/.vscode/extensions/voicepilot.voicepilot-0.1.0';

/** A lookup over a fake file system holding `files`; records whether the Python extension was asked. */
function lookup(files: string[], overrides: Partial<PythonLookup> = {}) {
  const asked = { pythonExtension: 0 };
  const value: PythonLookup = {
    configuredPath: undefined,
    workspaceFolder: WORKSPACE,
    workspaceTrusted: true,
    extensionPath: EXTENSION,
    platform: 'linux',
    isFile: (filePath) => Promise.resolve(files.includes(filePath)),
    pythonExtensionInterpreter: () => {
      asked.pythonExtension++;
      return Promise.resolve('/usr/local/bin/python3.12');
    },
    ...overrides,
  };
  return { value, asked };
}

describe('findPython', () => {
  it('uses voicepilot.python.path first, without looking any further', async () => {
    const { value, asked } = lookup([`${WORKSPACE}/.venv/bin/python`], { configuredPath: '/opt/py/bin/python' });

    assert.deepEqual(await findPython(value), { command: '/opt/py/bin/python', source: 'voicepilot.python.path' });
    assert.equal(asked.pythonExtension, 0);
  });

  it("prefers the workspace's .venv to the extension's", async () => {
    const { value } = lookup([`${WORKSPACE}/.venv/bin/python`, `${EXTENSION}/.venv/bin/python`]);

    assert.deepEqual(await findPython(value), { command: `${WORKSPACE}/.venv/bin/python`, source: 'workspace .venv' });
  });

  it("uses the extension's .venv when the workspace has none or is not trusted", async () => {
    const files = [`${WORKSPACE}/.venv/bin/python`, `${EXTENSION}/.venv/bin/python`];
    const expected = { command: `${EXTENSION}/.venv/bin/python`, source: 'extension .venv' };

    assert.deepEqual(await findPython(lookup(files.slice(1)).value), expected);
    assert.deepEqual(await findPython(lookup(files, { workspaceFolder: undefined }).value), expected);
    assert.deepEqual(await findPython(lookup(files, { workspaceTrusted: false }).value), expected);
  });

  it('never asks the Python extension in an untrusted workspace: its pick may be the workspace\'s .venv', async () => {
    const { value, asked } = lookup([], { workspaceTrusted: false });

    assert.deepEqual(await findPython(value), { command: 'python3', source: 'PATH' });
    assert.equal(asked.pythonExtension, 0);
  });

  it('asks the Python extension only when there is no .venv', async () => {
    const { value, asked } = lookup([]);

    assert.deepEqual(await findPython(value), { command: '/usr/local/bin/python3.12', source: 'Python extension' });
    assert.equal(asked.pythonExtension, 1);
  });

  it('falls back to python3 on PATH (python on Windows)', async () => {
    const none = { pythonExtensionInterpreter: () => Promise.resolve(undefined) };

    assert.deepEqual(await findPython(lookup([], none).value), { command: 'python3', source: 'PATH' });
    assert.deepEqual(await findPython(lookup([], { ...none, platform: 'win32' }).value), {
      command: 'python',
      source: 'PATH',
    });
  });

  it('finds a Windows .venv under Scripts', async () => {
    const windowsVenv = 'C:\\work\\project\\.venv\\Scripts\\python.exe';
    const { value } = lookup([windowsVenv], { platform: 'win32', workspaceFolder: 'C:\\work\\project' });

    assert.equal(venvPython('C:\\work\\project', 'win32'), windowsVenv);
    assert.deepEqual(await findPython(value), { command: windowsVenv, source: 'workspace .venv' });
  });
});
