// Two bundles of the same core: one ES module for Node (with the host HAL and CLI) and one for
// the Moddable SDK, which mcconfig takes as a plain .js module (its own TypeScript step targets
// an ES version current TypeScript rejects, see shared research).
import typescript from '@rollup/plugin-typescript';
import device from './rollup.device.config.js';

const ts = () => typescript({ tsconfig: "./tsconfig.build.json", noEmitOnError: true});

export default [
  {
    input: { core: 'firmware/index.ts', node: 'hal/node/index.ts', cli: 'hal/node/cli.ts' },
    output: { dir: 'dist/node', format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
    external: [/^node:/, 'mqtt-packet', 'serialport'],
    plugins: [ts()],
  },
  {
    input: 'firmware/index.ts',
    output: { file: 'dist/moddable/core.js', format: 'es' },
    plugins: [ts()],
  },
  device, // dist/moddable/main.js: the ESP32 firmware's main module
];
