// Bundles the extension (and, with --tests, the unit tests) with esbuild.
//
//   node esbuild.mjs           dist/extension.js, the file package.json's "main" names
//   node esbuild.mjs --watch   the same, rebuilt on every change (the "npm: watch" task reads the
//                              "[watch]" lines and the error format below)
//   node esbuild.mjs --tests   one out/test/*.test.js per tests/extension/unit/*.test.ts, for node --test
//   node esbuild.mjs --host-tests   out/host/index.js, the extension-host tests (tests/extension/host)
//                              that scripts/e2e has VS Code load through extensionTestsPath
//
// vscode-languageclient is bundled into dist/extension.js, which is why `vsce package` runs with
// --no-dependencies.
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.dirname(fileURLToPath(import.meta.url));
const watch = process.argv.includes('--watch');
const tests = process.argv.includes('--tests');
const hostTests = process.argv.includes('--host-tests');

/** Shared by both builds: Node's CommonJS, as the extension host loads it; `vscode` is provided at runtime. */
const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['vscode'],
  // jsonc-parser's "main" is a UMD build that requires its parts at run time, which a bundle
  // does not have: its ES module build bundles whole.
  mainFields: ['module', 'main'],
  sourcemap: true,
  logLevel: 'silent',
  plugins: [reportProblems()],
};

/** Prints build problems as `✘ [ERROR] message` + `    file:line:col:`, the format tasks.json's matcher reads. */
function reportProblems() {
  return {
    name: 'report-problems',
    setup(build) {
      build.onStart(() => {
        if (watch) console.log('[watch] build started');
      });
      build.onEnd((result) => {
        const problems = [
          ...result.errors.map((message) => ({ kind: 'ERROR', message })),
          ...result.warnings.map((message) => ({ kind: 'WARNING', message })),
        ];
        for (const { kind, message } of problems) {
          console.error(`✘ [${kind}] ${message.text}`);
          const { location } = message;
          // esbuild counts columns from 0, VS Code's problem matchers from 1.
          if (location) console.error(`    ${location.file}:${location.line}:${location.column + 1}:`);
        }
        if (watch) console.log('[watch] build finished');
      });
    },
  };
}

async function buildExtension() {
  const options = {
    ...common,
    entryPoints: [path.join(root, 'extension/src/extension.ts')],
    outfile: path.join(root, 'dist/extension.js'),
  };
  // vscode-languageclient kills a sidecar that ignores shutdown with this script, which it looks
  // for next to its own code: once bundled, that is dist/.
  await mkdir(path.join(root, 'dist'), { recursive: true });
  await copyFile(
    path.join(root, 'node_modules/vscode-languageclient/lib/node/terminateProcess.sh'),
    path.join(root, 'dist/terminateProcess.sh'),
  );
  if (watch) {
    const context = await esbuild.context(options);
    await context.watch();
    return;
  }
  await esbuild.build(options);
}

async function buildTests() {
  const testDir = path.join(root, 'tests/extension/unit');
  const entryPoints = (await readdir(testDir))
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => path.join(testDir, name));
  // Stale bundles of renamed or deleted tests would otherwise keep running.
  await rm(path.join(root, 'out/test'), { recursive: true, force: true });
  // The unit tests cover the modules that do not import `vscode`: left external, a stray import
  // fails the test run with "Cannot find module 'vscode'" instead of passing unnoticed.
  await esbuild.build({ ...common, entryPoints, outdir: path.join(root, 'out/test') });
}

async function buildHostTests() {
  await rm(path.join(root, 'out/host'), { recursive: true, force: true });
  await esbuild.build({
    ...common,
    entryPoints: [path.join(root, 'tests/extension/host/index.ts')],
    outfile: path.join(root, 'out/host/index.js'),
  });
}

try {
  await (hostTests ? buildHostTests() : tests ? buildTests() : buildExtension());
} catch {
  // esbuild has already reported the problems through reportProblems().
  process.exitCode = 1;
}
