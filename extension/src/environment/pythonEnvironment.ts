// VoicePilot's private Python environment: a venv under the extension's global storage with the
// sidecar's hash-locked dependencies (requirements/py3.X.txt) and the voicepilot wheel, both
// carried by the .vsix. It is built in a temporary directory renamed into place only when
// complete, named by a key over the requirements and the Python, so an update with new
// requirements builds a fresh one and one without reuses it, only reinstalling the wheel. The
// decisions are pure and unit-tested; the processes and the file system come in through EnvironmentHost.
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { environmentPython, SUPPORTED_MINOR_VERSIONS, type BasePython } from './findPython';

export { SUPPORTED_MINOR_VERSIONS };
import { failureDetail, SetupError, withoutUrlCredentials } from './setupErrors';


/** Printed by a candidate Python: its version and the executable a venv would be made from. */
export const PROBE_SCRIPT = 'import json, sys; print(json.dumps([sys.version_info[0], sys.version_info[1], sys.executable]))';

export interface ProbedPython {
  readonly base: BasePython;
  readonly major: number;
  readonly minor: number;
  readonly executable: string;
}

export interface RunResult {
  /** undefined: the program could not be started at all (not found). */
  readonly exitCode: number | undefined;
  readonly lines: readonly string[];
}

export interface EnvironmentHost {
  /** The extension's global storage folder (context.globalStorageUri.fsPath). */
  readonly storagePath: string;
  readonly extensionPath: string;
  readonly platform: NodeJS.Platform;
  /** Runs a program; every output line also goes to onLine. Rejects with a 'cancelled' SetupError on abort. */
  run(command: string, args: readonly string[], onLine: (line: string) => void, signal?: AbortSignal): Promise<RunResult>;
  readdir(folder: string): Promise<string[]>;
  readFile(file: string): Promise<Buffer>;
  writeFile(file: string, content: string): Promise<void>;
  mkdir(folder: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  remove(folderOrFile: string): Promise<void>;
  exists(file: string): Promise<boolean>;
  /** When `file` (or folder) was last modified, in ms since the epoch; undefined when it is gone. */
  mtime(file: string): Promise<number | undefined>;
  /** uv's path when it is on PATH. */
  findUv(): Promise<string | undefined>;
  /** Whether the user configured pip (a config file or PIP_* variables), which uv would ignore. */
  hasPipConfiguration(): Promise<boolean>;
  log(line: string): void;
}

/** What the environment's dependencies are made of; its hash names the environment's folder. */
export interface EnvironmentInputs {
  readonly requirements: Buffer;
  readonly pythonExecutable: string;
  readonly pythonVersion: string;
}

export function environmentKey(inputs: EnvironmentInputs): string {
  return digest([inputs.requirements, inputs.pythonExecutable, inputs.pythonVersion]).slice(0, 16);
}

/** Which voicepilot wheel an environment has, kept in WHEEL_STAMP inside it. */
export function wheelStamp(wheelName: string, wheel: Buffer): string {
  return `${wheelName} ${digest([wheel])}`;
}

const WHEEL_STAMP = 'voicepilot-wheel.txt';

function digest(parts: readonly (Buffer | string)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(part);
    hash.update('\0');
  }
  return hash.digest('hex');
}

export const ENVIRONMENT_PREFIX = 'env-';
const PARTIAL_MARKER = '.partial-';
/**
 * A partial folder this old is the remains of a window reloaded or closed mid-setup (no install
 * takes an hour); a younger one may be another window's setup under way.
 */
export const PARTIAL_MAX_AGE_MS = 60 * 60 * 1000;

export interface EnvironmentPlan {
  /** The complete environment to use as it is, or the one to build (then `build` is true). */
  readonly folder: string;
  readonly build: boolean;
  /** Complete environments of other keys: an extension update replaced them. */
  readonly stale: readonly string[];
}

