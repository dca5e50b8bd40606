// Before any test file: one line saying which test programs are missing and the apt-get line that
// installs them (the tests that need them then fail with the same line).
import { TOOLS, missingMessage, type ToolName } from './tools.js';

export default function setup(): void {
  const missing = (Object.keys(TOOLS) as ToolName[]).filter((n) => !TOOLS[n].present());
  if (missing.length) console.warn(`meterbridge tests: ${missingMessage(missing)}`);
}
