/**
 * `instrumentation` (modules/base/instrumentation). In builds without instrumentation (release
 * builds without -i) every function returns undefined (modInstrumentation.c, #else branch).
 * "XS Slot Heap Used" and "XS Chunk Heap Used" are bytes (xs/platforms/mc/xsHosts.c).
 */
declare module 'instrumentation' {
  const Instrumentation: {
    map(name: string): number | undefined;
    get(index: number): number | undefined;
    name(index: number): string | undefined;
  };
  export default Instrumentation;
}
