/**
 * `mc/config`: the manifest's `config` block merged with `key=value` arguments of mcconfig, frozen
 * (tools/mcmanifest.js). A value given on the command line arrives as a string, so every value is
 * read through a checking helper (hal/moddable/board.ts).
 */
declare module 'mc/config' {
  const config: { readonly [key: string]: unknown };
  export default config;
}