/** Reuse the environment of `key` when it is complete (renamed into place), else build it. */
export function planEnvironment(key: string, entries: readonly string[]): EnvironmentPlan {
  const folder = `${ENVIRONMENT_PREFIX}${key}`;
  const complete = entries.filter((entry) => entry.startsWith(ENVIRONMENT_PREFIX) && !entry.includes(PARTIAL_MARKER));
  return { folder, build: !complete.includes(folder), stale: complete.filter((entry) => entry !== folder) };
}

export function supportsPython(major: number, minor: number): boolean {
  return major === 3 && (SUPPORTED_MINOR_VERSIONS as readonly number[]).includes(minor);
}

/** The probe's output, or undefined when it printed something else. */
export function parseProbe(base: BasePython, lines: readonly string[]): ProbedPython | undefined {
  for (const line of lines) {
    try {
      const value: unknown = JSON.parse(line);
      if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'number' && typeof value[2] === 'string') {
        return { base, major: value[0], minor: value[1], executable: value[2] };
      }
    } catch {
      // Not the probe's line (a warning the interpreter printed first).
    }
  }
  return undefined;
}

export type Installer = { readonly tool: 'uv'; readonly uv: string } | { readonly tool: 'pip' };

export interface InstallStep {
  /** Shown in the progress notification. */
  readonly title: string;
  readonly command: string;
  readonly args: readonly string[];
}

/** The commands that build the environment in `folder` from `python`. */
export function installSteps(
  installer: Installer,
  python: string,
  folder: string,
  requirements: string,
  wheel: string,
  platform: NodeJS.Platform,
): InstallStep[] {
  const venvPython = environmentPython(folder, platform);
  if (installer.tool === 'uv') {
    return [
      { title: 'creating the environment', command: installer.uv, args: ['venv', '--python', python, folder] },
      {
        title: 'installing the dependencies',
        command: installer.uv,
        // --native-tls: the system's certificates, as pip uses them (a proxy's CA installed there).
        args: ['pip', 'install', '--python', venvPython, '--native-tls', '--require-hashes', '--only-binary', ':all:', '-r', requirements],
      },
      {
        title: 'installing VoicePilot',
        command: installer.uv,
        args: ['pip', 'install', '--python', venvPython, '--no-deps', '--no-index', wheel],
      },
    ];
  }
  // -I: isolated mode, so no current directory and no PYTHON* variable reaches sys.path (Python 3.10
  // has no PYTHONSAFEPATH); pip still reads its own PIP_* variables and configuration files.
  const pip = ['-I', '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off'];
  return [
    { title: 'creating the environment', command: python, args: ['-I', '-m', 'venv', folder] },
    {
      title: 'installing the dependencies',
      command: venvPython,
      args: [...pip, '--require-hashes', '--only-binary', ':all:', '-r', requirements],
    },
    { title: 'installing VoicePilot', command: venvPython, args: [...pip, '--no-deps', '--no-index', wheel] },
  ];
}

/** What the .vsix carries for the private environment, and where. */
export function bundledFiles(extensionPath: string, minor: number): { requirements: string; wheelFolder: string } {
  return {
    requirements: path.join(extensionPath, 'requirements', `py3.${minor}.txt`),
    wheelFolder: path.join(extensionPath, 'dist', 'python'),
  };
}

/** The environment in use, remembered so that a new window reuses it without running any Python. */
interface CurrentEnvironment {
  readonly folder: string;
  readonly probed: ProbedPython;
}

export interface SetupProgress {
  report(step: string): void;
}

export class PythonEnvironment {
  constructor(private readonly host: EnvironmentHost) {}

  private get root(): string {
    return path.join(this.host.storagePath, 'python');
  }

  /** The interpreter of the environment set up before, when it is still current; runs no Python. */
  async existing(): Promise<string | undefined> {
    const current = await this.readCurrent();
    if (current === undefined) {
      return undefined;
    }
    const inputs = await this.inputsFor(current.probed).catch(() => undefined);
    if (inputs === undefined || planEnvironment(inputs.key, [current.folder]).build) {
      return undefined;
    }
    const folder = path.join(this.root, current.folder);
    const python = environmentPython(folder, this.host.platform);
    // An update with the same requirements still brings its own wheel: ensure() installs it.
    return (await this.host.exists(python)) && (await this.stampOf(folder)) === inputs.stamp ? python : undefined;
  }

