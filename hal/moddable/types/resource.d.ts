/**
 * `Resource` (modules/files/resource; documentation/files/files.md § Resource): a manifest
 * resource in flash as a read-only host buffer. The constructor throws when it does not exist.
 */
declare module 'Resource' {
  export default class Resource extends HostBuffer {
    constructor(path: string);
    static exists(path: string): boolean;
    slice(begin: number, end?: number): ArrayBuffer;
  }
}
