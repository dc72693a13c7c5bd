// Builds ../assets/app.js from src/main.js and interop/js's verifier with
// the esbuild of package-lock.json. `node build.mjs --stdout` writes the
// bundle to stdout instead (the Go test compares it with the embedded one).
import * as esbuild from 'esbuild'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const toStdout = process.argv.includes('--stdout')
const res = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ['src/main.js'],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  minify: true,
  legalComments: 'none',
  charset: 'utf8',
  // interop/js has no node_modules of its own: its imports resolve here
  nodePaths: [path.join(here, 'node_modules')],
  write: !toStdout,
  outfile: path.join(here, '..', 'assets', 'app.js'),
  logLevel: 'warning'
})
if (toStdout) process.stdout.write(res.outputFiles[0].contents)
