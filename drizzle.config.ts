import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes a new SQL migration into src/db/migrations from the schema's diff.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './src/db/migrations',
});
