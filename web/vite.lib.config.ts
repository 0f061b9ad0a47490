import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import tailwindcss from "@tailwindcss/vite";

// The library build (npm run build:lib → dist-lib/), in two passes:
// --mode react: dist-lib/kalcifer-editor.js, the React component for React
//   apps (react and react-dom are theirs: left out, peer dependencies), and
//   dist-lib/kalcifer-editor.css;
// --mode element: dist-lib/kalcifer-element.js, self-contained (React
//   included), which registers <kalcifer-editor> for any page.
// Type declarations come from tsc (tsconfig.lib.json) into dist-lib/types/.
export default defineConfig(({ mode }) => {
  const element = mode === "element";
  return {
    plugins: [react(), tailwindcss()],
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
    build: {
      outDir: "dist-lib",
      emptyOutDir: !element,
      sourcemap: false,
      target: "es2022",
      copyPublicDir: false,
      chunkSizeWarningLimit: 1200,
      lib: {
        entry: element ? "src/embed/register.ts" : "src/embed/index.ts",
        formats: ["es"],
        fileName: () => (element ? "kalcifer-element.js" : "kalcifer-editor.js"),
        cssFileName: "kalcifer-editor",
      },
      rollupOptions: {
        external: element ? [] : [/^react($|\/)/, /^react-dom($|\/)/],
        output: element ? { codeSplitting: false } : {},
      },
    },
  };
});
