import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    coverage: {
      provider: "v8",
      include: ["src/**/*.ts"],
      // main.ts only starts the server; the tests call the handler.
      exclude: ["src/main.ts"],
      reporter: ["text", "json-summary"],
    },
  },
});
