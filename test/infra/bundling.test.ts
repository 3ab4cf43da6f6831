import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { CuecastStack } from '../../lib/cuecast-stack';

/**
 * The one test path that bundles for real with the local esbuild, as `cdk deploy` does,
 * and loads each bundle the way Lambda would.
 */
describe('when the functions are bundled', () => {
  let assets: Array<{ description: string; file: string }>;
  let outdir: string;

  beforeAll(() => {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cuecast-bundle-'));
    const app = new App({ outdir });
    // Functions only: the pages' Vite build at synth is what every local suite serves (global setup).
    const stack = new CuecastStack(app, 'Cuecast', { pages: false });
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template;
    assets = Object.values(
      template.Resources as Record<
        string,
        { Type: string; Properties: { Description: string; Code: { S3Key: string } } }
      >,
    )
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((fn) => ({
        description: fn.Properties.Description,
        file: path.join(
          outdir,
          `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`,
          'index.mjs',
        ),
      }));
  }, 120_000);

  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it('writes one ESM bundle per function, with a source map', () => {
    expect(assets).toHaveLength(13);
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
