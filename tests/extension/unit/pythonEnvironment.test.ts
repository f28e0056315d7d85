import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { BasePython } from '../../../extension/src/environment/findPython';
import {
  environmentKey,
  installSteps,
  PARTIAL_MAX_AGE_MS,
  planEnvironment,
  PythonEnvironment,
  type EnvironmentHost,
  type RunResult,
} from '../../../extension/src/environment/pythonEnvironment';
import { SetupError } from '../../../extension/src/environment/setupErrors';

const EXTENSION = '/ext';
const STORAGE = '/storage';
const ROOT = `${STORAGE}/python`;
const WHEEL = `${EXTENSION}/dist/python/voicepilot-0.1.0-py3-none-any.whl`;
const PATH_PYTHON: BasePython = { command: 'python3', source: 'PATH' };

interface FakePython {
  readonly version: [number, number];
  readonly executable: string;
}

/**
 * A host over an in-memory file system: `pythons` answer the probe, every other command
 * "succeeds" by creating the venv interpreter it was asked for, unless `failing` matches it.
 */
class FakeHost implements EnvironmentHost {
  readonly storagePath = STORAGE;
  readonly extensionPath = EXTENSION;
  readonly platform = 'linux' as const;
  readonly files = new Map<string, Buffer>();
  readonly commands: string[] = [];
  readonly logged: string[] = [];
  failing: RegExp | undefined;
  cancelling: RegExp | undefined;
  uv: string | undefined;
  pipConfigured = false;

  constructor(private readonly pythons: Record<string, FakePython>) {
    this.files.set(`${EXTENSION}/requirements/py3.11.txt`, Buffer.from('aiortc==1.16.0 --hash=sha256:aa\n'));
    this.files.set(`${EXTENSION}/requirements/py3.12.txt`, Buffer.from('aiortc==1.16.0 --hash=sha256:bb\n'));
    this.files.set(WHEEL, Buffer.from('wheel'));
  }

  run(command: string, args: readonly string[], onLine: (line: string) => void): Promise<RunResult> {
    const python = this.pythons[command];
    if (args[1] === '-c') {
      if (python === undefined) {
        return Promise.resolve({ exitCode: undefined, lines: ['spawn ENOENT'] });
      }
      return Promise.resolve({ exitCode: 0, lines: [JSON.stringify([...python.version, python.executable])] });
    }
    const line = `${command} ${args.join(' ')}`;
    this.commands.push(line);
    if (this.cancelling?.test(line)) {
      return Promise.reject(new SetupError('cancelled', 'cancelled'));
    }
    if (this.failing?.test(line)) {
      onLine('ERROR: No matching distribution found for aiortc==1.16.0');
      return Promise.resolve({ exitCode: 1, lines: ['ERROR: No matching distribution found for aiortc==1.16.0'] });
    }
    const venv = args.includes('venv') ? args[args.length - 1] : undefined;
    if (venv !== undefined) {
      this.files.set(`${venv}/bin/python`, Buffer.from(''));
    }
    return Promise.resolve({ exitCode: 0, lines: [] });
  }

  readdir(folder: string): Promise<string[]> {
    const names = new Set<string>();
    for (const file of this.files.keys()) {
      if (file.startsWith(`${folder}/`)) {
        names.add(file.slice(folder.length + 1).split('/')[0]);
      }
    }
    return Promise.resolve([...names]);
  }

  readFile(file: string): Promise<Buffer> {
    const content = this.files.get(file);
    return content === undefined ? Promise.reject(new Error(`ENOENT ${file}`)) : Promise.resolve(content);
  }

  writeFile(file: string, content: string): Promise<void> {
    this.files.set(file, Buffer.from(content));
    return Promise.resolve();
  }

  mkdir(): Promise<void> {
    return Promise.resolve();
  }

  rename(from: string, to: string): Promise<void> {
    for (const [file, content] of [...this.files]) {
      if (file.startsWith(`${from}/`)) {
        this.files.delete(file);
        this.files.set(to + file.slice(from.length), content);
      }
    }
    return Promise.resolve();
  }

  remove(target: string): Promise<void> {
    for (const file of [...this.files.keys()]) {
      if (file === target || file.startsWith(`${target}/`)) {
        this.files.delete(file);
      }
    }
    return Promise.resolve();
  }

  exists(file: string): Promise<boolean> {
    return Promise.resolve(this.files.has(file) || [...this.files.keys()].some((name) => name.startsWith(`${file}/`)));
  }

  /** Modification times set by a test; anything else was modified just now. */
  readonly mtimes = new Map<string, number>();

  async mtime(file: string): Promise<number | undefined> {
    return (await this.exists(file)) ? (this.mtimes.get(file) ?? Date.now()) : undefined;
  }

  findUv(): Promise<string | undefined> {
    return Promise.resolve(this.uv);
  }

  hasPipConfiguration(): Promise<boolean> {
    return Promise.resolve(this.pipConfigured);
  }

  log(line: string): void {
    this.logged.push(line);
  }

