#!/usr/bin/env node
// The `woolly` command. Woolly's sources are TypeScript run by Node 24's type stripping; npm scripts
// and `npx woolly` put the project's pinned Node 24 (the `node` package) first on PATH.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(
    `woolly needs Node.js 24 or newer (this is ${process.version}). Run it through npm (\`npx woolly …\` or \`npm run woolly -- …\`), which uses the project's pinned Node 24.`,
  );
  process.exit(1);
}
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