  /**
   * The interpreter of an environment for this extension: the current one, or one built from the
   * first supported Python of `bases`. Rejects with a SetupError.
   */
  async ensure(bases: readonly BasePython[], progress: SetupProgress, signal?: AbortSignal): Promise<string> {
    const existing = await this.existing();
    if (existing !== undefined) {
      return existing;
    }
    progress.report('looking for Python');
    const probed = await this.pickPython(bases, signal);
    const inputs = await this.inputsFor(probed);
    await this.host.mkdir(this.root);
    const entries = await this.host.readdir(this.root);
    await this.sweepPartials(entries);
    const plan = planEnvironment(inputs.key, entries);
    const folder = path.join(this.root, plan.folder);
    if (plan.build) {
      await this.build(probed, folder, inputs.stamp, progress, signal);
    } else if ((await this.stampOf(folder)) !== inputs.stamp) {
      await this.updateWheel(probed, folder, inputs.stamp, progress, signal);
    } else {
      this.host.log(`Reusing VoicePilot's environment ${folder}.`);
    }
    await this.host.writeFile(path.join(this.root, 'current.json'), JSON.stringify({ folder: plan.folder, probed }));
    for (const stale of plan.stale) {
      this.host.log(`Removing the environment of an earlier version: ${stale}`);
      await this.host
        .remove(path.join(this.root, stale))
        .catch((error: unknown) => this.host.log(`Could not remove ${stale}: ${String(error)}`));
    }
    return environmentPython(folder, this.host.platform);
  }

  /** Removes the partial environments older than PARTIAL_MAX_AGE_MS that setups left behind. */
  private async sweepPartials(entries: readonly string[]): Promise<void> {
    const now = Date.now();
    for (const entry of entries.filter((name) => name.startsWith(ENVIRONMENT_PREFIX) && name.includes(PARTIAL_MARKER))) {
      const folder = path.join(this.root, entry);
      const modified = await this.host.mtime(folder);
      if (modified !== undefined && now - modified > PARTIAL_MAX_AGE_MS) {
        this.host.log(`Removing a setup's remains: ${entry}`);
        await this.host.remove(folder).catch((error: unknown) => this.host.log(`Could not remove ${entry}: ${String(error)}`));
      }
    }
  }

  /** Forgets the current environment, so the next ensure() picks a Python again. */
  async forget(): Promise<void> {
    await this.host.remove(path.join(this.root, 'current.json'));
  }

  private async pickPython(bases: readonly BasePython[], signal?: AbortSignal): Promise<ProbedPython> {
    const unsupported: string[] = [];
    for (const base of bases) {
      const result = await this.host.run(base.command, ['-I', '-c', PROBE_SCRIPT], () => undefined, signal);
      const probed = result.exitCode === 0 ? parseProbe(base, result.lines) : undefined;
      if (probed === undefined) {
        this.host.log(`No usable Python at ${base.command} (from ${base.source}).`);
        continue;
      }
      if (supportsPython(probed.major, probed.minor)) {
        this.host.log(`Setting up with Python ${probed.major}.${probed.minor} at ${probed.executable} (from ${base.source}).`);
        return probed;
      }
      unsupported.push(`Python ${probed.major}.${probed.minor} (${base.command})`);
    }
    throw unsupported.length > 0
      ? new SetupError('unsupportedPython', unsupported.join(', '))
      : new SetupError('noPython', bases.map((base) => base.command).join(', '));
  }

  private async inputsFor(probed: ProbedPython): Promise<{ key: string; stamp: string }> {
    const { requirements, wheel } = await this.bundled(probed.minor);
    const key = environmentKey({
      requirements: await this.host.readFile(requirements),
      pythonExecutable: probed.executable,
      pythonVersion: `${probed.major}.${probed.minor}`,
    });
    return { key, stamp: wheelStamp(path.basename(wheel), await this.host.readFile(wheel)) };
  }

