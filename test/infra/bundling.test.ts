import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CloudAssembly } from '../../local/assembly';
import { isCdkDeployHelper } from './build-stack';

/**
 * The bundles exactly as `cdk synth` wrote them (test/global-setup.ts synthesizes cdk.out with the
 * pinned CLI, which bundles with the local esbuild as `cdk deploy` does), each loaded the way
 * Lambda would.
 */
describe('when the functions are bundled', () => {
  let assets: Array<{ description: string; file: string }>;

  beforeAll(() => {
    const assembly = new CloudAssembly(path.join(__dirname, '..', '..', 'cdk.out'));
    const { template } = assembly.stack();
    assets = Object.entries(template.Resources)
      .filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && !isCdkDeployHelper(id))
      .map(([, fn]) => ({
        description: String(fn.Properties?.Description),
        file: path.join(assembly.functionAssetDir(fn), 'index.mjs'),
      }));
  });

  it('writes one ESM bundle per function, with a source map', () => {
    expect(assets).toHaveLength(14);
    for (const { file } of assets) {
      expect(fs.existsSync(file)).toBe(true);
      expect(fs.existsSync(`${file}.map`)).toBe(true);
    }
  });

  it('bundles the SDK rather than relying on the runtime copy', () => {
    for (const { file } of assets) {
      const code = fs.readFileSync(file, 'utf8');
      expect(code).not.toMatch(/from\s*["']@aws-sdk\//);
    }
  });

  it('loads every bundle in a fresh node process, as Lambda does, and finds an exported handler', () => {
    for (const { description, file } of assets) {
      const loaded = execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(typeof m.handler);`,
        ],
        { env: { ...process.env }, encoding: 'utf8' },
      ).trim();
      expect({ description, loaded }).toEqual({ description, loaded: 'function' });
    }
  });
});
