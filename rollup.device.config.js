// The ESP32 bundle: hal/moddable/main.ts and the core it imports, as ONE ES module that mcconfig
// takes as the `main` module (manifest.json: "main": "./dist/moddable/main"). Every Moddable SDK
// module stays an external import; XS resolves those specifiers against the manifest's module
// names. TypeScript is compiled here (ES2022), because mcconfig's own TS step targets an ES
// version current TypeScript rejects (shared research §1).
//
//   npx rollup -c rollup.device.config.js      → dist/moddable/main.js
import typescript from '@rollup/plugin-typescript';
import { preloadCheck } from './scripts/preload-check.mjs';

/** Module specifiers provided by the Moddable SDK or by this firmware's native modules. */
export const DEVICE_EXTERNALS = [
  /^embedded:/,
  /^meterbridge\//,
  'mqtt',
  'http',
  'socket',
  'wifi',
  'net',
  'preference',
  'sntp',
  'mdns',
  'dns/server',
  'crypt',
  'timer',
  'time',
  'ota',
  'instrumentation',
  'debug',
  'mc/config',
  'Resource',
  'flash',
];

export default {
  input: 'hal/moddable/main.ts',
  output: {
    file: 'dist/moddable/main.js',
    format: 'es',
    // no helpers, no source map: the file goes through xsc as it is
    sourcemap: false,
    generatedCode: 'es2015',
  },
  external: DEVICE_EXTERNALS,
  // a missing external would otherwise be resolved from node_modules or fail late on the device
  onwarn(warning, warn) {
    if (warning.code === 'UNRESOLVED_IMPORT') throw new Error(`unresolved import in the device bundle: ${warning.exporter ?? warning.message}`);
    warn(warning);
  },
  plugins: [
    typescript({
      tsconfig: './tsconfig.device.json',
      noEmit: false,
      noEmitOnError: true,
      declaration: false,
      sourceMap: false,
      include: ['firmware/**/*.ts', 'hal/hal.ts', 'hal/moddable/**/*.ts'],
    }),
    preloadCheck(DEVICE_EXTERNALS),
  ],
};