  private async stampOf(folder: string): Promise<string | undefined> {
    return this.host
      .readFile(path.join(folder, WHEEL_STAMP))
      .then((content) => content.toString('utf8'), () => undefined);
  }

  private async installer(): Promise<Installer> {
    const uv = (await this.host.hasPipConfiguration()) ? undefined : await this.host.findUv();
    return uv === undefined ? { tool: 'pip' } : { tool: 'uv', uv };
  }

  private async runStep(step: InstallStep, python: string, progress: SetupProgress, signal?: AbortSignal): Promise<void> {
    progress.report(step.title);
    this.host.log(`$ ${step.command} ${step.args.join(' ')}`);
    const result = await this.host.run(step.command, step.args, (line) => this.host.log(withoutUrlCredentials(line)), signal);
    if (result.exitCode !== 0) {
      throw stepFailure(step, result, python);
    }
  }

  /** The dependencies are current, the wheel is not (an update that kept the requirements): reinstall it alone. */
  private async updateWheel(
    probed: ProbedPython,
    folder: string,
    stamp: string,
    progress: SetupProgress,
    signal?: AbortSignal,
  ): Promise<void> {
    const { requirements, wheel } = await this.bundled(probed.minor);
    const steps = installSteps(await this.installer(), probed.executable, folder, requirements, wheel, this.host.platform);
    const step = steps[steps.length - 1];
    this.host.log(`Updating VoicePilot in its environment ${folder}.`);
    await this.runStep({ ...step, title: 'updating VoicePilot', args: [...step.args, '--force-reinstall'] }, probed.executable, progress, signal);
    await this.host.writeFile(path.join(folder, WHEEL_STAMP), stamp);
  }

  private async bundled(minor: number): Promise<{ requirements: string; wheel: string }> {
    const { requirements, wheelFolder } = bundledFiles(this.host.extensionPath, minor);
    const wheels = (await this.host.readdir(wheelFolder).catch(() => [])).filter((name) => /^voicepilot-.*\.whl$/.test(name));
    if (wheels.length !== 1) {
      throw new SetupError('incompleteExtension', `the voicepilot wheel (dist/python/*.whl)`);
    }
    if (!(await this.host.exists(requirements))) {
      throw new SetupError('incompleteExtension', `requirements/${path.basename(requirements)}`);
    }
    return { requirements, wheel: path.join(wheelFolder, wheels[0]) };
  }

  private async build(
    probed: ProbedPython,
    folder: string,
    stamp: string,
    progress: SetupProgress,
    signal?: AbortSignal,
  ): Promise<void> {
    const { requirements, wheel } = await this.bundled(probed.minor);
    const installer = await this.installer();
    const partial = `${folder}${PARTIAL_MARKER}${process.pid}-${Date.now()}`;
    this.host.log(`Building VoicePilot's environment with ${installer.tool} in ${partial}.`);
    try {
      for (const step of installSteps(installer, probed.executable, partial, requirements, wheel, this.host.platform)) {
        await this.runStep(step, probed.executable, progress, signal);
      }
      await this.host.writeFile(path.join(partial, WHEEL_STAMP), stamp);
      await this.host.rename(partial, folder).catch(async (error: unknown) => {
        // Another window finished the same environment first: theirs is as good.
        if (!(await this.host.exists(environmentPython(folder, this.host.platform)))) {
          throw error;
        }
      });
      this.host.log(`VoicePilot's environment is ready: ${folder}`);
    } finally {
      await this.host.remove(partial).catch(() => undefined);
    }
  }

  private async readCurrent(): Promise<CurrentEnvironment | undefined> {
    try {
      const text = (await this.host.readFile(path.join(this.root, 'current.json'))).toString('utf8');
      const value = JSON.parse(text) as CurrentEnvironment;
      return typeof value.folder === 'string' && typeof value.probed?.executable === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  }
}

function stepFailure(step: InstallStep, result: RunResult, python: string): SetupError {
  const output = result.lines.join('\n');
  if (step.title === 'creating the environment' && /ensurepip/i.test(output)) {
    return new SetupError('noVenv', python);
  }
  return new SetupError('installFailed', failureDetail(result.lines));
}
