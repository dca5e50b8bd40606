/** The firmware version, one place for both targets (keep equal to package.json). */
export const VERSION = '0.1.0';