  environments(): string[] {
    return [...new Set([...this.files.keys()].filter((file) => file.startsWith(`${ROOT}/env-`)).map((file) => file.split('/')[3]))];
  }
}

const NO_PROGRESS = { report: () => undefined };
const PYTHON_311 = { python3: { version: [3, 11], executable: '/usr/bin/python3.11' } } satisfies Record<string, FakePython>;

describe('planEnvironment', () => {
  it('reuses the complete environment of the same key and leaves the others for removal', () => {
    assert.deepEqual(planEnvironment('abc', ['env-abc', 'env-old', 'current.json']), {
      folder: 'env-abc',
      build: false,
      stale: ['env-old'],
    });
  });

  it('builds when only a partial one of that key exists, which it never counts as an environment', () => {
    assert.deepEqual(planEnvironment('abc', ['env-abc.partial-12-34', 'env-old']), {
      folder: 'env-abc',
      build: true,
      stale: ['env-old'],
    });
  });
});

describe('environmentKey', () => {
  const inputs = {
    requirements: Buffer.from('a==1'),
    pythonExecutable: '/usr/bin/python3.11',
    pythonVersion: '3.11',
  };

  it('changes with the requirements and the Python, and only with them', () => {
    const key = environmentKey(inputs);

    assert.equal(environmentKey({ ...inputs }), key);
    assert.notEqual(environmentKey({ ...inputs, requirements: Buffer.from('a==2') }), key);
    assert.notEqual(environmentKey({ ...inputs, pythonExecutable: '/usr/bin/python3.12', pythonVersion: '3.12' }), key);
  });
});

describe('installSteps', () => {
  it('installs the locked dependencies with --require-hashes, then the wheel alone, with pip', () => {
    const steps = installSteps({ tool: 'pip' }, '/usr/bin/python3.11', '/s/env.partial', '/ext/req.txt', '/ext/vp.whl', 'linux');

    assert.deepEqual(steps[0].args, ['-I', '-m', 'venv', '/s/env.partial']);
    assert.equal(steps[1].command, '/s/env.partial/bin/python');
    assert.ok(steps[1].args.includes('--require-hashes') && steps[1].args.includes('/ext/req.txt'));
    assert.ok(steps[2].args.includes('--no-deps') && steps[2].args.at(-1) === '/ext/vp.whl');
  });

  it('uses uv for all three steps when it installs', () => {
    const steps = installSteps({ tool: 'uv', uv: '/usr/bin/uv' }, 'python3', 'C:\\s\\env', 'req.txt', 'vp.whl', 'win32');

    assert.ok(steps.every((step) => step.command === '/usr/bin/uv'));
    assert.ok(steps[1].args.includes('--require-hashes'));
    assert.ok(steps[1].args.includes(path.win32.join('C:\\s\\env', 'Scripts', 'python.exe')));
  });
});

