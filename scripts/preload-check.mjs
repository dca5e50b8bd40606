// The device bundle is preloaded: the Moddable linker (xsl) runs its module body at build time and
// puts what it builds into flash. Some things a module body can build are known to break there:
//
//  - a RegExp made at module level: XS 8.2.3 keeps it in flash without match data, and every
//    exec()/test() on it then takes a path that mallocs a block the GC treats as its own (heap
//    corruption, a crash within seconds of the first reading, a leak per match on the ESP32);
//  - a call into an SDK module at module level: native code cannot run while linking.
//
// findPreloadHazards lists them with their line; preloadCheck() is the rollup plugin that fails
// the device build on any. Code in a function body runs later, on the device, and is fine, except
// in a function that the module body calls at once (an IIFE), which runs at preload too.

const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

function lineOf(code, offset) {
  let line = 1;
  for (let i = 0; i < offset && i < code.length; i++) if (code.charCodeAt(i) === 10) line++;
  return line;
}

/** @param {import('estree').Program} ast @param {string} code @param {(s: string) => boolean} isExternal */
export function findPreloadHazards(ast, code, isExternal = () => false) {
  const hazards = [];
  const imported = new Map(); // local name → module specifier of an external import
  for (const node of ast.body) {
    if (node.type === 'ImportDeclaration' && isExternal(node.source.value)) {
      for (const s of node.specifiers) imported.set(s.local.name, node.source.value);
    }
  }
  const report = (node, what) => hazards.push({ line: lineOf(code, node.start), what });

  // deferred: inside a function (or a non-static class field) that the module body does not call
  const visit = (node, parent, deferred) => {
    if (!node || typeof node.type !== 'string') return;
    if (FUNCTION_TYPES.has(node.type)) {
      const calledNow = parent && parent.type === 'CallExpression' && parent.callee === node;
      deferred = deferred || !calledNow;
    }
    if (!deferred) {
      if (node.type === 'Literal' && node.regex) report(node, `RegExp /${node.regex.pattern}/${node.regex.flags} made at module level`);
      if ((node.type === 'NewExpression' || node.type === 'CallExpression') && node.callee.type === 'Identifier') {
        if (node.callee.name === 'RegExp') report(node, 'RegExp made at module level');
        const from = imported.get(node.callee.name);
        if (from !== undefined) report(node, `${node.callee.name}() from "${from}" called at module level`);
      }
      if ((node.type === 'NewExpression' || node.type === 'CallExpression') && node.callee.type === 'MemberExpression'
        && node.callee.object.type === 'Identifier' && imported.has(node.callee.object.name)) {
        report(node, `${node.callee.object.name}.${node.callee.property.name ?? '?'}() from "${imported.get(node.callee.object.name)}" called at module level`);
      }
    }
    for (const key of Object.keys(node)) {
      if (key === 'parent') continue;
      const child = node[key];
      // an instance field's initializer runs per construction, not when the module loads
      const childDeferred = deferred || (node.type === 'PropertyDefinition' && key === 'value' && !node.static);
      if (Array.isArray(child)) for (const c of child) visit(c, node, childDeferred);
      else if (child && typeof child.type === 'string') visit(child, node, childDeferred);
    }
  };
  visit(ast, null, false);
  return hazards;
}

/** Rollup plugin: fails the build when the bundle's module body builds something preloading breaks. */
export function preloadCheck(externals) {
  const isExternal = (id) => externals.some((e) => (typeof e === 'string' ? e === id : e.test(id)));
  return {
    name: 'preload-check',
    renderChunk(code, chunk) {
      const hazards = findPreloadHazards(this.parse(code), code, isExternal);
      if (hazards.length > 0) {
        this.error(`${chunk.fileName} cannot be preloaded on the device:\n`
          + hazards.map((h) => `  line ${h.line}: ${h.what}`).join('\n')
          + '\nMake it on first use inside a function instead (see hal/moddable/README.md, "Preload rules").');
      }
      return null;
    },
  };
}