describe('PythonEnvironment', () => {
  it('builds on first use into a partial folder renamed into place, then reuses it without running anything', async () => {
    const host = new FakeHost(PYTHON_311);
    const environment = new PythonEnvironment(host);
    const steps: string[] = [];

    const python = await environment.ensure([PATH_PYTHON], { report: (step) => steps.push(step) });

    assert.match(python, /^\/storage\/python\/env-[0-9a-f]{16}\/bin\/python$/);
    assert.equal(host.commands.length, 3);
    assert.match(host.commands[0], /^\/usr\/bin\/python3\.11 -I -m venv \/storage\/python\/env-[0-9a-f]{16}\.partial-/);
    assert.deepEqual(steps, ['looking for Python', 'creating the environment', 'installing the dependencies', 'installing VoicePilot']);
    assert.equal(host.environments().length, 1);

    const again = new PythonEnvironment(host);
    assert.equal(await again.existing(), python);
    assert.equal(await again.ensure([PATH_PYTHON], NO_PROGRESS), python);
    assert.equal(host.commands.length, 3);
  });

  it('refreshes when an update brings new requirements, and removes the old environment', async () => {
    const host = new FakeHost(PYTHON_311);
    const old = await new PythonEnvironment(host).ensure([PATH_PYTHON], NO_PROGRESS);

    host.files.set(`${EXTENSION}/requirements/py3.11.txt`, Buffer.from('aiortc==1.17.0 --hash=sha256:cc\n'));
    const environment = new PythonEnvironment(host);
    assert.equal(await environment.existing(), undefined);
    const fresh = await environment.ensure([PATH_PYTHON], NO_PROGRESS);

    assert.notEqual(fresh, old);
    assert.equal(host.commands.length, 6);
    assert.deepEqual(host.environments(), [fresh.split('/')[3]]);
  });

  it('keeps the environment through an update with the same requirements, reinstalling only the wheel', async () => {
    const host = new FakeHost(PYTHON_311);
    const before = await new PythonEnvironment(host).ensure([PATH_PYTHON], NO_PROGRESS);

    host.files.set(WHEEL, Buffer.from('wheel of the update'));
    const environment = new PythonEnvironment(host);
    assert.equal(await environment.existing(), undefined);
    const steps: string[] = [];
    const after = await environment.ensure([PATH_PYTHON], { report: (step) => steps.push(step) });

    assert.equal(after, before);
    assert.deepEqual(steps, ['looking for Python', 'updating VoicePilot']);
    assert.equal(host.commands.length, 4);
    assert.match(host.commands[3], /--no-deps .*voicepilot-0\.1\.0-py3-none-any\.whl --force-reinstall$/);
    assert.equal(await new PythonEnvironment(host).existing(), before);
  });

  it("sweeps the partial environments older than an hour that a reloaded window left, not another window's", async () => {
    const host = new FakeHost(PYTHON_311);
    const abandoned = `${ROOT}/env-0123456789abcdef.partial-41-1700000000000`;
    const underWay = `${ROOT}/env-0123456789abcdef.partial-42-1700000000001`;
    host.files.set(`${abandoned}/bin/python`, Buffer.from(''));
    host.files.set(`${underWay}/bin/python`, Buffer.from(''));
    host.mtimes.set(abandoned, Date.now() - PARTIAL_MAX_AGE_MS - 60_000);
    host.mtimes.set(underWay, Date.now() - 5 * 60_000);

    const python = await new PythonEnvironment(host).ensure([PATH_PYTHON], NO_PROGRESS);

    const left = host.environments().sort();
    assert.deepEqual(left, [path.basename(underWay), python.split('/')[3]].sort());
    assert.ok(host.logged.some((line) => line.includes(path.basename(abandoned))));
  });

  it('leaves no half-made environment when the index refuses, and a retry succeeds', async () => {
    const host = new FakeHost(PYTHON_311);
    host.failing = /--require-hashes/;
    const environment = new PythonEnvironment(host);

    await assert.rejects(environment.ensure([PATH_PYTHON], NO_PROGRESS), (error: unknown) => {
      assert.ok(error instanceof SetupError);
      assert.equal(error.kind, 'installFailed');
      assert.equal(error.detail, 'No matching distribution found for aiortc==1.16.0');
      return true;
    });
    assert.deepEqual(host.environments(), []);
    assert.equal(await environment.existing(), undefined);

    host.failing = undefined;
    assert.match(await environment.ensure([PATH_PYTHON], NO_PROGRESS), /env-[0-9a-f]{16}\/bin\/python$/);
  });

  it('leaves nothing behind when the user cancels mid-install', async () => {
    const host = new FakeHost(PYTHON_311);
    host.cancelling = /--require-hashes/;

    await assert.rejects(new PythonEnvironment(host).ensure([PATH_PYTHON], NO_PROGRESS), { kind: 'cancelled' });
    assert.deepEqual(host.environments(), []);
    assert.equal(host.files.has(`${ROOT}/current.json`), false);
  });

  it('takes the first supported Python and reports the unsupported ones it found', async () => {
    const host = new FakeHost({
      '/opt/old/python': { version: [3, 9], executable: '/opt/old/python' },
      python3: { version: [3, 12], executable: '/usr/bin/python3.12' },
    });
    const bases: BasePython[] = [{ command: '/opt/old/python', source: 'chosen by you' }, PATH_PYTHON];

    await new PythonEnvironment(host).ensure(bases, NO_PROGRESS);
    assert.match(host.commands[0], /^\/usr\/bin\/python3\.12 -I -m venv/);

    await assert.rejects(new PythonEnvironment(new FakeHost({ python3: { version: [3, 9], executable: '/usr/bin/python3.9' } })).ensure([PATH_PYTHON], NO_PROGRESS), {
      name: 'SetupError',
      kind: 'unsupportedPython',
      detail: 'Python 3.9 (python3)',
    });
  });

  it('says so when no Python runs at all', async () => {
    await assert.rejects(new PythonEnvironment(new FakeHost({})).ensure([PATH_PYTHON, { command: 'python', source: 'PATH' }], NO_PROGRESS), {
      kind: 'noPython',
    });
  });

  it('installs with uv when it is on PATH, but with pip when the user configured pip', async () => {
    const withUv = new FakeHost(PYTHON_311);
    withUv.uv = '/usr/local/bin/uv';
    await new PythonEnvironment(withUv).ensure([PATH_PYTHON], NO_PROGRESS);
    assert.ok(withUv.commands.every((command) => command.startsWith('/usr/local/bin/uv ')));

    const configured = new FakeHost(PYTHON_311);
    configured.uv = '/usr/local/bin/uv';
    configured.pipConfigured = true;
    await new PythonEnvironment(configured).ensure([PATH_PYTHON], NO_PROGRESS);
    assert.ok(configured.commands.every((command) => !command.startsWith('/usr/local/bin/uv ')));
  });

  it('refuses a build of the extension without the wheel', async () => {
    const host = new FakeHost(PYTHON_311);
    host.files.delete(WHEEL);

    await assert.rejects(new PythonEnvironment(host).ensure([PATH_PYTHON], NO_PROGRESS), { kind: 'incompleteExtension' });
  });
});
